"""Many writers at once: 8 processes x 25 posts to one remote, nothing lost.

Each writer is a real OS process posting through `PulseOxClient`; they start
together on a signal file. Writer i posts 25 times to its own 5 pages (post j
goes to page j % 5), so the last content of every page is known. Afterwards git
itself is asked, once a last post has folded any queued ones: one commit per
post (200), every post's trailer exactly once,
each page holding its writer's last post. The figures (retries, commits/s)
are printed for the README: `scripts/test tests/test_concurrency.py -s`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures.repos import commit_files, git, landed, show
from pulseox_git.client import PulseOxClient
from pulseox_git.page import parse

ROOT = Path(__file__).resolve().parent.parent
WRITERS, POSTS, PAGES = 8, 25, 5

WORKER = r"""
import json, os, sys, time
from pulseox_git.client import PulseOxClient
writer, posts, pages, go = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
client = PulseOxClient(remote=os.environ["REMOTE"])
while not os.path.exists(go):
    time.sleep(0.005)
for j in range(posts):
    result = client.post("owner", "repo", f"w{writer}/p{j % pages}.md",
                         f"writer {writer} post {j}\n", note=f"seq {j}")
    print(json.dumps({"post": j, "attempts": result.attempts}), flush=True)
"""


def run_writers(url: str, caches: list[Path], tmp: Path, env: dict | None = None) -> dict:
    """Start the writers together, wait for all; the attempts of every post and the time."""
    go = tmp / "go"
    procs = []
    for i, cache in enumerate(caches):
        child_env = {
            **os.environ,
            "REMOTE": url,
            "PULSEOX_GIT_CACHE": str(cache),
            "PYTHONPATH": str(ROOT),
            **(env or {}),
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", WORKER, str(i), str(POSTS), str(PAGES), str(go)],
                env=child_env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    time.sleep(0.5)  # let every interpreter start, so they really race
    start = time.monotonic()
    go.touch()
    attempts = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        attempts += [json.loads(line)["attempts"] for line in out.splitlines()]
    elapsed = time.monotonic() - start
    assert len(attempts) == WRITERS * POSTS
    retries = [a - 1 for a in attempts]
    return {
        "retries_median": statistics.median(retries),
        "retries_max": max(retries),
        "seconds": round(elapsed, 1),
        "commits_per_s": round(len(attempts) / elapsed, 1),
    }


def assert_nothing_lost(bare: Path, base: str, url: str, tmp: Path) -> None:
    """Once one more post has folded whatever the writers left queued: 200 posts on
    top of `base` (plus that one, and the merge commits of folds), each post's
    trailer once, every page's last post, no inbox ref left (counted by GitPython,
    independently of the product's own trailer parser)."""
    PulseOxClient(remote=url, cache_dir=tmp / "folder").post("owner", "repo", "fold.md", "x")
    shas = git("rev-list", "--no-merges", f"{base}..main", cwd=bare).split()
    assert len(shas) == WRITERS * POSTS + 1
    assert git("for-each-ref", "refs/pulseox/inbox", cwd=bare) == ""
    posted = [(path, note) for _sha, path, note in landed(bare, since=base)]
    expected = [(f"w{i}/p{j % PAGES}.md", f"seq {j}") for i in range(WRITERS) for j in range(POSTS)]
    expected.append(("fold.md", ""))
    assert sorted(posted) == sorted(expected)  # each post exactly once
    for i in range(WRITERS):
        for k in range(PAGES):
            last = max(j for j in range(POSTS) if j % PAGES == k)
            footer = parse(show(bare, f"w{i}/p{k}.md"))
            assert (footer.content, footer.note) == (f"writer {i} post {last}\n", f"seq {last}")
    assert show(bare, "seed.md") == "kept"  # a hand-written file nobody posted survives
    git("fsck", "--strict", "--no-dangling", cwd=bare)


def report(label: str, figures: dict) -> None:
    print(
        f"\nRELIABILITY load {label}: {WRITERS} writers x {POSTS} posts, lost 0, "
        f"retries median {figures['retries_median']} max {figures['retries_max']}, "
        f"{figures['commits_per_s']} commits/s ({figures['seconds']} s)"
    )


@pytest.mark.slow
def test_writers_with_separate_caches_over_http(http, http_repo, tmp_path: Path):
    """The usual CI case: runners with caches of their own racing over smart HTTP."""
    owner, _repo, bare = http_repo
    base = commit_files(bare, {"seed.md": "kept"})
    caches = [tmp_path / f"cache{i}" for i in range(WRITERS)]
    url = http.url(owner, "status")
    figures = run_writers(url, caches, tmp_path)
    assert_nothing_lost(bare, base, url, tmp_path)
    assert figures["retries_max"] > 0  # they really raced, and every race was retried
    report("smart HTTP, separate caches", figures)


@pytest.mark.slow
def test_writers_sharing_one_cache_over_file(bare: Path, tmp_path: Path):
    base = commit_files(bare, {"seed.md": "kept"})
    shared = tmp_path / "shared-cache"
    figures = run_writers(f"file://{bare}", [shared] * WRITERS, tmp_path)
    assert_nothing_lost(bare, base, f"file://{bare}", tmp_path)
    # one cache: its lock queues the writers, so nobody has to retry a push
    assert figures["retries_max"] == 0
    leftovers = [p.name for p in (shared / "repos").iterdir() if p.name.startswith(".")]
    assert leftovers == []  # no half-made or discarded clones left behind
    report("file://, one shared cache", figures)


