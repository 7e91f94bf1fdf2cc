"""Posting: one commit per post or batch, pushed to real bare repositories."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from fixtures.repos import commit_files, git, log, refs, show
from pulseox_git.client import PulseOxClient
from pulseox_git.page import parse, parse_trailers
from pulseox_git.store.base import Change
from pulseox_git.store.git import GitStore

FIXED = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


def test_post_creates_then_updates_a_page(remote: Path):
    client = PulseOxClient(clock=lambda: FIXED)
    first = client.post("owner", "repo", "jobs/a.md", "all fine\n", note="run 1")
    second = client.post("owner", "repo", "jobs/a.md", "broken\n", report="BAD")
    assert (first.status_code, second.status_code) == (201, 200)
    assert git("rev-parse", "main", cwd=remote).strip() == second.sha
    footer = parse(show(remote, "jobs/a.md"))
    assert (footer.content, footer.report, footer.updated, footer.note) == (
        "broken\n",
        "BAD",
        FIXED,
        "",
    )
    assert log(remote) == ["pulseox: jobs/a.md BAD", "pulseox: jobs/a.md GOOD"]
    committed = git("log", "-1", "--format=%ct", "main", cwd=remote).strip()
    assert int(committed) == int(FIXED.timestamp())


def test_a_relative_cache_dir_works_and_is_reused(
    remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """`--cache-dir cache` in a CI step: git runs inside the cache, so the path is
    made absolute first (a relative one was rebuilt as damaged on every run)."""
    monkeypatch.chdir(tmp_path)
    for n in range(2):
        PulseOxClient(cache_dir="cache").post("owner", "repo", "a.md", f"run {n}\n")
    assert [p.name for p in (tmp_path / "cache" / "repos").iterdir()] != []
    assert log(remote) == ["pulseox: a.md GOOD", "pulseox: a.md GOOD"]


def test_batch_is_one_commit_with_a_trailer_per_page(remote: Path):
    pages = [
        {
            "path": f"p{i}.md",
            "content": f"page {i}",
            "report": "BAD" if i == 2 else "GOOD",
            "note": f"note {i}",
        }
        for i in range(5)
    ]
    result = PulseOxClient().post_many("owner", "repo", pages)
    assert result.status_code == 201 and len(result.created) == 5
    assert git("rev-list", "--count", "main", cwd=remote).strip() == "1"
    message = git("log", "-1", "--format=%B", "main", cwd=remote)
    assert [(p.path, p.report, p.note) for p in parse_trailers(message)] == [
        (f"p{i}.md", "BAD" if i == 2 else "GOOD", f"note {i}") for i in range(5)
    ]
    assert parse(show(remote, "p2.md")).report == "BAD"


def test_org_pages_get_an_org_footer(remote: Path):
    PulseOxClient().post("owner", "repo", "notes.org", "* heading\n")
    assert "\n* Metadata\n- report: GOOD\n" in show(remote, "notes.org")


def test_other_files_in_the_repository_are_kept(remote: Path):
    commit_files(remote, {"README.md": "hand written\n", "jobs/old.md": "x"})
    PulseOxClient().post("owner", "repo", "jobs/new.md", "y")
    tree = git("ls-tree", "-r", "--name-only", "main", cwd=remote).split()
    assert tree == ["README.md", "jobs/new.md", "jobs/old.md"]


def test_dry_run_pushes_nothing_and_leaves_the_tracking_ref(remote: Path, cache_dir: Path):
    PulseOxClient().post("owner", "repo", "a.md", "one")
    before = refs(remote)
    result = PulseOxClient(dry_run=True).post("owner", "repo", "b.md", "two")
    assert result.dry_run and result.created == ("b.md",)
    assert refs(remote) == before
    store = PulseOxClient().store("owner", "repo")
    with store.locked():
        assert store.tip() == git("rev-parse", "main", cwd=remote).strip()


def test_empty_remote_gets_its_branch_from_the_first_post(remote: Path, cli):
    assert refs(remote) == ""
    code, _out, err = cli(
        "post",
        "--owner",
        "owner",
        "--repo",
        "repo",
        "--path",
        "a.md",
        "--content",
        "x",
        "--branch",
        "status",
    )
    assert code == 0 and "is empty: the first post creates branch 'status'" in err
    assert "warning" not in err
    assert refs(remote).split()[0] == "refs/heads/status"


def test_push_race_is_retried_and_both_commits_land(bare: Path, cache_dir: Path):
    commit_files(bare, {"seed.md": "seed"})
    store = GitStore(f"file://{bare}", cache_dir=cache_dir)
    calls = []

    def make_change(_store, tip):
        calls.append(tip)
        if len(calls) == 1:  # someone else pushes between our fetch and our push
            commit_files(bare, {"other.md": "theirs"}, message="their commit")
        return Change({"ours.md": b"ours"}, "our commit")

    result = store.publish(make_change)
    assert result.attempts == 2 and calls[0] != calls[1]
    assert log(bare) == ["our commit", "their commit", "hand edit"]
    assert show(bare, "other.md") == "theirs" and show(bare, "ours.md") == "ours"


def test_cache_for_another_remote_is_rebuilt(bare: Path, tmp_path: Path, cache_dir: Path):
    PulseOxClient(remote=f"file://{bare}").post("owner", "repo", "a.md", "x")
    store = GitStore(f"file://{bare}", cache_dir=cache_dir)
    (store.path / "pulseox-cache.json").write_text('{"url": "file:///somewhere/else"}')
    git("config", "remote.origin.url", str(tmp_path / "nowhere"), cwd=store.path)
    PulseOxClient(remote=f"file://{bare}").post("owner", "repo", "b.md", "y")
    assert log(bare) == ["pulseox: b.md GOOD", "pulseox: a.md GOOD"]


def test_damaged_object_store_is_rebuilt(bare: Path, cache_dir: Path):
    client = PulseOxClient(remote=f"file://{bare}")
    client.post("owner", "repo", "a.md", "x")
    store = client.store("owner", "repo")
    for obj in (store.path / "objects").rglob("*"):
        if obj.is_file() and obj.parent.name != "info":
            obj.chmod(0o644)
            obj.write_bytes(b"garbage")
    client.post("owner", "repo", "b.md", "y")
    assert log(bare) == ["pulseox: b.md GOOD", "pulseox: a.md GOOD"]
    assert git("fsck", "--strict", cwd=bare) == ""


def test_force_pushed_remote_is_followed(bare: Path):
    client = PulseOxClient(remote=f"file://{bare}")
    first = client.post("owner", "repo", "a.md", "x").sha
    client.post("owner", "repo", "stale.md", "should vanish")
    commit_files(bare, {"c.md": "rewritten"}, message="rewrite", force_parent=first)
    client.post("owner", "repo", "d.md", "y")
    names = git("ls-tree", "-r", "--name-only", "main", cwd=bare).split()
    assert names == ["a.md", "c.md", "d.md"]


@pytest.mark.parametrize(
    "path, kind",
    [
        ("link.md", "symlink"),
        ("linkdir/x.md", "symlink"),
        ("dir", "folder"),
        ("file.md/x.md", "not a folder"),
    ],
)
def test_paths_through_symlinks_or_onto_folders_are_refused(bare: Path, cli, path, kind):
    commit_files(
        bare,
        {"dir/inner.md": "x", "file.md": "y"},
        symlinks={"link.md": "/etc/passwd", "linkdir": "/tmp"},
    )
    before = refs(bare)
    code, _out, err = cli(
        "post",
        "--owner",
        "o",
        "--repo",
        "r",
        "--remote",
        f"file://{bare}",
        "--path",
        path,
        "--content",
        "x",
    )
    assert code == 2 and repr(path) in err and kind in err and "Traceback" not in err
    assert refs(bare) == before


def test_a_missing_branch_is_created_with_a_warning(remote: Path, cli):
    PulseOxClient().post("owner", "repo", "a.md", "x")
    code, _out, err = cli(
        "post",
        "--owner",
        "owner",
        "--repo",
        "repo",
        "--path",
        "a.md",
        "--content",
        "y",
        "--branch",
        "mian",
    )
    assert code == 0 and "has no branch 'mian' (it has main)" in err
    assert any(line.startswith("warning: ") for line in err.splitlines())
    assert refs(remote).count("refs/heads/") == 2
    code, _out, err = cli(
        "post",
        "--owner",
        "owner",
        "--repo",
        "repo",
        "--path",
        "a.md",
        "--content",
        "z",
        "--branch",
        "mian",
    )
    assert code == 0 and "warning" not in err  # it exists now


def test_api_transport_says_it_does_not_use_the_git_remote(remote: Path, cli):
    code, _out, err = cli(
        "post",
        "--owner",
        "owner",
        "--repo",
        "repo",
        "--path",
        "a.md",
        "--content",
        "y",
        "--transport",
        "api",
        "--api-url",
        "http://127.0.0.1:1/api",
    )
    assert code == 1 and "--transport api does not use the git remote file://" in err


def test_batch_dash_reads_the_manifest_from_stdin(remote: Path, tmp_path: Path):
    import os
    import subprocess
    import sys

    def batch(stdin: str) -> subprocess.CompletedProcess[str]:
        argv = ["batch", "--owner", "owner", "--repo", "repo", "-"]
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
        return subprocess.run(
            [sys.executable, "-m", "pulseox_git", *argv],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=tmp_path,  # content_file paths start here
            env=env,
        )

    (tmp_path / "long.txt").write_text("from a file next to where we run\n")
    proc = batch(
        '[[page]]\npath = "a.md"\ncontent = "inline"\n\n'
        '[[page]]\npath = "b.md"\ncontent_file = "long.txt"\nreport = "BAD"\n'
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("posted 2 pages as ")
    assert show(remote, "b.md").startswith("from a file next to where we run\n")
    assert log(remote) == ["pulseox: post 2 pages (1 GOOD, 1 BAD)"]
    bad = batch("[[page]]\npath = 'x.md'\n")
    assert bad.returncode == 2 and "manifest '-', page 1" in bad.stderr
    assert log(remote) == ["pulseox: post 2 pages (1 GOOD, 1 BAD)"]
