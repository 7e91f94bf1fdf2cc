"""Runs in a page's history: which start markers finished, how long each run took.

Pure: reports (newest first, as `Store.history` gives them) in, facts out. A
start marker (report START) is closed by the first later finished report
(GOOD or BAD) of its run or a later one: a `started` time (the run's id) the
same as the marker's or after it, or either without one (a START and a plain
`post` from a CI job's first and last steps). A finish naming an earlier run
(runs overlap) leaves it open. A finished report's duration is its own
`duration:` field, else the time since the START it closed. A newer START
supersedes an older one that never finished: only the newest can be running.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from pulseox_git.page import FINISHED, START
from pulseox_git.store.base import Report


def closes(finish: Report, start: Report) -> bool:
    """Whether `finish` (newer) ends the run `start` began: its own finish, a run
    begun after it (the START's run died unheard, and later runs go on), or a post
    that names no run. Only an older run finishing late leaves it open."""
    began = start.run.started if start.run else None
    ended = finish.run.started if finish.run else None
    return began is None or ended is None or ended >= began


def durations(reports: Sequence[Report]) -> list[timedelta | None]:
    """Each report's run duration, aligned with `reports` (None for START markers,
    pages without a readable report, and finished reports of unknown length)."""
    own = [r.run.duration if r.run is not None and r.report in FINISHED else None for r in reports]
    if not any(r.report == START for r in reports):  # plain posts: nothing to pair
        return own
    found: list[timedelta | None] = [None] * len(reports)
    pending: Report | None = None  # the START waiting for its finish, walking oldest first
    for i in range(len(reports) - 1, -1, -1):
        report = reports[i]
        if report.report == START:
            pending = report
            continue
        if report.report not in FINISHED:
            continue
        took = own[i]
        paired = pending is not None and closes(report, pending)
        if took is None and paired and pending is not None:
            took = max(report.time - pending.time, timedelta(0))
        found[i] = took
        if paired:
            pending = None
    return found


def open_start(reports: Sequence[Report]) -> Report | None:
    """The newest START that no later finished report closes: a run in progress."""
    for i, report in enumerate(reports):
        if report.report == START:
            later = reports[:i]
            done = any(r.report in FINISHED and closes(r, report) for r in later)
            return None if done else report
    return None


def unfinished(reports: Sequence[Report]) -> int:
    """START markers whose run never finished: superseded by a newer START, or
    followed only by the finish of a later run (killed, the machine gone)."""
    count = 0
    pending: Report | None = None
    for report in reversed(reports):  # oldest first
        if report.report == START:
            count += pending is not None
            pending = report
        elif report.report in FINISHED and pending is not None and closes(report, pending):
            count += _later_run(report, pending)  # it ended the wait, not the run
            pending = None
    return count


def _later_run(finish: Report, start: Report) -> bool:
    began = start.run.started if start.run else None
    ended = finish.run.started if finish.run else None
    return began is not None and ended is not None and ended > began


@dataclass(frozen=True)
class Outcomes:
    """A history without its start markers, and each outcome's duration (aligned)."""

    reports: list[Report]
    durations: list[timedelta | None]

    @classmethod
    def of(cls, reports: Sequence[Report]) -> Outcomes:
        lengths = durations(reports)
        if not any(r.report == START for r in reports):
            return cls(list(reports), lengths)
        kept = [i for i, r in enumerate(reports) if r.report != START]
        return cls([reports[i] for i in kept], [lengths[i] for i in kept])


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (p90: `share` 0.9) of `values`; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-int(share * 100) * len(ordered) // 100))  # ceil, in whole numbers
    return ordered[rank - 1]
