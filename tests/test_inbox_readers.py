"""Readers see queued posts at once: the dashboard classifies, trends and `history`
read the branch plus its inbox (also with --no-write and --as-of), each report once;
the history cache stays right when the inbox is folded in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fixtures.repos import commit_files, git, inbox_refs, make_busy
from pulseox_git.client import PulseOxClient
from pulseox_git.dashboard import PulseOxDashboard
from pulseox_git.specs import PulseOxSpec

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def post(tmp_path: Path, name: str, minutes: float, path: str, report: str = "GOOD"):
    when = T0 + timedelta(minutes=minutes)
    client = PulseOxClient(cache_dir=tmp_path / f"cache-{name}", clock=lambda: when)
    return client.post("owner", "repo", path, f"{name} output", report, f"by {name}")


def board(tmp_path: Path, minutes: float, **kwargs) -> PulseOxDashboard:
    specs = [PulseOxSpec("owner", "repo", p, "1h") for p in ("a.md", "b.md")]
    return PulseOxDashboard(
        owner="owner",
        repo="repo",
        spec_list=specs,
        clock=lambda: T0 + timedelta(minutes=minutes),
        cache_dir=tmp_path / "cache-board",
        **kwargs,
    )


def statuses(dashboard: PulseOxDashboard) -> dict[str, tuple[str, str]]:
    return {e.spec.path: (e.status, e.note) for e in dashboard.summary.entries}


def queue_two(remote: Path, tmp_path: Path) -> None:
    """a.md GOOD on the branch at 12:00; a.md BAD and b.md GOOD queued at 12:10."""
    commit_files(remote, {"seed.md": "seed\n"}, message="seed", date="2026-05-01T11:00:00Z")
    post(tmp_path, "first", 0, "a.md")
    busy = make_busy(remote)
    assert post(tmp_path, "q1", 10, "a.md", "BAD").queued
    assert post(tmp_path, "q2", 10, "b.md").queued
    busy.unlink()
    assert len(inbox_refs(remote)) == 2


def test_the_dashboard_classifies_queued_posts_without_writing(remote: Path, tmp_path: Path):
    queue_two(remote, tmp_path)
    before = git("rev-parse", "main", cwd=remote)
    dashboard = board(tmp_path, 15).refresh()
    assert statuses(dashboard) == {"a.md": ("ERROR", "by q1"), "b.md": ("OK", "by q2")}
    assert git("rev-parse", "main", cwd=remote) == before and len(inbox_refs(remote)) == 2
    a = next(e for e in dashboard.summary.entries if e.spec.path == "a.md")
    assert [r.report for r in a.history] == ["BAD", "GOOD"]  # each report once, newest first
    then = board(tmp_path, 15, as_of="2026-05-01T12:12:00Z").refresh()  # still queued
    assert statuses(then) == statuses(dashboard)
    before_queue = board(tmp_path, 15, as_of="2026-05-01T12:05:00Z").refresh()
    assert statuses(before_queue)["a.md"][0] == "OK"


def test_as_of_a_time_counts_what_was_queued_by_then(remote: Path, tmp_path: Path):
    queue_two(remote, tmp_path)
    board(tmp_path, 20).write_summary()  # folds both: the branch has them now
    assert inbox_refs(remote) == {}
    then = board(tmp_path, 20, as_of="2026-05-01T12:05:00Z").refresh()
    assert statuses(then)["a.md"][0] == "OK" and statuses(then)["b.md"][0] == "MISSING"
    later = board(tmp_path, 20, as_of="2026-05-01T12:12:00Z").refresh()
    assert statuses(later) == {"a.md": ("ERROR", "by q1"), "b.md": ("OK", "by q2")}


def test_history_reads_queued_posts_and_stays_right_once_they_are_folded(
    remote: Path, tmp_path: Path
):
    queue_two(remote, tmp_path)
    reader = PulseOxClient(cache_dir=tmp_path / "cache-reader")
    queued = reader.history("owner", "repo", "a.md")
    assert [(r.report, r.time.minute) for r in queued] == [("BAD", 10), ("GOOD", 0)]
    post(tmp_path, "folder", 20, "c.md")  # a writer that fetched the inbox folds it
    assert inbox_refs(remote) == {}
    store = reader.store("owner", "repo")
    folded = reader.history("owner", "repo", "a.md")
    assert folded == queued  # the same commits: nothing lost, nothing twice
    assert store.history_cache.read(git("rev-parse", "main", cwd=remote).strip(), ["a.md"])[
        1
    ].mode in ("hit", "incremental")
    cold = PulseOxClient(cache_dir=tmp_path / "cache-cold").history("owner", "repo", "a.md")
    assert cold == queued
