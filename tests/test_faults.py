"""Faults: killed processes, damaged caches, lost remotes, full disks.

Each test breaks something for real (SIGKILL, a `git` wrapper earlier on PATH,
a pre-receive hook, the HTTP fixture's faults, a tiny tmpfs), then checks that
the next ordinary run on the same cache just works and that the remote never
holds half a post. Run with -s to print the list of faults survived.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures.repos import commit_files, git, log, make_bare, refs, show
from pulseox_git.page import parse

pytestmark = pytest.mark.slow  # real processes for every fault: the full run, not the fast loop

ROOT = Path(__file__).resolve().parent.parent
REAL_GIT = shutil.which("git")
# Blocks ("block") or SIGKILLs its caller after the real git finished ("after")
# when its subcommand is $FAULT_AT (and, with $FAULT_ARG, an argument holds that
# text); otherwise it is just git.
WRAPPER = f"""#!/bin/bash
sub=""
for a in "$@"; do case "$a" in -*) ;; *) sub="$a"; break;; esac; done
case " $* " in *"$FAULT_ARG"*) hit=1;; *) hit="";; esac
if [ -n "$FAULT_AT" ] && [ "$sub" = "$FAULT_AT" ] && [ -n "$hit" ]; then
  case "$FAULT_MODE" in
    block) touch "$FAULT_MARK"; exec sleep 60;;
    after) "{REAL_GIT}" "$@"; rc=$?; touch "$FAULT_MARK"; kill -9 $PPID; exit $rc;;
    enospc) echo "fatal: unable to write loose object file: No space left on device" >&2
            exit 128;;
  esac
fi
exec "{REAL_GIT}" "$@"
"""


def survived(fault: str) -> None:
    print(f"\nRELIABILITY fault survived: {fault}")


@pytest.fixture
def wrapped_path(tmp_path: Path) -> str:
    """A PATH whose first `git` is the fault-injecting wrapper."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").write_text(WRAPPER)
    (bin_dir / "git").chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


