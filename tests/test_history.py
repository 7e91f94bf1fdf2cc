"""One git log pass reads every watched page's reports, trailers first, footers second;
a cache keyed by commit id makes the next read incremental, and a rewrite resets it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fixtures.repos import commit_files, git
from pulseox_git.client import PulseOxClient
from pulseox_git.page import Page, commit_message, render
from pulseox_git.store.git import GitStore
from pulseox_git.store.git.log import read_history

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)


def history_of(client: PulseOxClient, paths: list[str]):
    store = client.store("owner", "repo")
    return store.run(lambda tip: read_history(store.git, tip, paths))


def import_commits(bare: Path, commits: list[tuple[datetime, dict[str, str | None], bool]]) -> None:
    """Append commits to `main` with ONE `git fast-import` (the git CLI, not the product):
    (time, {path: report or None to delete}, with trailers?) each."""
    tip = (
        git("rev-parse", "--verify", "--quiet", "main", cwd=bare).strip()
        if git("branch", "--list", "main", cwd=bare).strip()
        else ""
    )
    stream = []
    for n, (when, pages, trailers) in enumerate(commits):
        posted = [
            Page(path, "", report or "GOOD", f"n{n}")
            for path, report in pages.items()
            if report is not None
        ]
        message = commit_message(posted, f"commit {n}") if trailers else f"hand edit {n}\n"
        data = message.encode()
        stream.append(
            f"commit refs/heads/main\ncommitter F <f@x> {int(when.timestamp())} +0000\n"
            f"data {len(data)}\n".encode()
            + data
            + b"\n"
        )
        if n == 0 and tip:
            stream.append(f"from {tip}\n".encode())
        for path, report in pages.items():
            if report is None:
                stream.append(f"D {path}\n".encode())
            else:
                text = render(path, f"job {path}", report, when, f"n{n}").encode()
                stream.append(f"M 100644 inline {path}\ndata {len(text)}\n".encode() + text + b"\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=bare, check=True, input=b"".join(stream))


def test_trailers_hand_edits_and_deletions(bare: Path):
    client = PulseOxClient(remote=f"file://{bare}", clock=lambda: T0)
    client.post_many(
        "owner",
        "repo",
        [
            {"path": "a.md", "content": "x"},
            {"path": "b.md", "content": "y", "report": "BAD", "note": "boom"},
        ],
    )
    hand = render("a.md", "edited by hand", "BAD", T0, "by hand")
    commit_files(bare, {"a.md": hand, "unwatched.md": "z"}, date="2026-05-01T13:00:00Z")
    commit_files(bare, {"b.md": "no footer at all"}, date="2026-05-01T14:00:00Z")
    commit_files(bare, {"b.md": None}, date="2026-05-01T15:00:00Z")
    history = history_of(client, ["a.md", "b.md", "never.md"])
    assert [(r.report, r.note, r.problem) for r in history["a.md"]] == [
        ("BAD", "by hand", None),
        ("GOOD", "", None),
    ]
    assert [(r.report, r.problem) for r in history["b.md"]] == [
        (None, "deleted"),
        (None, "no metadata footer"),
        ("BAD", None),
    ]
    assert history["b.md"][-1].note == "boom" and history["b.md"][-1].time == T0
    assert history["a.md"][0].time == datetime(2026, 5, 1, 13, 0, tzinfo=timezone.utc)
    assert history["never.md"] == []


def test_cache_reads_only_new_commits_and_matches_a_cold_read(bare: Path):
    paths = [f"p{i}.md" for i in range(5)]
    import_commits(
        bare, [(T0 + timedelta(minutes=n), {p: "GOOD" for p in paths}, True) for n in range(3)]
    )
    store = GitStore(f"file://{bare}")
    first, outcome = store.run(lambda tip: store.history_cache.read(tip, paths))
    assert outcome.mode == "cold" and outcome.commits_read == 3
    again, outcome = store.run(lambda tip: store.history_cache.read(tip, paths))
    assert outcome.mode == "hit" and outcome.commits_read == 0 and again == first
    import_commits(
        bare,
        [
            (T0 + timedelta(minutes=10), {"p1.md": "BAD"}, True),
            (T0 + timedelta(minutes=11), {"p2.md": "BAD"}, False),
        ],
    )
    warm, outcome = store.run(lambda tip: store.history_cache.read(tip, paths))
    assert outcome.mode == "incremental" and outcome.commits_read == 2
    assert warm == store.run(lambda tip: read_history(store.git, tip, paths))
    assert [r.report for r in warm["p1.md"]] == ["BAD", "GOOD", "GOOD", "GOOD"]
    assert warm["p2.md"][0].note == "n1" and warm["p2.md"][0].report == "BAD"  # from the blob
    # a narrower question is answered from the cache, a wider one widens it
    one, outcome = store.run(lambda tip: store.history_cache.read(tip, ["p1.md"]))
    assert outcome.mode == "hit" and one == {"p1.md": warm["p1.md"]}
    wider, outcome = store.run(lambda tip: store.history_cache.read(tip, ["p1.md", "new.md"]))
    assert wider["new.md"] == [] and outcome.commits_read == 5
    _, outcome = store.run(lambda tip: store.history_cache.read(tip, paths))
    assert outcome.mode == "hit"


def test_rewritten_branch_invalidates_the_cache(bare: Path):
    paths = ["a.md", "b.md"]
    import_commits(bare, [(T0, {"a.md": "GOOD", "b.md": "GOOD"}, True)])
    base = git("rev-parse", "main", cwd=bare).strip()
    import_commits(bare, [(T0 + timedelta(minutes=n), {"a.md": "BAD"}, True) for n in range(1, 4)])
    store = GitStore(f"file://{bare}")
    before, _ = store.run(lambda tip: store.history_cache.read(tip, paths))
    assert [r.report for r in before["a.md"]] == ["BAD", "BAD", "BAD", "GOOD"]
    # force-push a different history on top of the first commit
    commit_files(
        bare,
        {"b.md": render("b.md", "x", "BAD", T0, "rewritten")},
        date="2026-05-01T13:00:00Z",
        force_parent=base,
    )
    after, outcome = store.run(lambda tip: store.history_cache.read(tip, paths))
    assert outcome.mode == "rewritten"
    assert [r.report for r in after["a.md"]] == ["GOOD"]
    assert [(r.report, r.note) for r in after["b.md"]] == [("BAD", "rewritten"), ("GOOD", "n0")]
    assert after == store.run(lambda tip: read_history(store.git, tip, paths))
    cache = json.loads(next(store.path.glob("pulseox-history-*.json")).read_text())
    assert cache["tip"] == git("rev-parse", "main", cwd=bare).strip()


def test_odd_messages_and_a_damaged_cache_are_read_safely(bare: Path):
    odd = render("a.md", "x", "BAD", T0, "odd")
    commit_files(
        bare,
        {"a.md": odd},
        message="tool run \x1e0123 99\nfooter \x1e",
        date="2026-05-01T12:00:00Z",
    )
    import_commits(bare, [(T0 + timedelta(minutes=1), {"a.md": "GOOD"}, True)])
    store = GitStore(f"file://{bare}")
    history, _ = store.run(lambda tip: store.history_cache.read(tip, ["a.md"]))
    assert [(r.report, r.note) for r in history["a.md"]] == [("GOOD", "n0"), ("BAD", "odd")]
    assert (history["a.md"][1].commit, history["a.md"][1].time) == (
        git("rev-parse", "main~1", cwd=bare).strip(),
        T0,
    )
    cache = next(store.path.glob("pulseox-history-*.json"))
    data = json.loads(cache.read_text())
    for damage in (
        {"tip": "--output=/tmp/x"},
        {"commits": [["x"]]},
        {"paths": [[1]]},
        {"commits": [[data["tip"], "soon", []]]},
    ):
        cache.write_text(json.dumps({**data, **damage}))
        again, outcome = store.run(lambda tip: store.history_cache.read(tip, ["a.md"]))
        assert outcome.mode == "cold" and again == history
    cache.write_text("{not json")
    assert store.run(lambda tip: store.history_cache.read(tip, ["a.md"]))[0] == history


@pytest.fixture
def git_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A `git` earlier on PATH that logs each call's subcommand, then runs the real git."""
    real = subprocess.run(["which", "git"], capture_output=True, text=True).stdout.strip()
    bin_dir, log = tmp_path / "bin", tmp_path / "git-calls.log"
    bin_dir.mkdir()
    wrapper = bin_dir / "git"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    def calls() -> list[str]:
        lines = log.read_text().splitlines() if log.exists() else []
        log.unlink(missing_ok=True)
        return [next(w for w in line.split() if not w.startswith("-")) for line in lines]

    return calls


