"""Runs in a page's history: which start markers finished, how long each run took.

Pure: reports (newest first, as `Store.history` gives them) in, facts out. A
start marker (report START) is closed by the first later finished report
(GOOD or BAD) that is the same run: the same `started` time in both footers
(the run's id), or either without one (a START and a plain `post` from a CI
job's first and last steps). A finished report's duration is its own
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
    """Whether `finish` (newer) ends the run `start` began."""
    began = start.run.started if start.run else None
    ended = finish.run.started if finish.run else None
    return began is None or ended is None or began == ended


def durations(reports: Sequence[Report]) -> list[timedelta | None]:
    """Each report's run duration, aligned with `reports` (None for START markers,
    pages without a readable report, and finished reports of unknown length)."""
    found: list[timedelta | None] = [None] * len(reports)
    pending: Report | None = None  # the START waiting for its finish, walking oldest first
    for i in range(len(reports) - 1, -1, -1):
        report = reports[i]
        if report.report == START:
            pending = report
            continue
        if report.report not in FINISHED:
            continue
        own = report.run.duration if report.run else None
        paired = pending is not None and closes(report, pending)
        if own is None and paired and pending is not None:
            own = max(report.time - pending.time, timedelta(0))
        found[i] = own
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
    """START markers that a newer START superseded before any finish closed them:
    runs that died without a word (killed, the machine gone)."""
    count = 0
    pending: Report | None = None
    for report in reversed(reports):  # oldest first
        if report.report == START:
            count += pending is not None
            pending = report
        elif report.report in FINISHED and pending is not None and closes(report, pending):
            pending = None
    return count


@dataclass(frozen=True)
class Outcomes:
    """A history without its start markers, and each outcome's duration (aligned)."""

    reports: list[Report]
    durations: list[timedelta | None]

    @classmethod
    def of(cls, reports: Sequence[Report]) -> Outcomes:
        lengths = durations(reports)
        kept = [i for i, r in enumerate(reports) if r.report != START]
        return cls([reports[i] for i in kept], [lengths[i] for i in kept])


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (p90: `share` 0.9) of `values`; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-int(share * 100) * len(ordered) // 100))  # ceil, in whole numbers
    return ordered[rank - 1]