def start(*args: str, env: dict | None = None) -> subprocess.Popen:
    """`pulseox-git ARGS` as its own process group, so a kill takes git with it."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "pulseox_git", *args],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def run(*args: str, env: dict | None = None, timeout: float = 60) -> tuple[int, str, str, float]:
    began = time.monotonic()
    proc = start(*args, env=env)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err, time.monotonic() - began


def post_args(url: str, path: str, content: str) -> list[str]:
    return [
        "post",
        "--owner",
        "o",
        "--repo",
        "r",
        "--remote",
        url,
        "--path",
        path,
        "--content",
        content,
    ]


def wait_for(mark: Path, proc: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not mark.exists():
        assert proc.poll() is None or mark.exists(), proc.communicate()
        assert time.monotonic() < deadline, "the fault point was never reached"
        time.sleep(0.01)


def assert_whole(bare: Path, path: str, content: str) -> None:
    footer = parse(show(bare, path))
    assert footer.problem is None and footer.content == content


# -- SIGKILL at every step ---------------------------------------------------------

KILLS = [  # (the git step, block in it or die right after it, a fresh cache?)
    ("init", "block", True),  # while the new cache is made (in a .new-* folder)
    ("fetch", "block", True),  # during the first clone
    ("fetch", "after", True),  # the clone done, nothing else
    ("fast-import", "block", False),  # during the commit
    ("fast-import", "after", False),  # commit written, never pushed
    ("push", "block", False),  # during the push, before it sent anything
    ("push", "after", False),  # pushed, but the cache never heard of it
]


@pytest.mark.parametrize("step, mode, fresh", KILLS, ids=[f"{s}-{m}" for s, m, _f in KILLS])
def test_sigkill_at_any_step_then_the_next_run_just_works(
    bare, tmp_path, wrapped_path, cache_dir, step, mode, fresh
):
    url = f"file://{bare}"
    commit_files(bare, {"seed.md": "seed"})
    if not fresh:
        assert run(*post_args(url, "warm.md", "warm"))[0] == 0
    before = refs(bare)
    mark = tmp_path / "reached"
    proc = start(
        *post_args(url, "jobs/a.md", "first\n"),
        env={"PATH": wrapped_path, "FAULT_AT": step, "FAULT_MODE": mode, "FAULT_MARK": str(mark)},
    )
    wait_for(mark, proc)
    if mode == "block":
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    for half_made in cache_dir.glob("repos/.new-*"):  # as if killed long ago
        os.utime(half_made, (time.time() - 3600, time.time() - 3600))
    if step == "push" and mode == "after":  # the push itself completed: all of it
        assert log(bare)[0] == "pulseox: jobs/a.md GOOD"
        assert_whole(bare, "jobs/a.md", "first\n")
    else:  # nothing reached the remote
        assert refs(bare) == before
    code, _out, err, _s = run(*post_args(url, "jobs/a.md", "second\n"))
    assert code == 0, err
    assert_whole(bare, "jobs/a.md", "second\n")
    assert show(bare, "seed.md") == "seed"
    assert list(cache_dir.glob("repos/.*-*")) == []  # no half-made or discarded cache left
    git("fsck", "--strict", cwd=bare)
    survived(f"SIGKILL {'during' if mode == 'block' else 'right after'} git {step}")


def test_sigkill_while_the_remote_receives_the_push(bare, tmp_path):
    """Objects already sent, the ref not yet moved: the remote keeps its old tip."""
    url = f"file://{bare}"
    assert run(*post_args(url, "warm.md", "warm"))[0] == 0
    before = refs(bare)
    mark = tmp_path / "receiving"
    hook = bare / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\ncat >/dev/null\ntouch {mark}\nsleep 60\n")
    hook.chmod(0o755)
    proc = start(*post_args(url, "jobs/a.md", "first\n"))
    wait_for(mark, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    hook.unlink()
    assert refs(bare) == before
    code, _out, err, _s = run(*post_args(url, "jobs/a.md", "second\n"))
    assert code == 0, err
    assert_whole(bare, "jobs/a.md", "second\n")
    assert log(bare) == ["pulseox: jobs/a.md GOOD", "pulseox: warm.md GOOD"]
    survived("SIGKILL while the remote receives the push")


def test_a_cache_locked_by_a_hung_process_is_waited_for_in_bounded_time(bare, cache_dir):
    import fcntl

    url = f"file://{bare}"
    assert run(*post_args(url, "a.md", "a"))[0] == 0
    (lock,) = (cache_dir / "repos").glob("*.lock")
    with open(lock, "a+b") as handle:  # a process that hangs while holding the cache
        fcntl.flock(handle, fcntl.LOCK_EX)
        code, out, err, seconds = run(
            *post_args(url, "b.md", "b"), env={"PULSEOX_LOCK_TIMEOUT": "1"}
        )
    assert code == 1 and out == "" and "stayed locked for 1s" in err and seconds < 10, err
    assert run(*post_args(url, "b.md", "b"))[0] == 0  # free again: works
    survived("cache locked by a hung process: gave up after PULSEOX_LOCK_TIMEOUT")


# -- damaged caches and replaced remotes ------------------------------------------------


def _garble_objects(repo: Path) -> None:
    for obj in (repo / "objects").rglob("*"):
        if obj.is_file() and obj.parent.name != "info":
            obj.chmod(0o644)
            obj.write_bytes(obj.read_bytes()[:20] + b"garbage")


def _drop_objects(repo: Path) -> None:
    for obj in (repo / "objects").iterdir():
        if obj.name != "info":
            shutil.rmtree(obj) if obj.is_dir() else obj.unlink()


def _garble_refs(repo: Path) -> None:
    for ref in (repo / "refs").rglob("*"):
        if ref.is_file():
            ref.write_text("not a sha\n")
    (repo / "packed-refs").write_text("garbage\n")


def _replace_with_a_file(repo: Path) -> None:
    shutil.rmtree(repo)
    repo.write_text("not a repository")


DAMAGE = {
    "garbled objects": _garble_objects,
    "objects deleted": _drop_objects,
    "refs garbled": _garble_refs,
    "config deleted": lambda repo: (repo / "config").unlink(),
    "HEAD garbled": lambda repo: (repo / "HEAD").write_text("garbage"),
    "marker deleted": lambda repo: (repo / "pulseox-cache.json").unlink(),
    "config holds an invalid refspec": lambda repo: git(
        "config", "remote.origin.fetch", "+refs/heads/a/.b:refs/remotes/origin/a/.b", cwd=repo
    ),
    "cache is a file": _replace_with_a_file,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_cache_is_detected_and_rebuilt(bare, cache_dir, damage):
    url = f"file://{bare}"
    for name in ("a.md", "b.md"):
        assert run(*post_args(url, name, name))[0] == 0
    (repo,) = [p for p in (cache_dir / "repos").iterdir() if p.is_dir()]
    DAMAGE[damage](repo)
    code, _out, err, _s = run(*post_args(url, "c.md", "c"))
    assert code == 0, err
    assert log(bare) == [f"pulseox: {n}.md GOOD" for n in "cba"]
    git("fsck", "--strict", cwd=bare)
    survived(f"cache damaged: {damage}")


def test_a_remote_replaced_by_another_repository_is_followed(bare, tmp_path):
    url = f"file://{bare}"
    assert run(*post_args(url, "old.md", "old"))[0] == 0
    shutil.rmtree(bare)
    make_bare(bare)
    commit_files(bare, {"new.md": "new"}, message="another repository")
    code, _out, err, _s = run(*post_args(url, "a.md", "a"))
    assert code == 0, err
    assert log(bare) == ["pulseox: a.md GOOD", "another repository"]
    assert git("ls-tree", "-r", "--name-only", "main", cwd=bare).split() == ["a.md", "new.md"]
    survived("remote replaced by another repository")


def test_a_force_pushed_remote_is_followed_with_nothing_stale(bare):
    url = f"file://{bare}"
    run(*post_args(url, "a.md", "a"))
    first = git("rev-parse", "main", cwd=bare).strip()
    run(*post_args(url, "stale.md", "should vanish"))
    run(*post_args(url, "a.md", "a, stale version"))
    commit_files(bare, {"c.md": "rewritten"}, message="rewrite", force_parent=first)
    code, _out, err, _s = run(*post_args(url, "d.md", "d"))
    assert code == 0, err
    assert git("ls-tree", "-r", "--name-only", "main", cwd=bare).split() == ["a.md", "c.md", "d.md"]
    assert_whole(bare, "a.md", "a")
    assert log(bare) == ["pulseox: d.md GOOD", "rewrite", "pulseox: a.md GOOD"]
    survived("remote force-pushed back in time")


def test_a_force_push_resurrects_nothing_in_the_next_summary_or_history(bare):
    """The dashboard's state, summary and history cache all follow the rewrite."""
    url = f"file://{bare}"
    specs = "".join(
        f'[[spec]]\nowner = "o"\nrepo = "r"\npath = "{p}"\nschedule = "1h"\n'
        for p in ("a.md", "stale.md")
    )
    commit_files(bare, {"pulseox.toml": specs})
    run(*post_args(url, "a.md", "a"))
    first = git("rev-parse", "main", cwd=bare).strip()
    run(*post_args(url, "stale.md", "gone soon"))
    refresh = ["dashboard", "refresh", "--owner", "o", "--repo", "r", "--remote", url]
    assert run(*refresh)[0] == 0
    history = ["history", "--owner", "o", "--repo", "r", "--remote", url, "--json"]
    assert len(json.loads(run(*history, "--path", "stale.md")[1])) == 1  # history cached
    commit_files(bare, {"c.md": "rewritten"}, message="rewrite", force_parent=first)
    code, _out, err, _s = run(*refresh)
    assert code == 0, err
    state = json.loads(show(bare, "pulseox-state.json"))["statuses"]
    assert state["o/r:a.md"]["report"] == "GOOD"
    assert state["o/r:stale.md"]["report"] is None  # not the OK it had before the rewrite
    assert json.loads(run(*history, "--path", "stale.md")[1]) == []
    assert git("ls-tree", "--name-only", "main", cwd=bare).split().count("stale.md") == 0
    survived("remote force-pushed: no stale page in the next summary or history")