@pytest.mark.parametrize("pages,rounds", [(3, 4), (60, 40)])
def test_one_git_log_and_one_cat_file_read_the_whole_history(
    bare: Path, git_calls, pages: int, rounds: int
):
    """Whatever the number of pages and commits: one log, one cat-file, nothing per page."""
    paths = [f"jobs/j{i}.md" for i in range(pages)]
    commits = []
    for n in range(rounds):
        when = T0 + timedelta(minutes=10 * n)
        commits.append(
            (when, {p: "BAD" if (i + n) % 7 == 0 else "GOOD" for i, p in enumerate(paths)}, True)
        )  # a batch of every page
        hand = {paths[n % pages]: "BAD"}
        commits.append((when + timedelta(minutes=1), hand, False))  # no trailers
    import_commits(bare, commits)
    store = GitStore(f"file://{bare}")
    store.run(lambda tip: None)  # clone first; count only the history read
    git_calls()
    history, _ = store.run(lambda tip: store.history_cache.read(tip, paths))
    calls = git_calls()
    assert calls.count("log") == 1 and calls.count("cat-file") == 1
    assert len(calls) <= 5, calls  # fetch, rev-parse, log, cat-file: none per page or commit
    assert sum(len(v) for v in history.values()) == rounds * pages + rounds
    assert all(len(history[p]) >= rounds for p in paths)
    last = history[paths[(rounds - 1) % pages]][0]  # the newest commit, made by hand
    assert (last.report, last.note) == ("BAD", f"n{2 * rounds - 1}")


