"""Queued posts: a post that keeps losing its race goes to an inbox ref of its own
and exits 0; readers count it at once; the next writer to win the branch folds it in
with one merge commit and deletes the ref in the same atomic push.

Races are real: a pre-receive hook (fixtures.repos.make_busy) lands a rival
commit just before each push to main is applied, so that push's lease fails."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fixtures.repos import commit_files, git, inbox_refs, log, make_busy, show
from pulseox_git.client import PulseOxClient
from pulseox_git.errors import PushConflictError
from pulseox_git.store.base import Backoff
from pulseox_git.store.git import inbox
from pulseox_git.store.git.command import Git

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def at(minutes: float):
    return lambda: T0 + timedelta(minutes=minutes)


def client(tmp_path: Path, name: str, minutes: float = 0) -> PulseOxClient:
    """A client with a cache of its own, as a separate CI job has."""
    return PulseOxClient(cache_dir=tmp_path / f"cache-{name}", clock=at(minutes))


@pytest.fixture
def seeded(remote: Path) -> Path:
    commit_files(remote, {"seed.md": "seed\n"}, message="seed", date="2026-05-01T11:00:00Z")
    return remote


def test_a_post_that_loses_at_the_remote_is_queued_at_once_and_exits_0(
    seeded: Path, tmp_path: Path, cli
):
    tip = git("rev-parse", "main", cwd=seeded).strip()
    make_busy(seeded)
    result = client(tmp_path, "a").post("owner", "repo", "jobs/a.md", "queued one")
    # its lease held when it connected, and the update lost at the remote: others
    # push at this very moment, so it queues the commit that lost (2 pushes)
    assert result.queued and result.status_code == 201 and result.attempts == 2
    (ref, sha), *more = inbox_refs(seeded).items()
    assert not more and sha == result.sha
    assert ref.startswith("refs/pulseox/inbox/20260501T120000Z-")
    # built on the tip it saw, with its own time and trailer
    assert git("rev-parse", f"{sha}^", cwd=seeded).strip() == tip
    assert git("log", "-1", "--format=%ct", sha, cwd=seeded).strip() == str(int(T0.timestamp()))
    assert "Pulseox-Page: " in git("log", "-1", "--format=%B", sha, cwd=seeded)
    assert "queued one" in show(seeded, "jobs/a.md", rev=sha)
    assert "jobs/a.md" not in git("ls-tree", "-r", "--name-only", "main", cwd=seeded)

    code, out, _err = cli("post", "--owner", "owner", "--repo", "repo", "--path", "b.md",
                          "--content", "x")  # fmt: skip
    assert code == 0 and out.startswith("queued 1 page as ") and "inbox ref" in out


def test_a_stale_cache_fetches_and_queues_after_two_lost_races(seeded: Path, tmp_path: Path):
    writer = client(tmp_path, "a")
    writer.history("owner", "repo", "seed.md")  # a warm cache ...
    commit_files(seeded, {"x.md": "x"}, message="theirs", date="2026-05-01T11:10:00Z")
    make_busy(seeded)  # ... that is behind: the first push fails on its lease
    result = writer.post("owner", "repo", "jobs/a.md", "queued")
    assert result.queued and result.attempts == 3  # stale, fetched and lost, queued
    sha = next(iter(inbox_refs(seeded).values()))
    parent = git("rev-parse", f"{sha}^", cwd=seeded).strip()
    assert git("log", "-1", "--format=%s", parent, cwd=seeded).strip() == "theirs"


def test_a_stale_post_that_sees_others_queueing_now_queues_without_fetching(
    seeded: Path, tmp_path: Path
):
    seed = git("rev-parse", "main", cwd=seeded).strip()
    PulseOxClient(cache_dir=tmp_path / "w").history("owner", "repo", "seed.md")  # warm
    busy = make_busy(seeded)
    PulseOxClient(cache_dir=tmp_path / "other").post("owner", "repo", "o.md", "queued now")
    busy.unlink()  # the branch is free again, but this writer's cache is behind
    result = PulseOxClient(cache_dir=tmp_path / "w").post("owner", "repo", "w.md", "me too")
    assert result.queued and result.attempts == 2  # stale, and a burst: no 2nd try
    assert len(inbox_refs(seeded)) == 2
    # the remote's inbox names a post from just now: the commit that lost is queued
    # as it was, on the cached tip, with no fetch of the moved branch or the inbox
    assert git("rev-parse", f"{result.sha}^", cwd=seeded).strip() == seed


def test_a_stale_post_that_sees_only_old_queued_posts_fetches_and_lands(
    seeded: Path, tmp_path: Path
):
    writer = client(tmp_path, "w", 60)
    writer.history("owner", "repo", "seed.md")  # warm
    busy = make_busy(seeded)
    old = client(tmp_path, "old").post("owner", "repo", "old.md", "queued long ago")
    busy.unlink()  # queued at T0, months before this machine's clock: no burst now
    result = writer.post("owner", "repo", "w.md", "landed")
    assert not result.queued and result.attempts == 2  # stale, fetched, won the branch
    assert inbox_refs(seeded) == {}  # and folded the old one in the same push
    git("merge-base", "--is-ancestor", old.sha, "main", cwd=seeded)  # raises if not


def test_the_burst_check_reads_post_times_from_inbox_ref_names(seeded: Path, tmp_path: Path):
    cache = tmp_path / "cache.git"
    git("clone", "-q", "--bare", str(seeded), str(cache), cwd=tmp_path)
    probe = Git(cache, dict(os.environ), 60.0, "test", tmp_path)
    now = T0.timestamp()
    assert not inbox.others_queueing(probe, now)  # no inbox ref at all
    for name in ("20260501T115900Z-a1", "20260501T115935Z-b2", "not-a-time"):
        git("update-ref", f"{inbox.INBOX}/{name}", "main", cwd=seeded)
    assert not inbox.others_queueing(probe, now + 60)  # the newest is 85 s old
    assert inbox.others_queueing(probe, now)  # one from 25 s ago: a burst is on
    git("remote", "set-url", "origin", str(tmp_path / "gone.git"), cwd=cache)
    assert not inbox.others_queueing(probe, now)  # no answer: fetch as before


def test_readers_count_a_queued_post_at_once(seeded: Path, tmp_path: Path):
    make_busy(seeded)
    client(tmp_path, "a", 1).post("owner", "repo", "jobs/a.md", "queued", report="BAD")
    reader = client(tmp_path, "reader")
    history = reader.history("owner", "repo", "jobs/a.md")
    assert [(r.report, r.time) for r in history] == [("BAD", T0 + timedelta(minutes=1))]
    store = reader.store("owner", "repo")
    files = store.run(lambda head: store.read_files(head, ["jobs/a.md"]))
    assert b"queued" in files["jobs/a.md"]


def test_the_next_winner_folds_the_inbox_in_one_atomic_push(seeded: Path, tmp_path: Path):
    busy = make_busy(seeded)
    queued = [client(tmp_path, f"q{i}", i).post("owner", "repo", f"q{i}.md", "q") for i in (1, 2)]
    assert all(r.queued for r in queued) and len(inbox_refs(seeded)) == 2
    busy.unlink()
    winner = client(tmp_path, "w", 3).post("owner", "repo", "w.md", "winner")
    assert not winner.queued and inbox_refs(seeded) == {}
    merge = git("rev-parse", "main^", cwd=seeded).strip()
    parents = git("log", "-1", "--format=%P", merge, cwd=seeded).split()
    assert parents[1:] == [r.sha for r in queued]  # oldest first, each post its own commit
    assert log(seeded)[:2] == ["pulseox: w.md GOOD", "pulseox: fold 2 queued posts"]
    for name in ("q1", "q2", "w"):
        assert "q" in show(seeded, f"{name}.md") or name == "w"
    # every post once, with its own time, read from a cache that saw the inbox before
    reader = client(tmp_path, "q1")
    for minutes, name in ((1, "q1"), (2, "q2"), (3, "w")):
        history = reader.history("owner", "repo", f"{name}.md")
        assert [r.time for r in history] == [T0 + timedelta(minutes=minutes)]


def test_an_inbox_commit_already_on_the_branch_only_loses_its_ref(seeded: Path, tmp_path: Path):
    tip = git("rev-parse", "main", cwd=seeded).strip()
    git("update-ref", "refs/pulseox/inbox/20260501T115900Z-00000000", tip, cwd=seeded)
    client(tmp_path, "w").post("owner", "repo", "w.md", "winner")
    assert inbox_refs(seeded) == {}
    assert log(seeded) == ["pulseox: w.md GOOD", "seed"]  # no fold commit for it


def test_a_newer_post_on_the_branch_wins_over_an_older_queued_one(seeded: Path, tmp_path: Path):
    busy = make_busy(seeded)
    queued = client(tmp_path, "old", 1).post("owner", "repo", "p.md", "old, queued")
    busy.unlink()
    commit_files(seeded, {"p.md": "newer, by hand\n"}, date="2026-05-01T12:05:00Z")
    client(tmp_path, "w", 6).post("owner", "repo", "w.md", "a later writer folds")
    assert inbox_refs(seeded) == {} and show(seeded, "p.md") == "newer, by hand\n"
    assert git("merge-base", "--is-ancestor", queued.sha, "main", cwd=seeded) == ""


def test_with_the_inbox_off_a_post_retries_until_its_attempts_run_out(
    seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    make_busy(seeded)
    monkeypatch.setenv("PULSEOX_INBOX", "0")
    monkeypatch.setenv("PULSEOX_PUSH_ATTEMPTS", "3")
    with pytest.raises(PushConflictError, match="after 3 attempts"):
        client(tmp_path, "a").post("owner", "repo", "a.md", "never lands")
    assert inbox_refs(seeded) == {}


def test_backoff_is_full_jitter_bounded_by_the_deadline():
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    backoff = Backoff(sleep, deadline=1.0, clock=lambda: now[0], draw=lambda: 1.0)
    for _ in range(6):
        backoff.lost_one()
        backoff.wait()
    assert slept[:4] == [0.05, 0.1, 0.2, 0.4]  # the cap doubles; the draw is up to it
    assert sum(slept) == pytest.approx(1.0) and backoff.expired()  # never past the deadline
    assert Backoff(sleep, deadline=1.0, clock=lambda: 0.0, draw=lambda: 0.0).sleep is sleep
    zero = Backoff(slept.append, deadline=5.0, clock=lambda: 0.0, draw=lambda: 0.0)
    zero.wait()
    assert slept[-1] == 0.0  # full jitter: a pause may be none at all
    assert zero.exhausted(1) is False
    zero.lost_one()
    assert zero.exhausted(1) and not zero.exhausted(2)


@pytest.mark.slow
def test_a_burst_of_32_loses_nothing_and_one_refresh_puts_every_post_on_the_branch(
    tmp_path: Path,
):
    """scripts/burst.py: 32 writer processes with caches of their own, released at
    once; every report is on the branch or in an inbox; one `dashboard refresh`
    folds them all; history lists every post once, with its own time."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    import burst

    from fixtures.latency_proxy import LatencyProxy

    root = tmp_path / "root"
    root.mkdir()
    with (
        burst.CountingServer(root, burst.TOKEN) as server,
        LatencyProxy(server.port, delay=0) as proxy,
    ):
        run = burst.run_burst(tmp_path / "runs", server, proxy, 32, settle=True)
    assert run["lost"] == 0 and run["missing"] == 0
    assert run["landed"] + run["in_inbox"] == 32 and run["queued"] == run["in_inbox"] > 0
    assert run["log_disagreements"] == 0 and run["pushes_per_writer"]["max"] <= 3
    settled = run["settled"]
    assert settled["exit"] == 0, settled["error"]
    assert (settled["landed"], settled["inbox_refs_left"]) == (32, 0)
    bare = next(root.glob("o/shared-*.git"))
    writer = PulseOxClient(remote=f"file://{root}/{{owner}}/{{repo}}.git")
    for w in run["per_writer"]:
        page = f"jobs/w{w['writer']:03d}.md"
        history = writer.history("o", bare.name.removesuffix(".git"), page)
        commits = git("log", "--format=%H %ct", "main", "--", page, cwd=bare).split()
        assert len(history) == 1 and [history[0].commit] == commits[0::2]
        assert int(history[0].time.timestamp()) == int(commits[1])  # the post's own time
        assert "Pulseox-Page:" in git("log", "-1", "--format=%B", commits[0], cwd=bare)
