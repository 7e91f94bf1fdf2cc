"""Schedules at their boundaries, with the clock passed in: never a sleep."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulseox_git.dashboard.schedule import (
    deadline,
    format_duration,
    is_late,
    parse_duration,
    parse_grace,
    parse_schedule,
)
from pulseox_git.errors import BadInputError

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("90s", 90),
        ("10m", 600),
        ("2h", 7200),
        ("1d", 86400),
        ("1w", 604800),
        ("1h30m", 5400),
        (" 2H ", 7200),
    ],
)
def test_durations(text: str, seconds: int):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "10", "m", "10 m", "1.5h", "-5m", "10y", "1h 30m", "ten"])
def test_bad_durations_are_named(text: str):
    with pytest.raises(BadInputError, match=re.escape(repr(text))):
        parse_duration(text)


@given(st.integers(min_value=1, max_value=10**8))
def test_format_duration_round_trips(seconds: int):
    delta = timedelta(seconds=seconds)
    assert parse_duration(format_duration(delta)) == delta


@pytest.mark.parametrize(
    "value, message",
    [
        ("0m", "longer than zero"),
        (timedelta(0), "longer than zero"),
        (timedelta(minutes=-5), "'-5m'"),
        ("61 * * * *", "bad cron schedule '61 \\* \\* \\* \\*'"),
        ("* * * * * *", "5 fields"),
        ("* * *", "bad cron"),
        ("often", "bad schedule 'often'"),
        (10, "bad schedule 10"),
    ],
)
def test_bad_schedules_are_refused(value, message: str):
    with pytest.raises(BadInputError, match=message):
        parse_schedule(value)


def test_grace_must_not_be_negative():
    assert parse_grace(None) is None and parse_grace("0s") == timedelta(0)
    assert parse_grace("0") == parse_grace(" 0 ") == timedelta(0)  # no grace, like 0s
    with pytest.raises(BadInputError, match="'-1m'"):
        parse_grace(timedelta(minutes=-1))
    with pytest.raises(BadInputError, match="'soon'"):
        parse_grace("soon")


def test_duration_boundary_with_grace():
    schedule, grace = parse_schedule("10m"), parse_grace("5m")
    on_edge = T0 + timedelta(minutes=15)
    assert deadline(schedule, T0, grace) == on_edge
    assert not is_late(schedule, T0, on_edge, grace)
    assert is_late(schedule, T0, on_edge + SECOND, grace)
    assert not is_late(schedule, T0, T0 + timedelta(minutes=10) + SECOND, grace)
    assert is_late(schedule, T0, T0 + timedelta(minutes=10) + SECOND)  # no grace


def test_cron_first_run_after_the_update_plus_grace():
    updated = datetime(2026, 5, 1, 9, 0, 30, tzinfo=UTC)  # the 9:00 run posted at 9:00:30
    due = datetime(2026, 5, 2, 9, 0, tzinfo=UTC)
    grace = timedelta(minutes=10)
    assert deadline("0 9 * * *", updated, grace) == due + grace
    assert not is_late("0 9 * * *", updated, due + grace, grace)
    assert is_late("0 9 * * *", updated, due + grace + SECOND, grace)
    assert is_late("0 9 * * *", updated, due + SECOND)  # without grace


def test_cron_run_exactly_on_schedule_waits_for_the_next_one():
    on_the_minute = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    assert deadline("0 9 * * *", on_the_minute) == on_the_minute + timedelta(days=1)


def test_cron_fields_are_read_in_the_dashboard_zone():
    paris = ZoneInfo("Europe/Paris")
    updated = datetime(2026, 5, 1, 6, 0, tzinfo=UTC)  # 8:00 in Paris (summer time)
    due = deadline("0 9 * * *", updated, zone=paris)
    assert due == datetime(2026, 5, 1, 7, 0, tzinfo=UTC)
    assert deadline("0 9 * * *", updated) == datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def test_weekly_cron_across_a_weekend():
    friday = datetime(2026, 5, 1, 9, 5, tzinfo=UTC)  # 2026-05-01 is a Friday
    monday = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    assert deadline("0 9 * * 1", friday, timedelta(hours=1)) == monday + timedelta(hours=1)
    assert not is_late("0 9 * * 1", friday, monday, None)