RACE_ROUNDS, RACE_PAGES = 8, 20
BATCHER = r"""
import json, os, sys, time
from pulseox_git.client import PulseOxClient
rounds, pages, go = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
client = PulseOxClient(remote=os.environ["REMOTE"])
while not os.path.exists(go):
    time.sleep(0.005)
for j in range(rounds):
    report = "BAD" if j % 2 else "GOOD"
    result = client.post_many("owner", "repo", [
        {"path": f"jobs/p{k}.md", "content": f"round {j}", "report": report}
        for k in range(pages)])
    print(json.dumps({"sha": result.sha, "attempts": result.attempts}), flush=True)
"""
DASHBOARD = r"""
import json, os, sys, time
from pulseox_git.dashboard import PulseOxDashboard
rounds, go = int(sys.argv[1]), sys.argv[3]
while not os.path.exists(go):
    time.sleep(0.005)
for j in range(rounds):
    board = PulseOxDashboard(owner="owner", repo="repo", remote=os.environ["REMOTE"])
    done = board.write_summary().published
    print(json.dumps({"sha": done.sha, "attempts": done.attempts}), flush=True)
"""


@pytest.mark.slow
def test_batches_racing_dashboard_writes_all_land(bare: Path, tmp_path: Path):
    specs = "".join(
        f'[[spec]]\nowner = "owner"\nrepo = "repo"\npath = "jobs/p{k}.md"\nschedule = "1h"\n'
        for k in range(RACE_PAGES)
    )
    base = commit_files(bare, {"pulseox.toml": specs})
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(RACE_ROUNDS), str(RACE_PAGES), str(go)],
            env={
                **os.environ,
                "REMOTE": f"file://{bare}",
                "PYTHONPATH": str(ROOT),
                "PULSEOX_GIT_CACHE": str(tmp_path / name),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, code in (("batch", BATCHER), ("dashboard", DASHBOARD))
    ]
    time.sleep(0.5)
    start = time.monotonic()
    go.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        results.append([json.loads(line) for line in out.splitlines()])
    elapsed = time.monotonic() - start
    history = git("rev-list", f"{base}..main", cwd=bare).split()
    # every batch and every dashboard write that had something new landed (a write
    # that saw no new batch since the last one commits nothing: tests/test_heartbeat.py)
    written = [r for r in results[1] if r["sha"]]
    assert written and len(history) == RACE_ROUNDS + len(written)
    assert {r["sha"] for rs in results for r in rs if r["sha"]} == set(history)
    # each dashboard commit summarised the pages of the very tree it was committed on
    for done in written:
        state = json.loads(show(bare, "pulseox-state.json", done["sha"]))["statuses"]
        present = set(
            git("ls-tree", "--name-only", f"{done['sha']}:jobs", cwd=bare).split()
            if "jobs" in git("ls-tree", "--name-only", done["sha"], cwd=bare).split()
            else []
        )
        for k in range(RACE_PAGES):
            entry = state[f"owner/repo:jobs/p{k}.md"]
            if f"p{k}.md" in present:
                footer = parse(show(bare, f"jobs/p{k}.md", done["sha"]))
                assert entry["report"] == footer.report
            else:
                assert entry["report"] is None
    retries = [r["attempts"] - 1 for rs in results for r in rs]
    print(
        f"\nRELIABILITY load batch x dashboard race: {RACE_ROUNDS} batches of {RACE_PAGES} "
        f"pages vs {RACE_ROUNDS} dashboard writes, lost 0, retries median "
        f"{statistics.median(retries)} max {max(retries)}, "
        f"{round(len(history) / elapsed, 1)} commits/s"
    )


@pytest.mark.slow
def test_concurrent_spec_edits_are_never_lost(bare: Path, tmp_path: Path):
    """4 processes each add 4 specs to one pulseox.toml at once: all 16 are there."""
    from pulseox_git.dashboard.specs import loads

    commit_files(bare, {"seed.md": "kept"})
    script = "\n".join(
        f"{sys.executable} -m pulseox_git spec add --owner owner --repo repo "
        f"--remote file://{bare} --path jobs/w$W-{k}.md --schedule {k + 1}h || exit 1"
        for k in range(4)
    )
    procs = [
        subprocess.Popen(
            ["bash", "-c", script],
            env={
                **os.environ,
                "W": str(w),
                "PYTHONPATH": str(ROOT),
                "PULSEOX_GIT_CACHE": str(tmp_path / f"cache{w}"),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(4)
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    specs, _settings = loads(show(bare, "pulseox.toml"))
    assert sorted(s.path for s in specs) == sorted(
        f"jobs/w{w}-{k}.md" for w in range(4) for k in range(4)
    )
    assert len(git("rev-list", "main", cwd=bare).split()) == 1 + 16
    print("\nRELIABILITY load spec edits: 4 processes x 4 `spec add` at once, lost 0")


@pytest.mark.slow
def test_threads_sharing_one_client_take_turns_on_its_cache(bare: Path):
    """A client keeps one store per repository: threads using it must still lock."""
    from concurrent.futures import ThreadPoolExecutor

    from pulseox_git.client import PulseOxClient

    base = commit_files(bare, {"seed.md": "kept"})
    client = PulseOxClient(remote=f"file://{bare}")

    def work(i: int) -> list[int]:
        return [
            client.post("o", "r", f"t{i}/p.md", f"thread {i} post {j}\n").attempts
            for j in range(10)
        ]

    with ThreadPoolExecutor(4) as pool:
        attempts = [a for per_thread in pool.map(work, range(4)) for a in per_thread]
    assert attempts == [1] * 40  # one cache, one lock: no thread ever raced another
    assert len(git("rev-list", f"{base}..main", cwd=bare).split()) == 40
    for i in range(4):
        assert parse(show(bare, f"t{i}/p.md")).content == f"thread {i} post 9\n"
    print("\nRELIABILITY load threads: 4 threads sharing one client x 10 posts, lost 0, retries 0")
