"""Ctrl-C and SIGTERM at any moment: exit 130, one line saying whether anything
landed, no traceback, and the remote whole (what the line says is what happened).

The signal is sent at moments spread over a whole run, from interpreter start-up
to the end of the push; whatever moment it hits, the same promises hold. Ctrl-C
goes to the whole process group, as a terminal sends it (git gets it too);
SIGTERM to our process alone, as a CI runner's cancel does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures.repos import git, refs

ROOT = Path(__file__).resolve().parent.parent


def moments(*argv: str, count: int = 12) -> list[float]:
    """`count` moments spread from start-up to just past the end of a normal run of
    `argv` (timed here, on this machine, as it is loaded now)."""
    began = time.monotonic()
    proc = start(*argv)
    assert proc.wait(timeout=60) == 0, proc.communicate()[1]
    took = time.monotonic() - began
    return [took * 1.1 * i / (count - 1) for i in range(count)]


def start(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "pulseox_git", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a process group of its own, like a job in a terminal
    )


def interrupt(proc: subprocess.Popen[str], after: float, sig: signal.Signals) -> tuple[int, str]:
    time.sleep(after)
    if proc.poll() is None:
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out + err


def tip(bare: Path) -> str:
    return git("rev-parse", "--verify", "--quiet", "main", cwd=bare).strip() if refs(bare) else ""


def pythons_own_start_up(err: str) -> bool:
    """A KeyboardInterrupt raised while the interpreter itself starts (site, runpy,
    the import system finding our package), before any line of ours runs: Python's
    own traceback, which no program can catch. No frame is in our package."""
    frames = [line for line in err.splitlines() if line.strip().startswith("File ")]
    ours = str(ROOT / "pulseox_git") + os.sep
    return err.rstrip().endswith("KeyboardInterrupt") and not any(ours in f for f in frames)


def check_the_line(code: int, err: str, bare: Path, before: str, name: str) -> str:
    """What every interrupted run must do; returns what the line said happened."""
    finished = any(
        said in err for said in ("posted 1 page as ", "committed summary.md as ", "): no commit")
    )  # the last: nothing changed since the last refresh (tests/test_heartbeat.py)
    if code == 0 or (code < 0 and finished and "interrupted" not in err):
        return "finished"  # the signal came after the work, while Python was exiting
    if code in (-signal.SIGINT, -signal.SIGTERM) and not err:
        assert tip(bare) == before  # the default action, before any handler of ours
        return "killed while starting"
    if pythons_own_start_up(err):
        assert tip(bare) == before
        return "python starting"
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    # 130, or a death by SIGINT after our line, which a shell shows as 130 too (Python
    # exits so when a Ctrl-C landed during an import, even one we caught)
    assert code == 130 or (code == -signal.SIGINT and "interrupted by" in err), (code, err)
    (line,) = [line for line in err.splitlines() if line.startswith("interrupted")]
    assert line == err.splitlines()[-1] and line.startswith(f"interrupted by {name} ")
    git("fsck", "--no-progress", cwd=bare)  # the remote is whole
    now = tip(bare)
    if "before anything was pushed" in line:
        assert now == before
        return "nothing"
    if "after pushing" in line:
        assert now != before and now[:12] in line
        return "landed"
    assert "while pushing" in line and "landed whole or not at all" in line
    assert now == before or now[:12] in line
    return "pushing"


@pytest.mark.slow
@pytest.mark.parametrize("sig, name", [(signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM")])
def test_a_post_interrupted_at_any_moment(http, http_repo, sig: signal.Signals, name: str):
    owner, repo, bare = http_repo
    url = http.url(owner, repo)
    seen = set()
    post = ("post", "--owner", owner, "--repo", repo, "--remote", url, "--path")
    for n, after in enumerate(moments(*post, "jobs/first.md", "--content", "timed")):
        before = tip(bare)
        proc = start(*post, f"jobs/p{n}.md", "--content", f"run {n}")
        code, err = interrupt(proc, after, sig)
        seen.add(check_the_line(code, err, bare, before, name))
    assert "nothing" in seen and seen & {"pushing", "landed", "finished"}, seen  # both halves
    proc = start(*post, "jobs/after.md", "--content", "the cache still works")
    assert proc.wait(timeout=60) == 0, proc.communicate()[1]


@pytest.mark.slow
def test_a_dashboard_refresh_interrupted_at_any_moment(http, http_repo):
    owner, repo, bare = http_repo
    url = http.url(owner, repo)
    common = ("--owner", owner, "--repo", repo, "--remote", url)
    for argv in (("post", *common, "--path", "a.md", "--content", "x"),
                 ("spec", "add", *common, "--path", "a.md", "--schedule", "1h")):  # fmt: skip
        assert start(*argv).wait(timeout=60) == 0
    seen = set()
    for after in moments("dashboard", "refresh", *common):
        before = tip(bare)
        proc = start("dashboard", "refresh", *common)
        code, err = interrupt(proc, after, signal.SIGINT)
        seen.add(check_the_line(code, err, bare, before, "Ctrl-C"))
    assert "nothing" in seen, seen


def test_the_line_names_what_landed():
    from pulseox_git.store.base import Ledger

    ledger = Ledger()
    assert ledger.describe() == "before anything was pushed: the remote is unchanged"
    ledger.start("file:///r.git", "a" * 40)
    assert ledger.describe().startswith(f"while pushing {'a' * 12} to file:///r.git: ")
    ledger.refused()
    assert ledger.describe().startswith("before anything was pushed")
    ledger.start("file:///r.git", "b" * 40)
    ledger.landed_now()
    assert ledger.describe().startswith(f"after pushing {'b' * 12} to file:///r.git: that landed")
