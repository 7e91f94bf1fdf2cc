"""The status rules: put one spec in exactly one of ERROR, MISSING and OK
(alerting.py may then hold a failing one as PAUSED).

Pure: the page's text, its history and `now` come in, an `Entry` goes out.
`Summary` is the entries of one refresh with the text rendered from them.
The rules are the same on any clone: anyone can recompute a verdict.

A start marker (START) never stands for how the job went: while one is at
the tip, the verdict is the last finished report's (from the history), with
`running since ...` in its note, until the run has gone on too long (its
`max_duration`, else the spec's grace, else until the next run is due).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pulseox_git.dashboard import runs
from pulseox_git.dashboard.pauses import Hold
from pulseox_git.dashboard.schedule import deadline, describe
from pulseox_git.dashboard.specs import PulseOxSpec, Settings
from pulseox_git.dashboard.trends import Trend
from pulseox_git.durations import brief
from pulseox_git.errors import BadInputError
from pulseox_git.page import START, Footer, RunFields, age_problem, format_time, parse
from pulseox_git.store.base import Report

STATUSES = ("ERROR", "MISSING", "PAUSED", "OK")
HELD = "PAUSED"  # a failing spec under a pause or in a maintenance window (pauses.py)


@dataclass
class Entry:
    """One spec's place on the dashboard. `history` (newest first) is every report
    of the page, for trend notes."""

    spec: PulseOxSpec
    status: str
    note: str
    updated: datetime | None = None
    report: str | None = None
    problem: str | None = None
    previous: str | None = None
    history: list[Report] = field(default_factory=list)
    trend: Trend | None = None  # figures from `history`, for the trend note
    running_since: datetime | None = None  # a run that started and has not finished
    tolerated: str | None = None  # `1 of 3 failures`: kept out of ERROR/MISSING (alerting.py)
    since: datetime | None = None  # when the spec entered this status (from the state file)
    notified: datetime | None = None  # when a notification about it was last due
    reminder: bool = False  # still ERROR/MISSING, and `remind_every` has passed since then
    hold: Hold | None = None  # why it is PAUSED
    blocked_by: str | None = None  # the key of a failing spec this failing one depends on

    @property
    def changed(self) -> bool:
        return self.previous != self.status

    def as_json(self) -> dict[str, Any]:
        spec = self.spec
        return {
            "owner": spec.owner,
            "repo": spec.repo,
            "path": spec.path,
            "schedule": describe(spec.schedule),
            "status": self.status,
            "previous": self.previous,
            "report": self.report,
            "note": self.note,
            "updated": format_time(self.updated) if self.updated else None,
            "problem": self.problem,
            "running_since": format_time(self.running_since) if self.running_since else None,
            "trend": self.trend.to_json() if self.trend else None,
            "tolerated": self.tolerated,
            "pause": self.hold.to_json() if self.hold else None,
            "blocked_by": self.blocked_by,
        }


def classify(
    spec: PulseOxSpec, text: bytes | None, history: list[Report], now: datetime, settings: Settings
) -> Entry:
    """Put one spec in exactly one of ERROR, MISSING and OK."""
    try:
        if isinstance(spec.schedule, str):
            deadline(spec.schedule, now)
    except BadInputError as err:  # a hand-written cron that never comes round
        return Entry(spec, "ERROR", str(err), problem="schedule", history=history)
    if text is None:
        gone = bool(history) and history[0].problem == "deleted"
        note = "deleted from the repository" if gone else "not in the repository"
        return Entry(spec, "MISSING", note, problem=note, history=history)
    footer = parse(text.decode("utf-8", "replace"))
    tip_time = history[0].time if history else footer.updated
    problem = footer.problem
    if problem is None and footer.updated is not None:  # the tip's footer, against its commit
        problem = age_problem(footer.updated, tip_time or footer.updated, now, settings.tolerance)
    if problem:
        return Entry(spec, "ERROR", problem, tip_time, footer.report, problem, history=history)
    last = last_outcome(footer, tip_time, history)
    start = runs.open_start(history)
    since = start.time if start else tip_time if footer.report == START and not history else None
    if since is not None:
        limit = run_limit(spec, since, settings)
        if now - since > limit:
            note = f"running for {brief(now - since)}, no finish (limit {brief(limit)})"
            return Entry(
                spec,
                "ERROR",
                note,
                last.time if last else since,
                last.report if last else START,
                "no finish",
                history=history,
                running_since=since,
            )
    entry = judge_outcome(spec, last, since, now, settings)
    entry.history, entry.running_since = history, since
    if since is not None:
        running = f"running since {format_when(since, settings.tz)}"
        entry.note = f"{entry.note}; {running}" if entry.note else running
    return entry


def last_outcome(footer: Footer, tip_time: datetime | None, history: list[Report]) -> Report | None:
    """The newest report that says how the job went: the tip's footer (with its
    run's duration), or under a START at the tip the newest other report of the
    history. None when no run has finished (since the page was last deleted)."""
    lengths = runs.durations(history)
    if footer.report != START:
        assert tip_time is not None  # a footer without a time is a problem, before
        took = lengths[0] if history else footer.run.duration if footer.run else None
        commit = history[0].commit if history else ""
        return Report(commit, tip_time, footer.report, footer.note, run=_timed(footer.run, took))
    for report, took in zip(history, lengths, strict=True):
        if report.report != START:
            if report.problem == "deleted":
                return None
            run = _timed(report.run, took)
            return Report(
                report.commit, report.time, report.report, report.note, report.problem, run
            )
    return None


def _timed(run: RunFields | None, took: timedelta | None) -> RunFields | None:
    """`run` with its duration as the history tells it (its own, or since its START)."""
    if took is None:
        return run
    return RunFields(run.started if run else None, took, run.exit if run else None)


def run_limit(spec: PulseOxSpec, since: datetime, settings: Settings) -> timedelta:
    """How long a run may go on without a finish: `max_duration`, else the spec's
    grace, else until the next run is due."""
    if spec.max_duration is not None:
        return spec.max_duration
    if spec.grace_period:
        return spec.grace_period
    return deadline(spec.schedule, since, None, settings.zone) - since


def duration_problem(spec: PulseOxSpec, took: timedelta | None) -> tuple[str, str] | None:
    """(problem, note) when a finished run was longer than `max_duration` or shorter
    than `min_duration`."""
    if took is None:
        return None
    if spec.max_duration is not None and took > spec.max_duration:
        return "too long", f"ran {brief(took)}, limit {brief(spec.max_duration)}"
    if spec.min_duration is not None and took < spec.min_duration:
        return "too short", f"ran {brief(took)}, minimum {brief(spec.min_duration)}"
    return None


def judge_outcome(
    spec: PulseOxSpec,
    last: Report | None,
    since: datetime | None,
    now: datetime,
    settings: Settings,
) -> Entry:
    """The verdict of the last finished report (a run in progress within its limits
    keeps it; it also counts as a sign of life for lateness)."""
    if last is None:  # the first run is still going, within its limits
        return Entry(spec, "OK", "no finished run yet", since, START)
    if last.report is None:
        problem = last.problem or "no readable report"
        return Entry(spec, "ERROR", problem, last.time, None, problem)
    if last.report == "BAD":
        return Entry(spec, "ERROR", last.note or "reported BAD", last.time, "BAD")
    took = last.run.duration if last.run else None
    found = duration_problem(spec, took)
    if found is not None:
        problem, note = found
        note += f"; {last.note}" if last.note else ""
        return Entry(spec, "ERROR", note, last.time, last.report, problem)
    alive = max(last.time, since) if since is not None else last.time
    due = deadline(spec.schedule, alive, spec.grace_period, settings.zone)
    if now > due:
        note = f"late: due by {format_when(due, settings.tz)}"
        note += f"; {last.note}" if last.note else ""
        return Entry(spec, "MISSING", note, last.time, last.report, "late")
    return Entry(spec, "OK", last.note, last.time, last.report)


def format_when(moment: datetime | None, tz: str) -> str:
    """A time in the dashboard's zone, with the zone printed."""
    if moment is None:
        return "never"
    local = moment.astimezone(ZoneInfo(tz)).isoformat(sep=" ", timespec="seconds")
    return f"{local[:-6]} UTC" if tz == "UTC" else f"{local} {tz}"