# -- remotes that are gone, slow or drop the connection -------------------------------


def test_an_unreachable_remote_fails_fast_and_clearly(tmp_path):
    import socket

    with socket.socket() as sock:  # a port that is certainly closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for url in (f"http://127.0.0.1:{port}/o/r.git", f"file://{tmp_path}/nowhere.git"):
        code, out, err, seconds = run(*post_args(url, "a.md", "x"))
        assert code == 1 and out == "" and seconds < 15
        errors = [line for line in err.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and url in errors[0] and "Traceback" not in err
    survived("remote unreachable (closed port, missing path)")


@pytest.mark.slow
@pytest.mark.parametrize("knob", ["PULSEOX_GIT_STALL_SECONDS", "PULSEOX_GIT_TIMEOUT"])
def test_a_stalled_remote_is_given_up_on_in_bounded_time(tmp_path, knob):
    from fixtures.git_http import GitHttpServer

    bare = make_bare(tmp_path / "http" / "o" / "r.git")
    commit_files(bare, {"seed.md": "seed"})
    before = refs(bare)
    # a server of its own: its stalled threads wake up after this test has ended
    with GitHttpServer(tmp_path / "http") as server:
        server.httpd.handle_error = lambda *_args: None  # ... to a closed socket, quietly
        server.httpd.stall_seconds = 12
        server.set(fault="stall")
        env = {"PULSEOX_GIT_STALL_SECONDS": "30", "PULSEOX_GIT_TIMEOUT": "60", knob: "2"}
        code, out, err, seconds = run(*post_args(server.url("o", "r"), "a.md", "x"), env=env)
    assert code == 1 and out == "" and "Traceback" not in err and server.url("o", "r") in err
    assert seconds < 10, f"took {seconds:.1f}s"
    assert refs(bare) == before
    survived(f"remote stalls ({knob}=2 gave up in {seconds:.1f}s)")


def test_a_remote_that_goes_away_mid_push_fails_cleanly(http, http_repo):
    owner, repo, bare = http_repo
    commit_files(bare, {"seed.md": "seed"})
    before = refs(bare)
    http.set(fault="drop-push")
    code, out, err, seconds = run(*post_args(http.url(owner, repo), "a.md", "x"))
    http.set(fault=None)
    assert code == 1 and out == "" and "Traceback" not in err and seconds < 15
    assert f"push to {http.url(owner, repo)}" in err
    assert refs(bare) == before
    code, _out, err, _s = run(*post_args(http.url(owner, repo), "a.md", "x"))
    assert code == 0, err
    survived("remote goes away mid-push")


# -- notifiers that fail or hang ----------------------------------------------------------


def test_a_failing_notifier_is_reported_and_the_summary_commit_kept(bare, tmp_path):
    from fixtures.webhook import WebhookSink

    url = f"file://{bare}"
    commit_files(
        bare,
        {"pulseox.toml": '[[spec]]\nowner = "o"\nrepo = "r"\npath = "a.md"\nschedule = "1h"\n'},
    )
    run(*post_args(url, "a.md", "a"))
    hook = json.dumps({"slack": {"webhook_url_env": "OPS_HOOK"}})
    with WebhookSink(status=500) as sink:
        env = {"OPS_HOOK": sink.url("/services/T0/B0/secret-path")}
        refresh = [
            "dashboard",
            "refresh",
            "--owner",
            "o",
            "--repo",
            "r",
            "--remote",
            url,
            "--notify",
            hook,
        ]
        code, _out, err, seconds = run(*refresh, env=env)
        assert code == 0 and seconds < 30 and "slack" in err and "secret-path" not in err, err
        assert log(bare)[0].startswith("pulseox: dashboard")
        run(*post_args(url, "a.md", "now bad"), "--report", "BAD")  # a change to tell
        code, _out, err, _s = run(*refresh, "--strict-notify", env=env)
        assert code == 1 and "Traceback" not in err, err
        assert log(bare)[0].startswith("pulseox: dashboard")  # kept although notify failed
        assert len(sink.requests) == 2
    survived(
        "notifier endpoint fails (HTTP 500): reported, summary kept, exit 1 only with "
        "--strict-notify"
    )


def test_a_hanging_notifier_is_given_up_on_and_the_summary_commit_kept(remote):
    from fixtures.webhook import WebhookSink
    from pulseox_git.client import PulseOxClient
    from pulseox_git.dashboard import PulseOxDashboard
    from pulseox_git.specs import PulseOxSpec

    PulseOxClient().post("owner", "repo", "a.md", "x")
    with WebhookSink(delay=30, max_delay=30) as sink:
        began = time.monotonic()
        board = PulseOxDashboard(
            owner="owner",
            repo="repo",
            notify_timeout=1,
            spec_list=[PulseOxSpec("owner", "repo", "a.md", "1h")],
            notify={"slack": {"webhook_url": sink.url("/hang")}},
        )
        board.write_summary()
        seconds = time.monotonic() - began
        sink.released.set()
    assert board.notify_failures == ["slack: no answer within 1s"]
    assert seconds < 8 and log(remote)[0].startswith("pulseox: dashboard")
    survived(f"notifier endpoint hangs: given up after 1s, summary kept ({seconds:.1f}s in all)")


# -- a full disk ---------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 1 MiB tmpfs, or None where this machine does not allow mounting one."""
    mount = tmp_path / "small"
    mount.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True
    )
    if proc.returncode != 0:
        yield None
        return
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("cache", ["warm", "fresh"])
def test_a_full_disk_gives_a_clear_error_and_the_cache_survives(
    bare, small_disk, wrapped_path, cache
):
    url = f"file://{bare}"
    env = {"PULSEOX_GIT_CACHE": str(small_disk / "cache")} if small_disk else {}
    step = "fast-import"
    if cache == "warm":
        assert run(*post_args(url, "a.md", "a"), env=env)[0] == 0
    else:  # the very first run finds the disk full
        commit_files(bare, {"a.md": "a"}, message="pulseox: a.md GOOD")
        step = "init"
    before = refs(bare)
    if small_disk:  # fill the disk for real
        filler = small_disk / "filler"
        with open(filler, "wb", buffering=0) as handle, pytest.raises(OSError):
            while True:
                handle.write(b"\0" * 4096)
        how = "a full 1 MiB tmpfs"
    else:  # simulated at the write call: git fails the way it does on ENOSPC
        env = {"PATH": wrapped_path, "FAULT_AT": step, "FAULT_MODE": "enospc"}
        how = "a simulated ENOSPC from git"
    code, out, err, _s = run(*post_args(url, "b.md", "b" * 20000), env=env)
    assert code == 1 and out == "" and "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "disk holding the cache" in errors[0] and "full" in errors[0]
    assert refs(bare) == before
    if small_disk:
        filler.unlink()
    else:
        env = {}
    code, _out, err, _s = run(*post_args(url, "b.md", "b"), env=env)
    assert code == 0, err
    if cache == "warm":  # the cache was kept, not recloned
        assert "rebuilding" not in err and "cloning" not in err
    assert log(bare) == ["pulseox: b.md GOOD", "pulseox: a.md GOOD"]
    survived(f"disk full while writing a {cache} cache ({how})")


