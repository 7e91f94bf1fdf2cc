"""Faults around queued posts: a writer SIGKILLed between its inbox push and its
exit, and a dashboard killed in the middle of a fold (before its atomic push, while
the remote receives it, right after it): nothing is lost or counted twice, and the
next run tidies up (every post on the branch once, no inbox ref left)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from test_faults import run, start, survived, wait_for, wrapped_path  # noqa: F401 (fixture)

from fixtures.repos import commit_files, git, inbox_refs, make_busy

pytestmark = pytest.mark.slow  # real processes killed mid-run

SPECS = "".join(
    f'\n[[spec]]\nowner = "o"\nrepo = "r"\npath = "{p}"\nschedule = "1d"\n'
    for p in ("a.md", "b.md", "c.md")
)


def post(url: str, path: str, cache: Path, env: dict | None = None):
    args = ["post", "--owner", "o", "--repo", "r", "--remote", url, "--path", path]
    args += ["--content", f"{path} output\n", "--cache-dir", str(cache)]
    return start(*args, env=env) if env is not None else run(*args)


def refresh(url: str, cache: Path, env: dict | None = None):
    args = ["dashboard", "refresh", "--owner", "o", "--repo", "r", "--remote", url]
    args += ["--cache-dir", str(cache)]
    return start(*args, env=env) if env is not None else run(*args)


def reports_on_branch(bare: Path, path: str) -> int:
    """How many commits on main record a report of `path` in their trailers."""
    out = git("log", "--format=%B%x00", "main", cwd=bare)
    return sum(f'"path":"{path}"' in body for body in out.split("\0"))


def assert_tidy(bare: Path) -> None:
    assert inbox_refs(bare) == {}
    for path in ("a.md", "b.md"):
        assert reports_on_branch(bare, path) == 1, path  # landed, and only once
        assert f"{path} output" in git("show", f"main:{path}", cwd=bare)
    git("fsck", "--strict", cwd=bare)


@pytest.fixture
def queued(bare: Path, tmp_path: Path) -> str:
    """a.md and b.md queued (the branch busy), the branch free again."""
    commit_files(bare, {"seed.md": "seed", "pulseox.toml": '[dashboard]\nmode = "md"\n' + SPECS})
    busy = make_busy(bare)
    url = f"file://{bare}"
    for path in ("a.md", "b.md"):
        code, out, err, _s = post(url, path, tmp_path / f"cache-{path}")
        assert code == 0 and out.startswith("queued "), err
    busy.unlink()
    assert len(inbox_refs(bare)) == 2
    return url


def test_a_writer_killed_right_after_its_inbox_push(bare, tmp_path, wrapped_path):  # noqa: F811
    commit_files(bare, {"seed.md": "seed", "pulseox.toml": '[dashboard]\nmode = "md"\n' + SPECS})
    url = f"file://{bare}"
    code, _out, err, _s = post(url, "seed.md", tmp_path / "cache-a")  # a warm cache
    assert code == 0, err
    make_busy(bare)
    post(url, "b.md", tmp_path / "cache-b")  # b.md is queued normally
    mark = tmp_path / "pushed"
    env = {"PATH": wrapped_path, "FAULT_AT": "push", "FAULT_MODE": "after"}
    env |= {"FAULT_ARG": "refs/pulseox/inbox/", "FAULT_MARK": str(mark)}
    proc = post(url, "a.md", tmp_path / "cache-a", env)
    wait_for(mark, proc)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert len(inbox_refs(bare)) == 2  # its push completed whole: the post is queued
    (bare / "busy").unlink()
    # the same cache's next post lands or queues (it queues when the inbox holds
    # posts from the last 30 s: a burst) ...
    code, _out, err, _s = post(url, "c.md", tmp_path / "cache-a")
    assert code == 0, err
    code, _out, err, _s = refresh(url, tmp_path / "cache-a")  # ... and a refresh folds all
    assert code == 0, err
    assert_tidy(bare)
    assert reports_on_branch(bare, "c.md") == 1
    survived("SIGKILL between a queued post's inbox push and its exit")


@pytest.mark.parametrize("mode", ["block", "after"])
def test_a_dashboard_killed_in_the_middle_of_a_fold(
    bare,
    tmp_path,
    wrapped_path,  # noqa: F811
    queued,
    mode,
):
    before = git("for-each-ref", cwd=bare)
    mark = tmp_path / "folding"
    env = {"PATH": wrapped_path, "FAULT_AT": "push", "FAULT_MODE": mode}
    env |= {"FAULT_ARG": "--atomic", "FAULT_MARK": str(mark)}
    proc = refresh(queued, tmp_path / "cache-dash", env)
    wait_for(mark, proc)
    if mode == "block":
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    if mode == "block":  # never pushed: the remote is as it was
        assert git("for-each-ref", cwd=bare) == before
    else:  # the atomic push landed whole: the fold and the deletions together
        assert_tidy(bare)
    code, _out, err, _s = refresh(queued, tmp_path / "cache-dash")  # the next run
    assert code == 0, err
    assert_tidy(bare)
    survived(f"SIGKILL {'during' if mode == 'block' else 'right after'} a dashboard's fold push")


def test_a_dashboard_killed_while_the_remote_receives_its_fold(bare, tmp_path, queued):
    before = git("for-each-ref", cwd=bare)
    mark = tmp_path / "receiving"
    hook = bare / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\ncat >/dev/null\ntouch {mark}\nsleep 60\n")
    hook.chmod(0o755)
    proc = refresh(queued, tmp_path / "cache-dash", {})
    wait_for(mark, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    hook.unlink()
    assert git("for-each-ref", cwd=bare) == before  # all of the fold, or none of it
    code, _out, err, _s = refresh(queued, tmp_path / "cache-dash")
    assert code == 0, err
    assert_tidy(bare)
    survived("SIGKILL while the remote receives a dashboard's fold")