@dataclass
class Summary:
    """The rendered summary and the entries behind it (`status` as the original)."""

    entries: list[Entry]
    text: str
    generated: datetime

    @property
    def status(self) -> dict[str, list[Entry]]:
        found = {name: [e for e in self.entries if e.status == name] for name in STATUSES}
        if not found[HELD]:  # as the original, unless something is paused
            del found[HELD]
        return found

    @property
    def changes(self) -> list[Entry]:
        return changes(self.entries)

    def counts(self) -> str:
        return counts(self.entries)

    def in_sections(self, sections: Iterable[str]) -> list[Entry]:
        """The entries in any of `sections` (for `--fail-on`)."""
        wanted = set(sections)
        return [e for e in self.entries if e.status in wanted]


def changes(entries: Sequence[Entry]) -> list[Entry]:
    """The entries whose status changed, worst first (ERROR, MISSING, OK), as the
    original lists them; in spec order within a status."""
    return sorted((e for e in entries if e.changed), key=lambda e: STATUSES.index(e.status))


def counts(entries: Sequence[Entry]) -> str:
    """`1 ERROR, 0 MISSING, 3 OK`: the summary's footer note (PAUSED only when some are)."""
    tally = {name: sum(e.status == name for e in entries) for name in STATUSES}
    return ", ".join(f"{n} {name}" for name, n in tally.items() if n or name != HELD)


def check_sections(value: str) -> set[str]:
    """Section names from a comma-separated list such as `ERROR,MISSING`."""
    names = {part.strip().upper() for part in value.split(",") if part.strip()}
    bad = sorted(names - set(STATUSES))
    if bad or not names:
        raise BadInputError(
            f"bad --fail-on {value!r}: use a comma-separated list of {', '.join(STATUSES)}"
        )
    return names
