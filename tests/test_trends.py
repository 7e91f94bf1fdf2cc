"""Trend figures: known answers from hand-built histories and from a real git history
with batches, hand edits without trailers and a rewritten branch."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fixtures.repos import commit_files, git
from pulseox_git.client import PulseOxClient
from pulseox_git.dashboard.trends import TrendSettings, note, trend
from pulseox_git.errors import BadInputError
from pulseox_git.page import render
from pulseox_git.store.base import Report
from pulseox_git.store.git import GitStore

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
TEN = timedelta(minutes=10)


def reports(*items: tuple[datetime, str | None]) -> list[Report]:
    """Reports newest first from (time, report) pairs in any order."""
    made = [Report(f"{i:040x}", when, report) for i, (when, report) in enumerate(items)]
    return sorted(made, key=lambda r: r.time, reverse=True)


def test_the_note_reads_like_the_example():
    now = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
    times = [now - TEN * i for i in range(52)] + [now - TEN * i - TEN for i in range(52, 100)]
    items = [(t, "BAD" if i in (12, 13, 14) else "GOOD") for i, t in enumerate(times)]
    figures = trend(reports(*items), TEN, now)
    assert note(figures) == (
        "97% GOOD (7d) · 12x GOOD · posts every 10m; schedule 10m · "
        "1 late · last BAD 2026-05-01 10:00 UTC"
    )
    assert figures.to_json() == {
        "window": "7d",
        "reports": 100,
        "good_share": 0.97,
        "streak": 12,
        "streak_report": "GOOD",
        "last_change": "2026-05-01T10:10:00+00:00",
        "last_bad": "2026-05-01T10:00:00+00:00",
        "median_interval_s": 600.0,
        "late_posts": 1,
        "changes": 2,
        "flapping": False,
        "median_duration_s": None,
        "p90_duration_s": None,
        "last_duration_s": None,
        "unfinished_runs": 0,
    }
    berlin = note(figures, ZoneInfo("Europe/Berlin"))
    assert berlin.endswith("last BAD 2026-05-01 12:00 CEST")


def test_window_is_seven_days_or_fifty_reports_whichever_reaches_further():
    now = T0
    minutely = reports(*[(now - timedelta(minutes=i), "GOOD") for i in range(60 * 24 * 10)])
    figures = trend(minutely, timedelta(minutes=1), now)
    assert (figures.window, figures.reports) == ("7d", 60 * 24 * 7 + 1)  # 7 days, both ends
    daily = reports(*[(now - timedelta(days=i), "BAD" if i >= 50 else "GOOD") for i in range(100)])
    figures = trend(daily, timedelta(days=1), now)
    assert (figures.window, figures.reports, figures.good_share) == ("last 50", 50, 1.0)
    assert figures.streak == 50 and figures.last_bad == now - timedelta(days=50)
    custom = TrendSettings.from_toml({"days": 30, "reports": 10, "flapping": 5})
    figures = trend(daily, timedelta(days=1), now, custom)
    assert (figures.window, figures.reports) == ("30d", 31)


def test_streaks_changes_and_flapping():
    items = [(T0 + TEN * i, r) for i, r in enumerate("GBGBGGG")]
    history = reports(*[(t, {"G": "GOOD", "B": "BAD"}[r]) for t, r in items])
    figures = trend(history, TEN, T0 + TEN * 7)
    assert (figures.streak, figures.streak_report, figures.changes) == (3, "GOOD", 4)
    assert figures.flapping and figures.last_change == T0 + TEN * 4
    assert "flapping (4 changes)" in note(figures)
    assert not trend(history, TEN, T0 + TEN * 7, TrendSettings(flapping=4)).flapping
    steady = reports(*[(T0 + TEN * i, "GOOD") for i in range(5)])
    figures = trend(steady, TEN, T0 + TEN * 5)
    assert figures.last_change is None and figures.last_bad is None and not figures.flapping
    unreadable = reports((T0, "GOOD"), (T0 + TEN, None), (T0 + TEN * 2, None))
    figures = trend(unreadable, TEN, T0 + TEN * 3)
    assert (figures.streak, figures.streak_report, figures.good_share) == (2, None, 0.3333)
    assert "2x no report" in note(figures) and "33% GOOD" in note(figures)


def test_late_posts_against_durations_and_cron_with_grace():
    at = [T0, T0 + timedelta(minutes=10), T0 + timedelta(minutes=21), T0 + timedelta(minutes=26)]
    history = reports(*[(t, "GOOD") for t in at])
    assert trend(history, TEN, T0 + timedelta(hours=1)).late_posts == 1
    grace = timedelta(minutes=1)
    assert trend(history, TEN, T0 + timedelta(hours=1), grace=grace).late_posts == 0
    hourly = reports(
        (T0, "GOOD"),
        (T0 + timedelta(hours=1, minutes=3), "GOOD"),
        (T0 + timedelta(hours=2, minutes=10), "GOOD"),
    )
    cron = trend(hourly, "0 * * * *", T0 + timedelta(hours=3), grace=timedelta(minutes=5))
    assert cron.late_posts == 1 and "schedule 0 * * * *" in note(cron)
    assert trend(hourly, None, T0 + timedelta(hours=3)).late_posts == 0


def test_shares_never_round_up_to_a_clean_record():
    history = reports(
        *[(T0 - timedelta(minutes=i), "BAD" if i == 500 else "GOOD") for i in range(1000)]
    )
    figures = trend(history, timedelta(minutes=1), T0)
    assert figures.good_share == 0.999 and note(figures).startswith("99% GOOD (7d)")
    assert note(trend([], TEN, T0)) == "no reports yet"
    assert trend([], TEN, T0).to_json()["good_share"] is None


@pytest.mark.parametrize(
    "table,named",
    [
        ({"days": -1}, "-1"),
        ({"reports": "50"}, "'50'"),
        ({"flapping": 0}, "0"),
        ({"window": 3}, "'window'"),
        ({"days": True}, "True"),
        ({"days": 0, "reports": 0}, "both"),
    ],
)
def test_bad_trend_settings_are_refused_by_name(table: dict, named: str):
    with pytest.raises(BadInputError, match=named):
        TrendSettings.from_toml(table)


def test_settings_round_trip():
    settings = TrendSettings.from_toml({"days": 30, "flapping": 6})
    assert settings == TrendSettings(30, 50, 6)
    assert TrendSettings.from_toml(settings.to_toml()) == settings
    assert TrendSettings.from_toml(None) == TrendSettings()


def test_known_answers_from_a_real_history(bare: Path):
    """Batches of three pages every 10 minutes, a hand edit without trailers, then a
    force-push that rewrites the end of the branch: the figures follow git exactly."""

    def post(minutes: int, pages: list[dict]) -> str:
        client = PulseOxClient(
            remote=f"file://{bare}", clock=lambda: T0 + timedelta(minutes=minutes)
        )
        return client.post_many("owner", "repo", pages).sha

    shas = {}
    for minutes in range(0, 70, 10):  # 7 batches touching every page
        a = "BAD" if minutes == 30 else "GOOD"
        shas[minutes] = post(
            minutes,
            [
                {"path": "a.md", "content": "a", "report": a},
                {"path": "b.md", "content": "b"},
                {"path": "c.md", "content": "c", "report": "BAD"},
            ],
        )
    hand = render("a.md", "by hand", "BAD", T0 + timedelta(minutes=75), "fixed by hand")
    commit_files(bare, {"a.md": hand}, date="2026-05-01T13:15:00Z")  # 15 minutes: late
    post(80, [{"path": "a.md", "content": "a"}])
    post(90, [{"path": "a.md", "content": "a"}])
    store = GitStore(f"file://{bare}")
    paths = ["a.md", "b.md", "c.md"]
    now = T0 + timedelta(minutes=95)

    def figures():
        history, outcome = store.run(lambda tip: store.history_cache.read(tip, paths))
        return {p: trend(history[p], TEN, now) for p in paths}, outcome

    got, _ = figures()
    a = got["a.md"]
    assert (a.reports, a.good_share, a.streak, a.streak_report) == (10, 0.8, 2, "GOOD")
    assert a.last_change == T0 + timedelta(minutes=80)
    assert a.last_bad == T0 + timedelta(minutes=75)
    assert (a.median_interval_s, a.late_posts, a.changes, a.flapping) == (600.0, 1, 4, True)
    assert (got["b.md"].reports, got["b.md"].good_share, got["b.md"].streak) == (7, 1.0, 7)
    assert (got["c.md"].streak_report, got["c.md"].last_bad) == ("BAD", T0 + timedelta(hours=1))
    # rewrite: the branch goes back to the 60-minute batch plus one hand commit
    commit_files(
        bare,
        {"b.md": render("b.md", "b", "BAD", now, "rewritten")},
        date="2026-05-01T13:35:00Z",
        force_parent=shas[60],
    )
    got, outcome = figures()
    assert outcome.mode == "rewritten"
    a, b = got["a.md"], got["b.md"]
    assert (a.reports, a.streak, a.last_bad) == (7, 3, T0 + timedelta(minutes=30))
    assert (b.reports, b.streak_report, b.streak, b.late_posts) == (8, "BAD", 1, 1)
    assert b.last_bad == T0 + timedelta(minutes=95)
    assert git("rev-parse", "main", cwd=bare).strip() != shas[60]


def test_trends_table_in_pulseox_toml_sets_the_window(remote: Path):
    for minutes, report in ((0, "GOOD"), (10, "BAD"), (20, "GOOD")):
        PulseOxClient(clock=lambda m=minutes: T0 + timedelta(minutes=m)).post(
            "owner", "repo", "a.md", "x", report
        )
    toml = (
        "[trends]\ndays = 0\nreports = 3\nflapping = 1\n\n"
        '[[spec]]\nowner = "owner"\nrepo = "repo"\npath = "a.md"\nschedule = "10m"\n'
    )
    commit_files(remote, {"pulseox.toml": toml}, date="2026-05-01T12:21:00Z")
    from pulseox_git.dashboard import PulseOxDashboard

    board = PulseOxDashboard(
        owner="owner", repo="repo", clock=lambda: T0 + timedelta(minutes=25)
    ).get_remote_data()
    assert board.settings.trends == TrendSettings(0, 3, 1)
    entry = board.write_summary().summary.entries[0]
    assert (entry.trend.window, entry.trend.reports, entry.trend.flapping) == ("last 3", 3, True)
    assert "[66% GOOD (last 3) · 1x GOOD" in entry_line(remote)
    assert "flapping (2 changes)" in entry_line(remote)
    assert "[trends]\ndays = 0\nreports = 3\nflapping = 1" in git(
        "show", "main:pulseox.toml", cwd=remote
    )  # kept as written
    commit_files(remote, {"pulseox.toml": toml.replace("flapping = 1", "flapping = 0")})
    with pytest.raises(BadInputError, match=r"pulseox.toml.*\[trends\] flapping 0"):
        PulseOxDashboard(owner="owner", repo="repo").get_remote_data()


def entry_line(remote: Path) -> str:
    return next(
        line
        for line in git("show", "main:summary.md", cwd=remote).splitlines()
        if line.startswith("- [a.md]") and "-->" not in line
    )


@pytest.mark.parametrize(
    "seconds, shown",
    [(0, "<1s"), (0.4, "<1s"), (1, "1s"), (45, "45s"), (119, "1m59s"), (598, "10m")],
)
def test_short_intervals_read_sensibly(seconds, shown):
    from pulseox_git.dashboard.trends import short

    assert short(seconds) == shown


def test_posts_in_the_same_second_are_not_every_0s():
    same = [Report("b", T0, "GOOD"), Report("a", T0, "GOOD")]
    assert "posts every <1s" in note(trend(same, TEN, T0))
