"""When a verdict becomes an alert: failure tolerance, against real bare
repositories with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fixtures.repos import show
from pulseox_git.dashboard.specs import Settings, dumps, loads
from pulseox_git.errors import BadInputError
from pulseox_git.specs import PulseOxSpec
from tests.test_dashboard import Clock, board, post, sections

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def watch(path: str = "a.md", schedule: str = "1h", **options) -> PulseOxSpec:
    return PulseOxSpec("owner", "repo", path, schedule, **options)


def refresh(clock: Clock, specs=None):
    dashboard = board(specs, clock) if specs else board(at=clock).get_remote_data()
    return dashboard.write_summary()


def only(dashboard) -> tuple[str, str]:
    (entry,) = dashboard.summary.entries
    return entry.status, entry.note


def test_bad_reports_are_tolerated_until_the_nth_in_a_row_and_good_resets(remote: Path):
    clock = Clock(T0)
    post("a.md", T0, "GOOD")
    assert only(refresh(clock, [watch(fail_after=3)])) == ("OK", "")
    for i in (1, 2):
        clock.now = T0 + i * HOUR
        post("a.md", clock.now, "BAD", "disk full")
        assert only(refresh(clock)) == ("OK", f"{i} of 3 failures tolerated: disk full")
    clock.now = T0 + 3 * HOUR
    post("a.md", clock.now, "BAD", "disk full")
    dashboard = refresh(clock)
    assert only(dashboard) == ("ERROR", "disk full")
    assert sections(dashboard.summary.text)["# Changes"][0].startswith(
        "- [a.md](a.md) OK --> ERROR"
    )
    clock.now = T0 + 4 * HOUR
    post("a.md", clock.now, "GOOD")
    assert only(refresh(clock)) == ("OK", "")
    clock.now = T0 + 5 * HOUR
    post("a.md", clock.now, "BAD", "again")
    dashboard = refresh(clock)
    assert only(dashboard) == ("OK", "1 of 3 failures tolerated: again")
    assert dashboard.report()["specs"][0]["tolerated"] == "1 of 3 failures"
    assert "1 of 3 failures tolerated: again" in show(remote, "summary.md")


def test_the_default_alerts_on_the_first_bad_report(remote: Path):
    post("a.md", T0, "BAD", "disk full")
    assert only(refresh(Clock(T0), [watch()])) == ("ERROR", "disk full")


def test_a_start_marker_between_bad_reports_does_not_reset_the_count(remote: Path):
    clock = Clock(T0)
    post("a.md", T0, "BAD", "one")
    assert only(refresh(clock, [watch(fail_after=2)]))[0] == "OK"
    post("a.md", T0 + HOUR, "START")
    post("a.md", T0 + HOUR + timedelta(minutes=1), "BAD", "two")
    clock.now = T0 + 2 * HOUR
    assert only(refresh(clock)) == ("ERROR", "two")


def test_missed_runs_are_tolerated_until_the_nth(remote: Path):
    clock = Clock(T0)
    post("a.md", T0, "GOOD")
    refresh(clock, [watch(missing_after=3, grace_period="10m")])
    clock.now = T0 + HOUR + timedelta(minutes=10)  # exactly at the first deadline: on time
    assert only(refresh(clock)) == ("OK", "")
    clock.now = T0 + HOUR + timedelta(minutes=11)
    status, note = only(refresh(clock))
    assert (status, note.split(":")[0]) == ("OK", "1 of 3 missed runs tolerated")
    clock.now = T0 + 2 * HOUR + timedelta(minutes=11)
    assert only(refresh(clock))[1].startswith("2 of 3 missed runs tolerated: late: due by")
    clock.now = T0 + 3 * HOUR + timedelta(minutes=11)
    assert only(refresh(clock))[0] == "MISSING"
    post("a.md", clock.now, "GOOD")  # a report ends it
    assert only(refresh(clock)) == ("OK", "")


def test_missed_cron_runs_count_in_the_dashboards_zone(remote: Path):
    post("a.md", T0, "GOOD")  # 12:00 UTC; cron at 13:00 and 14:00 UTC
    clock = Clock(T0 + HOUR + timedelta(minutes=30))
    assert only(refresh(clock, [watch(schedule="0 * * * *", missing_after=2)]))[0] == "OK"
    clock.now = T0 + 2 * HOUR + timedelta(minutes=1)
    assert only(refresh(clock))[0] == "MISSING"


def test_a_page_that_is_not_there_is_missing_whatever_the_tolerance(remote: Path):
    assert only(refresh(Clock(T0), [watch(missing_after=5)]))[0] == "MISSING"


def test_tolerance_is_kept_in_the_spec_file_and_shown_by_spec_list(remote: Path, cli):
    code, out, err = cli(
        "spec", "add", "--owner", "owner", "--repo", "repo", "--path", "a.md",
        "--schedule", "1h", "--fail-after", "3", "--missing-after", "2",
    )  # fmt: skip
    assert code == 0, err
    assert "every 1h fail-after 3 missing-after 2" in out
    assert "fail_after = 3\nmissing_after = 2\n" in show(remote, "pulseox.toml")
    code, out, _ = cli("spec", "list", "--owner", "owner", "--repo", "repo")
    assert out == "owner/repo:a.md every 1h fail-after 3 missing-after 2\n"


def test_toml_round_trip_and_defaults_are_not_written():
    specs = [watch(fail_after=2), watch("b.md")]
    text = dumps(specs, Settings())
    assert text.count("fail_after") == 1 and "missing_after" not in text
    assert loads(text) == (specs, Settings())


@pytest.mark.parametrize("value", [0, -1, "3", 2.5, True, None])
def test_counts_must_be_whole_numbers_of_one_or_more(value):
    for name in ("fail_after", "missing_after"):
        with pytest.raises(BadInputError, match=f"bad {name} {value!r}"):
            watch(**{name: value})


def test_the_alerting_bench_runs_and_every_rule_fires(capsys):
    from scripts.bench_alerting import main

    main(200, 1)
    out = capsys.readouterr().out
    assert out.startswith("200 specs, median of 1: classify ")
    counts = dict(part.split(" ")[::-1] for part in out.strip().split("; ")[1].split(", "))
    assert all(int(n) > 0 for n in counts.values()), counts  # paused, blocked, reminders...
