"""The status rules: put one spec in exactly one of ERROR, MISSING and OK.

Pure: the page's text, its history and `now` come in, an `Entry` goes out.
`Summary` is the entries of one refresh with the text rendered from them.
The rules are the same on any clone: anyone can recompute a verdict.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pulseox_git.dashboard.schedule import deadline, describe
from pulseox_git.dashboard.specs import PulseOxSpec, Settings
from pulseox_git.dashboard.trends import Trend
from pulseox_git.errors import BadInputError
from pulseox_git.page import age_problem, format_time, parse
from pulseox_git.store.base import Report

STATUSES = ("ERROR", "MISSING", "OK")


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
            "trend": self.trend.to_json() if self.trend else None,
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
    updated = history[0].time if history else footer.updated
    problem = footer.problem
    if problem is None and footer.updated is not None:
        problem = age_problem(footer.updated, updated or footer.updated, now, settings.tolerance)
    if problem:
        return Entry(spec, "ERROR", problem, updated, footer.report, problem, history=history)
    if footer.report == "BAD":
        return Entry(spec, "ERROR", footer.note or "reported BAD", updated, "BAD", history=history)
    assert updated is not None  # a footer without a time is a problem, above
    due = deadline(spec.schedule, updated, spec.grace_period, settings.zone)
    if now > due:
        note = f"late: due by {format_when(due, settings.tz)}"
        note += f"; {footer.note}" if footer.note else ""
        return Entry(spec, "MISSING", note, updated, footer.report, "late", history=history)
    return Entry(spec, "OK", footer.note, updated, footer.report, history=history)


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
        return {name: [e for e in self.entries if e.status == name] for name in STATUSES}

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
    """`1 ERROR, 0 MISSING, 3 OK`: the summary's footer note."""
    return ", ".join(f"{sum(e.status == name for e in entries)} {name}" for name in STATUSES)


def check_sections(value: str) -> set[str]:
    """Section names from a comma-separated list such as `ERROR,MISSING`."""
    names = {part.strip().upper() for part in value.split(",") if part.strip()}
    bad = sorted(names - set(STATUSES))
    if bad or not names:
        raise BadInputError(
            f"bad --fail-on {value!r}: use a comma-separated list of {', '.join(STATUSES)}"
        )
    return names
