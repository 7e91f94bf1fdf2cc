"""Reading watched repositories at once: a bounded pool, results in the order given
whatever finished first, failures kept per repository; over git (smart HTTP,
one repository slowed by a latency proxy) and over the fake GitHub API."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fixtures.latency_proxy import LatencyProxy
from fixtures.repos import make_bare
from pulseox_git.client import PulseOxClient
from pulseox_git.dashboard import PulseOxDashboard
from pulseox_git.dashboard.edit import add_spec
from pulseox_git.dashboard.reads import gather
from pulseox_git.errors import BadInputError, RemoteError
from pulseox_git.specs import PulseOxSpec

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_jobs_run_at_once_and_come_back_in_the_order_given():
    started = threading.Barrier(3, timeout=30)  # breaks (and fails) unless all three run at once
    last_done = threading.Event()

    def job(name: str) -> str:
        started.wait()
        if name == "first":  # finishes last
            assert last_done.wait(30)
        if name == "third":
            last_done.set()
        return name.upper()

    jobs = {n: (lambda n=n: job(n)) for n in ("first", "second", "third")}
    assert list(gather(jobs, workers=3).items()) == [
        ("first", "FIRST"),
        ("second", "SECOND"),
        ("third", "THIRD"),
    ]


def test_the_pool_is_bounded_and_failures_stay_per_job():
    lock, running, peak = threading.Lock(), [0], [0]
    pair = threading.Barrier(2, timeout=30)

    def job(i: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        pair.wait()  # two at a time, never more
        with lock:
            running[0] -= 1
        if i == 1:
            raise RemoteError("cannot fetch r1")
        return i

    done = gather({i: (lambda i=i: job(i)) for i in range(6)}, workers=2)
    assert peak[0] == 2 and [done[i] for i in (0, 2, 3, 4, 5)] == [0, 2, 3, 4, 5]
    assert isinstance(done[1], RemoteError)

    def broken() -> int:
        raise ValueError("a bug is not a remote failure")

    with pytest.raises(ValueError, match="a bug"):
        gather({"ok": lambda: 1, "bug": broken}, workers=2)


def test_a_bad_concurrency_setting_is_refused(monkeypatch):
    monkeypatch.setenv("PULSEOX_FETCH_CONCURRENCY", "0")
    with pytest.raises(BadInputError, match="bad PULSEOX_FETCH_CONCURRENCY '0'"):
        gather({"a": lambda: 1, "b": lambda: 2})


def setup_repos(root: Path, fast: int, slow: int) -> list[PulseOxSpec]:
    """Repositories under the owners `fast` and `slow` (each a proxy port, so the
    remote template sends each owner through its own proxy), with posted pages."""
    specs = []
    for owner, repo in ((fast, "own"), (slow, "slow"), (fast, "r1"), (fast, "r2")):
        make_bare(root / "x" / f"{repo}.git")
        specs.append(PulseOxSpec(str(owner), repo, "job.md", "1d"))
    specs.append(PulseOxSpec(str(fast), "gone", "job.md", "1d"))  # no such repository
    return specs


@pytest.mark.slow
@pytest.mark.parametrize("given", [True, False], ids=["spec_list", "pulseox.toml"])
def test_output_does_not_depend_on_which_fetch_finished_first(http, tmp_path, monkeypatch, given):
    root = http.httpd.root
    with LatencyProxy(http.port, delay=0) as fast, LatencyProxy(http.port, delay=0.3) as slow:
        # the owner names the port: each owner's repositories go through its proxy
        template = "http://127.0.0.1:{owner}/x/{repo}.git"
        specs = setup_repos(root, fast.port, slow.port)
        own = specs[0].owner

        def client(cache: str) -> PulseOxClient:
            return PulseOxClient(remote=template, cache_dir=tmp_path / cache, clock=lambda: T0)

        poster = client("poster")
        for s in specs[:4]:
            poster.post(
                s.owner, s.repo, s.path, f"ran in {s.repo}", "BAD" if s.repo == "r1" else "GOOD"
            )
        if not given:
            for s in specs:
                add_spec(poster, own, "own", s)
        results = []
        for workers in ("1", "8"):
            monkeypatch.setenv("PULSEOX_FETCH_CONCURRENCY", workers)
            board = PulseOxDashboard(
                owner=own,
                repo="own",
                spec_list=specs if given else None,
                client=client(f"cache-{workers}"),
                clock=lambda: T0,
            ).refresh()
            results.append((board.summary.text, board.report(), dict(board.read_failures)))
    assert results[0] == results[1]
    _text, report, failures = results[1]
    assert [s["repo"] for s in report["specs"]] == ["own", "slow", "r1", "r2", "gone"]
    assert [s["status"] for s in report["specs"]] == ["OK", "OK", "ERROR", "OK", "ERROR"]
    assert list(failures) == [(own, "gone")]  # only the missing repository failed
    assert "cannot read" in report["specs"][4]["note"]


def test_api_reads_stay_under_the_concurrency_limit(api, monkeypatch):
    monkeypatch.setenv("PULSEOX_API_CONCURRENCY", "2")
    owner, _ = api.new_repo()
    specs = []
    poster = PulseOxClient(clock=lambda: T0)  # by git, into the same bare repositories
    for i in range(6):
        make_bare(api.httpd.root / owner / f"r{i}.git")
        poster.post(owner, f"r{i}", "job.md", "ran")
        specs.append(PulseOxSpec(owner, f"r{i}", "job.md", "1d"))
    api.httpd.delay = 0.05  # requests overlap, as on a network
    client = PulseOxClient(transport="api", api_url=api.url, clock=lambda: T0)
    board = PulseOxDashboard(owner=owner, repo="status", spec_list=specs, client=client)
    board.clock = lambda: T0
    statuses = [e.status for e in board.refresh().summary.entries]
    assert statuses == ["OK"] * 6
    assert 1 <= api.httpd.peak <= 2