def test_history_on_a_blobless_clone_fetches_no_old_blobs(http, http_repo):
    owner, repo, path = http_repo
    git("config", "uploadpack.allowFilter", "true", cwd=path)
    import_commits(
        path, [(T0 + timedelta(minutes=n), {"a.md": "GOOD", "b.md": "BAD"}, True) for n in range(5)]
    )
    store = GitStore(http.url(owner, repo), blobless=True)
    store.run(lambda tip: None)
    http.requests.clear()
    history, _ = store.run(lambda tip: store.history_cache.read(tip, ["a.md", "b.md"]))
    assert [r.report for r in history["b.md"]] == ["BAD"] * 5
    fetches = [r for r in http.requests if r[0] == "POST"]
    assert len(fetches) <= 1  # the refresh's own fetch of the tip, and no blob fetch
    missing = git("rev-list", "--objects", "--missing=print", store.tracking, cwd=store.path)
    assert sum(line.startswith("?") for line in missing.splitlines()) == 10  # old blobs stay out
    # a trailer-less commit needs its blob: ONE fetch brings it, not one per blob
    import_commits(path, [(T0 + timedelta(hours=1), {"a.md": "BAD", "b.md": "GOOD"}, False)])
    store.run(lambda tip: None)  # fetch the new commit first, to count what reading costs
    http.requests.clear()
    history, _ = store.run(lambda tip: store.history_cache.read(tip, ["a.md", "b.md"]))
    assert history["a.md"][0].report == "BAD" and history["b.md"][0].report == "GOOD"
    posts = [r for r in http.requests if r[0] == "POST"]
    assert len(posts) == 2  # the refresh's ref check, and ONE fetch of the blobs it needs
    # pages at the tip: the blobs not there yet come in one fetch too, then none
    import_commits(path, [(T0 + timedelta(hours=2), {"a.md": "GOOD", "b.md": "BAD"}, True)])
    store.run(lambda tip: None)
    for posts in (2, 1):
        http.requests.clear()
        pages = store.run(lambda tip: store.read_files(tip, ["a.md", "b.md"]))
        assert b"- report: GOOD" in pages["a.md"] and b"- report: BAD" in pages["b.md"]
        assert len([r for r in http.requests if r[0] == "POST"]) == posts


def test_history_cli(remote: Path, cli):
    client = PulseOxClient(clock=lambda: T0)
    client.post("owner", "repo", "a.md", "x", note="first")
    client = PulseOxClient(clock=lambda: T0 + timedelta(minutes=10))
    client.post("owner", "repo", "a.md", "x", report="BAD", note="second")
    code, out, _ = cli("history", "--owner", "owner", "--repo", "repo", "--path", "a.md")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("2026-05-01 12:10:00 UTC  BAD ") and lines[0].endswith("second")
    assert lines[1].startswith("2026-05-01 12:00:00 UTC  GOOD") and len(lines) == 2
    code, out, _ = cli(
        "history", "--owner", "owner", "--repo", "repo", "--path", "a.md", "--json", "--limit", "1"
    )
    data = json.loads(out)
    assert code == 0 and len(data) == 1 and data[0]["report"] == "BAD"
    assert data[0]["time"] == "2026-05-01T12:10:00+00:00" and len(data[0]["commit"]) == 40
    code, _, err = cli("history", "--owner", "owner", "--repo", "repo", "--path", "../x")
    assert code == 2 and "'../x'" in err
    code, out, err = cli("history", "--owner", "owner", "--repo", "repo", "--path", "none.md")
    assert code == 0 and out == "" and "no commits touched none.md" in err


def test_history_cli_runs_as_a_program(remote: Path):
    PulseOxClient(clock=lambda: T0).post("owner", "repo", "a.md", "x")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pulseox_git",
            "history",
            "--owner",
            "owner",
            "--repo",
            "repo",
            "--path",
            "a.md",
            "--limit",
            "0",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "--limit" in proc.stderr