def test_a_failed_blob_fetch_names_the_operation_and_the_remote(bare: Path, tmp_path: Path):
    """A blobless cache fetches page contents on demand; when the remote is gone the
    message says `fetch from <remote>`, not the `-c` option git was started with."""
    from pulseox_git.errors import RemoteError
    from pulseox_git.store.git import GitStore

    commit_files(bare, {"a.md": "hello"})
    git("config", "uploadpack.allowFilter", "true", cwd=bare)  # as GitHub does
    store = GitStore(f"file://{bare}", blobless=True)
    tip = store.run(lambda tip: tip)
    bare.rename(tmp_path / "gone.git")
    with store.locked(), pytest.raises(RemoteError) as info:
        store.read_files(tip, ["a.md"])
    assert str(info.value).startswith(f"cannot fetch from file://{bare}: ")
    assert " -c " not in str(info.value)


def test_a_failed_first_clone_leaves_nothing(tmp_path: Path, bare: Path, cli):
    """A mistyped remote must not leave a cache folder (or its lock) behind; caches
    already there stay."""
    missing = f"file://{tmp_path}/no-such-repo.git"
    fresh = tmp_path / "fresh-cache"
    args = ("post", "--owner", "o", "--repo", "r", "--path", "a.md", "--content", "x")
    code, _out, err = cli(*args, "--remote", missing, "--cache-dir", fresh)
    assert code == 1 and f"cannot fetch from {missing}" in err
    assert not fresh.exists()
    used = tmp_path / "used-cache"
    assert cli(*args, "--remote", f"file://{bare}", "--cache-dir", used)[0] == 0
    before = sorted(p.relative_to(used) for p in used.rglob("*"))
    assert cli(*args, "--remote", missing, "--cache-dir", used)[0] == 1
    assert sorted(p.relative_to(used) for p in used.rglob("*")) == before
