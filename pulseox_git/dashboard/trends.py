"""Trend figures from a page's whole history: uptime, streaks, intervals, flapping.

Pure: the reports (newest first, as `Store.history` gives them), the
page's schedule and `now` go in, numbers come out. A window covers the last
`days` days, or the last `reports` reports when those reach further back, so a
job that posts every minute is judged on its week and a daily job on its last
50 runs. Streaks, the last change and the last BAD look at the whole history.
Start markers (START) are not outcomes: they count only for run durations
(a finish without its own duration ran since its START) and unfinished runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import pairwise
from statistics import median
from typing import Any

from pulseox_git.dashboard import runs
from pulseox_git.dashboard.schedule import deadline
from pulseox_git.durations import brief, format_duration
from pulseox_git.errors import BadInputError
from pulseox_git.store.base import Report


@dataclass(frozen=True)
class TrendSettings:
    """The `[trends]` table of pulseox.toml."""

    days: int = 7  # the window covers at least this many days ...
    reports: int = 50  # ... and at least this many reports
    flapping: int = 3  # more report changes than this in the window is flapping

    @classmethod
    def from_toml(cls, table: object) -> TrendSettings:
        """Settings from a parsed `[trends]` table; bad values name themselves."""
        if table is not None and not isinstance(table, Mapping):
            raise BadInputError(
                f"bad [trends] {table!r}: use a table with days, reports and flapping"
            )
        table = dict(table or {})
        unknown = sorted(set(table) - {"days", "reports", "flapping"})
        if unknown:
            raise BadInputError(
                f"unknown [trends] setting {unknown[0]!r}: use days, reports or flapping"
            )
        values = {}
        for key, least in (("days", 0), ("reports", 0), ("flapping", 1)):
            if key in table:
                value = table[key]
                if isinstance(value, bool) or not isinstance(value, int) or value < least:
                    raise BadInputError(
                        f"bad [trends] {key} {value!r}: use a whole number of at least {least}"
                    )
                values[key] = value
        settings = cls(**values)
        if settings.days == 0 and settings.reports == 0:
            raise BadInputError("bad [trends]: days and reports cannot both be 0")
        return settings

    def to_toml(self) -> dict[str, int]:
        return {"days": self.days, "reports": self.reports, "flapping": self.flapping}


@dataclass(frozen=True)
class Trend:
    """What a page's history says; times are aware UTC datetimes."""

    window: str  # "7d" or "last 50": which bound set the window
    reports: int  # reports in the window
    good_share: float | None  # GOOD reports / reports in the window
    streak: int  # the latest report value, this many times in a row
    streak_report: str | None  # GOOD, BAD, or None (no readable report)
    last_change: datetime | None  # when the current streak began after a different report
    last_bad: datetime | None
    median_interval_s: float | None  # between posts in the window
    late_posts: int  # posts in the window that came after their deadline
    changes: int  # report changes in the window
    flapping: bool
    schedule: str | None  # how the schedule reads, for the note
    median_duration_s: float | None = None  # of the finished runs in the window
    p90_duration_s: float | None = None
    last_duration_s: float | None = None  # the newest outcome's
    unfinished_runs: int = 0  # runs in the window that started and never finished

    def to_json(self) -> dict[str, Any]:
        def stamp(moment: datetime | None) -> str | None:
            return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None

        return {
            "window": self.window,
            "reports": self.reports,
            "good_share": self.good_share,
            "streak": self.streak,
            "streak_report": self.streak_report,
            "last_change": stamp(self.last_change),
            "last_bad": stamp(self.last_bad),
            "median_interval_s": self.median_interval_s,
            "late_posts": self.late_posts,
            "changes": self.changes,
            "flapping": self.flapping,
            "median_duration_s": self.median_duration_s,
            "p90_duration_s": self.p90_duration_s,
            "last_duration_s": self.last_duration_s,
            "unfinished_runs": self.unfinished_runs,
        }


def window(
    reports: Sequence[Report], now: datetime, settings: TrendSettings
) -> tuple[Sequence[Report], str]:
    """The newest reports that fall in the window, and the window's label."""
    since = now - timedelta(days=settings.days)
    in_days = 0
    for report in reports:  # newest first: stop at the first one older than `since`
        if report.time < since:
            break
        in_days += 1
    if settings.days and in_days >= settings.reports:
        return reports[:in_days], f"{settings.days}d"
    recent = reports[: settings.reports]
    return recent, f"last {len(recent)}"


