"""Schedules: durations (`90s`, `10m`, `2h`, `1d`, `1w`) and 5-field cron strings.

Pure functions; the current time is always passed in, so tests never sleep.
A page is late when `now` is past its deadline: for a duration, `updated +
schedule + grace`; for cron, the first scheduled time after `updated`, plus
grace. Exactly at the deadline it is still on time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from pulseox_git.durations import DURATION, format_duration, parse_duration, parse_positive
from pulseox_git.durations import UNITS as UNITS  # spelled in durations.py, re-exported
from pulseox_git.errors import BadInputError

Schedule = timedelta | str  # a positive duration, or a validated 5-field cron string


def check_cron(expr: str) -> str:
    """A 5-field cron string (minute hour day month weekday), or BadInputError."""
    from croniter import croniter

    fields = expr.split()
    if len(fields) != 5 or not croniter.is_valid(" ".join(fields)):
        raise BadInputError(
            f"bad cron schedule {expr!r}: use 5 fields, minute hour "
            "day-of-month month day-of-week, like '0 9 * * 1'"
        )
    return " ".join(fields)


NEVER_FROM = datetime(2001, 1, 1, tzinfo=UTC)  # a fixed reference; Feb 29 is 3 years on


def check_cron_runs(expr: str) -> str:
    """A cron string that ever comes round (`0 0 31 2 *` never does), or BadInputError."""
    try:
        deadline(expr, NEVER_FROM)
    except BadInputError:
        raise BadInputError(
            f"bad cron schedule {expr!r}: it never runs (no such date); "
            "check the day-of-month and month fields"
        ) from None
    return expr


def parse_schedule(value: Schedule) -> Schedule:
    """A positive timedelta (from a timedelta or a duration string) or a cron string."""
    if isinstance(value, timedelta) or (
        isinstance(value, str) and DURATION.match(value.strip().lower())
    ):
        return parse_positive(value, "schedule")
    if isinstance(value, str) and len(value.split()) >= 2:
        return check_cron(value)
    raise BadInputError(
        f"bad schedule {value!r}: use a duration like 10m, 2h or 1d, "
        "or a 5-field cron string like '*/10 * * * *'"
    )


def parse_grace(value: timedelta | str | None) -> timedelta | None:
    """None (no grace), or a duration that is zero or more."""
    if value is None:
        return None
    delta = value if isinstance(value, timedelta) else parse_duration(value, "grace period")
    if not isinstance(delta, timedelta) or delta < timedelta(0):
        shown = format_duration(delta) if isinstance(delta, timedelta) else delta
        raise BadInputError(f"bad grace period {shown!r}: it must not be negative")
    return delta


def describe(schedule: Schedule) -> str:
    """How a schedule is written in the spec file and the CLI."""
    return format_duration(schedule) if isinstance(schedule, timedelta) else schedule


def deadline(
    schedule: Schedule, updated: datetime, grace: timedelta | None = None, zone: tzinfo = UTC
) -> datetime:
    """The last moment a page updated at `updated` is still on time.

    Cron fields are read in `zone` (the dashboard's time zone), so `0 9 * * 1`
    means 9:00 there.
    """
    grace = grace or timedelta(0)
    if isinstance(schedule, timedelta):
        return updated + schedule + grace
    from croniter import CroniterError, croniter

    try:
        due: datetime = croniter(schedule, updated.astimezone(zone)).get_next(datetime)
    except (CroniterError, ValueError, OverflowError) as err:  # `0 0 31 2 *` has no next time
        raise BadInputError(
            f"cron schedule {schedule!r} has no next time after {updated.isoformat()} ({err})"
        ) from None
    return due + grace


def is_late(
    schedule: Schedule,
    updated: datetime,
    now: datetime,
    grace: timedelta | None = None,
    zone: tzinfo = UTC,
) -> bool:
    """True when `now` is past the deadline of a page last updated at `updated`."""
    return now > deadline(schedule, updated, grace, zone)