def trend(
    all_reports: Sequence[Report],
    schedule: timedelta | str | None,
    now: datetime,
    settings: TrendSettings | None = None,
    grace: timedelta | None = None,
    zone: tzinfo = UTC,
) -> Trend:
    """Trend figures of one page; `reports` newest first."""
    settings = settings or TrendSettings()
    outcomes = runs.Outcomes.of(all_reports)
    reports = outcomes.reports
    recent, label = window(reports, now, settings)
    good = sum(r.report == "GOOD" for r in recent)
    streak = 0
    latest = reports[0].report if reports else None
    for report in reports:
        if report.report != latest:
            break
        streak += 1
    last_change = reports[streak - 1].time if 0 < streak < len(reports) else None
    last_bad = next((r.time for r in reports if r.report == "BAD"), None)
    gaps = [(a.time - b.time).total_seconds() for a, b in pairwise(recent)]
    changes = sum(a.report != b.report for a, b in pairwise(recent))
    lengths = [d.total_seconds() for d in outcomes.durations[: len(recent)] if d is not None]
    last = outcomes.durations[0] if outcomes.durations else None
    since = recent[-1].time if recent else now
    return Trend(
        window=label,
        reports=len(recent),
        good_share=round(good / len(recent), 4) if recent else None,
        streak=streak,
        streak_report=latest,
        last_change=last_change,
        last_bad=last_bad,
        median_interval_s=median(gaps) if gaps else None,
        late_posts=_late(reports, len(recent), schedule, grace, zone),
        changes=changes,
        flapping=changes > settings.flapping,
        schedule=_describe(schedule),
        median_duration_s=median(lengths) if lengths else None,
        p90_duration_s=runs.percentile(lengths, 0.9),
        last_duration_s=last.total_seconds() if last is not None else None,
        unfinished_runs=runs.unfinished([r for r in all_reports if r.time >= since])
        if len(reports) < len(all_reports)  # only start markers can be unfinished
        else 0,
    )


def _late(
    reports: Sequence[Report],
    count: int,
    schedule: timedelta | str | None,
    grace: timedelta | None,
    zone: tzinfo,
) -> int:
    """Posts among the newest `count` that came after the deadline the post before set."""
    if schedule is None:
        return 0
    return sum(
        reports[i].time > deadline(schedule, reports[i + 1].time, grace, zone)
        for i in range(min(count, len(reports) - 1))
    )


def _describe(schedule: timedelta | str | None) -> str | None:
    if schedule is None:
        return None
    return short(schedule.total_seconds()) if isinstance(schedule, timedelta) else schedule


def short(seconds: float) -> str:
    """A duration to two units at most: 598s -> 10m, 5400s -> 1h30m; under a second
    is `<1s` (posts of one batch share their second), never `0s`."""
    if seconds < 0.5:
        return "<1s"
    step = 1 if seconds < 120 else 60 if seconds < 7200 else 3600 if seconds < 172800 else 86400
    return format_duration(timedelta(seconds=round(seconds / step) * step))


def short_time(moment: datetime, zone: tzinfo = UTC) -> str:
    """`2026-05-01 10:00 UTC`, in the dashboard's zone, to the minute (trend notes,
    the status page); summary entries use `rules.format_when`, to the second."""
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or zone}"


def note(figures: Trend, zone: tzinfo = UTC) -> str:
    """One compact line: `97% GOOD (7d) · 12x GOOD · posts every 10m; schedule 10m ·
    1 late · last BAD 2026-05-01 10:00 UTC`."""
    if not figures.reports:
        return "no reports yet"
    share = figures.good_share or 0.0
    percent = 100 if share >= 1 else int(share * 100)  # never round 99.9% up to 100%
    parts = [
        f"{percent}% GOOD ({figures.window})",
        f"{figures.streak}x {figures.streak_report or 'no report'}",
    ]
    if figures.median_interval_s is not None:
        every = f"posts every {short(figures.median_interval_s)}"
        parts.append(f"{every}; schedule {figures.schedule}" if figures.schedule else every)
    if figures.late_posts:
        parts.append(f"{figures.late_posts} late")
    if figures.flapping:
        parts.append(f"flapping ({figures.changes} changes)")
    if figures.last_bad and figures.streak_report != "BAD":  # else it is the entry's time
        parts.append(f"last BAD {short_time(figures.last_bad, zone)}")
    if figures.median_duration_s is not None or figures.last_duration_s is not None:
        parts.append(durations_note(figures))
    if figures.unfinished_runs:
        parts.append(f"{figures.unfinished_runs} unfinished")
    return " · ".join(parts)


def durations_note(figures: Trend) -> str:
    """`ran 4m12s; median 4m, p90 5m`: the last run, then the window's."""

    def shown(value: float | None) -> str:
        return brief(timedelta(seconds=round(value))) if value is not None else "?"

    text = f"ran {shown(figures.last_duration_s)}"
    if figures.median_duration_s is not None:
        text += f"; median {shown(figures.median_duration_s)}, p90 {shown(figures.p90_duration_s)}"
    return text


def trend_note(figures: Trend | None, zone: tzinfo = UTC) -> str:
    """The note in brackets, as the summary shows it after an entry's own note;
    empty for a page with no reports."""
    return f"[{note(figures, zone)}]" if figures and figures.reports else ""
