"""The dashboard judges runs: too long, too short, never finished, in progress; with an
injected clock and hand-built histories (known answers), then through real repositories.
Old pages and old trailers, without any run field, read and judge as before."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fixtures.repos import commit_files, git
from pulseox_git.client import PulseOxClient
from pulseox_git.dashboard import PulseOxDashboard
from pulseox_git.dashboard.rules import classify
from pulseox_git.dashboard.runs import durations, open_start, percentile, unfinished
from pulseox_git.dashboard.specs import Settings, dumps, loads
from pulseox_git.dashboard.statuspage import rows_for
from pulseox_git.dashboard.summary import Links
from pulseox_git.dashboard.trends import note, trend
from pulseox_git.page import Page, RunFields, parse, parse_trailers, render, trailer_line
from pulseox_git.specs import PulseOxSpec
from pulseox_git.store.base import Report
from pulseox_git.store.git import GitStore

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
H, M, S = timedelta(hours=1), timedelta(minutes=1), timedelta(seconds=1)
SETTINGS = Settings()


def spec(schedule="1d", grace=None, **limits) -> PulseOxSpec:
    return PulseOxSpec("owner", "repo", "jobs/r.md", schedule, grace, **limits)


def start(at: datetime, started: datetime | None = ..., note: str = "started on db1") -> Report:
    """A start marker posted at `at`, its run id `started` (default: `at`; None: none)."""
    began = at if started is ... else started
    return Report(
        f"s{at:%H%M%S}".ljust(40, "0"), at, "START", note, run=RunFields(began) if began else None
    )


def done(
    at: datetime,
    report: str = "GOOD",
    took: timedelta | None = None,
    started: datetime | None = None,
    note: str = "",
    code: int | None = None,
) -> Report:
    run = (
        RunFields(started, took, code)
        if (started or took is not None or code is not None)
        else None
    )
    return Report(f"d{at:%H%M%S}".ljust(40, "0"), at, report, note, run=run)


def tip_text(report: Report) -> bytes:
    """The page text the newest report's post wrote (footer time = commit time)."""
    return render(
        "jobs/r.md", "job output", report.report or "GOOD", report.time, report.note, report.run
    ).encode()


def judge(watch: PulseOxSpec, history: list[Report], now: datetime):
    return classify(watch, tip_text(history[0]), history, now, SETTINGS)


# -- finished runs: too long, too short ------------------------------------------------


def test_a_finished_run_longer_than_max_duration_is_error():
    ran = timedelta(hours=3, minutes=12, seconds=5)
    history = [done(T0, took=ran, started=T0 - ran, note="exit 0 after 3h12m", code=0)]
    entry = judge(spec(max_duration="1h"), history, T0 + M)
    assert (entry.status, entry.problem) == ("ERROR", "too long")
    assert entry.note == "ran 3h12m, limit 1h; exit 0 after 3h12m"
    assert judge(spec(max_duration="4h"), history, T0 + M).status == "OK"
    # exactly at the limit is within it
    assert judge(spec(max_duration=ran), history, T0 + M).status == "OK"


def test_a_finished_run_shorter_than_min_duration_is_error():
    history = [done(T0, took=2 * S, started=T0 - 2 * S)]
    entry = judge(spec(min_duration="1m"), history, T0 + M)
    assert (entry.status, entry.note, entry.problem) == ("ERROR", "ran 2s, minimum 1m", "too short")
    assert judge(spec(min_duration="2s"), history, T0 + M).status == "OK"


def test_a_bad_run_keeps_its_own_note_whatever_its_length():
    history = [done(T0, "BAD", took=5 * H, note="exit 3 after 5h")]
    entry = judge(spec(max_duration="1h"), history, T0 + M)
    assert (entry.status, entry.note) == ("ERROR", "exit 3 after 5h")


def test_a_finish_without_its_own_duration_ran_since_its_start():
    """A CI job's first step posts START, its last step a plain post: the duration
    is the time between the two commits."""
    history = [done(T0 + 2 * H), start(T0, started=None)]
    assert durations(history) == [2 * H, None]
    entry = judge(spec(max_duration="1h"), history, T0 + 2 * H + M)
    assert (entry.status, entry.note) == ("ERROR", "ran 2h, limit 1h")


# -- runs that started and have not finished -------------------------------------------


def test_a_run_not_finished_within_max_duration_is_error():
    history = [start(T0), done(T0 - timedelta(days=1), took=10 * M, note="12 GB")]
    watch = spec(max_duration="1h")
    entry = judge(watch, history, T0 + 3 * H)
    assert (entry.status, entry.problem) == ("ERROR", "no finish")
    assert entry.note == "running for 3h, no finish (limit 1h)"
    assert entry.running_since == T0 and entry.report == "GOOD"
    # within the limit: the last finished status stays, with the run in the note
    entry = judge(watch, history, T0 + 30 * M)
    assert (entry.status, entry.report) == ("OK", "GOOD")
    assert entry.note == "12 GB; running since 2026-05-01 12:00:00 UTC"
    assert entry.updated == T0 - timedelta(days=1)  # the last finished report's time


def test_without_max_duration_the_grace_bounds_a_run():
    history = [start(T0), done(T0 - timedelta(days=1))]
    watch = spec("1d", "30m")
    assert judge(watch, history, T0 + 29 * M).status == "OK"
    entry = judge(watch, history, T0 + 31 * M)
    assert (entry.status, entry.note) == ("ERROR", "running for 31m, no finish (limit 30m)")


def test_without_max_duration_or_grace_a_run_may_last_until_the_next_is_due():
    history = [start(T0), done(T0 - timedelta(days=1))]
    assert judge(spec("1d"), history, T0 + 23 * H).status == "OK"
    entry = judge(spec("1d"), history, T0 + 25 * H)
    assert entry.note == "running for 1d1h, no finish (limit 1d)"
    # for cron, until the next scheduled time
    assert judge(spec("0 12 * * *"), history, T0 + 23 * H).status == "OK"
    assert judge(spec("0 12 * * *"), history, T0 + 25 * H).status == "ERROR"


def test_a_run_in_progress_keeps_a_bad_status_too():
    history = [start(T0), done(T0 - H, "BAD", note="disk full")]
    entry = judge(spec("1d"), history, T0 + M)
    assert (entry.status, entry.note) == (
        "ERROR",
        "disk full; running since 2026-05-01 12:00:00 UTC",
    )


def test_the_first_run_in_progress_is_ok_until_its_limit():
    history = [start(T0)]
    entry = judge(spec("1h", max_duration="30m"), history, T0 + 10 * M)
    assert (entry.status, entry.report) == ("OK", "START")
    assert entry.note == "no finished run yet; running since 2026-05-01 12:00:00 UTC"
    assert judge(spec("1h", max_duration="30m"), history, T0 + 31 * M).status == "ERROR"


def test_a_run_in_progress_is_a_sign_of_life_for_lateness():
    history = [start(T0), done(T0 - 2 * H)]  # the last finish alone would be late
    assert judge(spec("1h", max_duration="1h"), history, T0 + 10 * M).status == "OK"
    assert judge(spec("1h"), [history[1]], T0 + 10 * M).status == "MISSING"


def test_an_older_run_finishing_late_does_not_end_a_newer_one():
    """Runs overlap: the 11:00 run finishes after the 12:00 run started. The
    finish names its run (`started`), so the 12:00 run is still in progress."""
    history = [
        done(T0 + 5 * M, took=65 * M, started=T0 - H),
        start(T0),
        start(T0 - H),
    ]
    assert open_start(history) == history[1]
    entry = judge(spec("1d", max_duration="2h"), history, T0 + 10 * M)
    assert entry.status == "OK" and entry.running_since == T0
    assert judge(spec("1d", max_duration="2h"), history, T0 + 3 * H).status == "ERROR"
    # the finish of the newer run closes it
    history.insert(0, done(T0 + 20 * M, took=20 * M, started=T0))
    assert open_start(history) is None
    assert judge(spec("1d", max_duration="2h"), history, T0 + 3 * H).status == "OK"


def test_a_run_that_died_unheard_is_closed_by_the_runs_after_it():
    """A START whose run was killed (no outcome), then runs posted with --no-start:
    the dead run is not `running` for ever; it counts as unfinished."""
    history = [done(T0 + 2 * H, took=M, started=T0 + 2 * H - M), start(T0)]
    assert open_start(history) is None
    assert judge(spec("1h", max_duration="30m"), history, T0 + 2 * H + M).status == "OK"
    history = [start(T0 + 3 * H), *history]
    assert unfinished(history) == 1 and open_start(history) == history[0]


def test_the_footer_cross_check_applies_to_the_start_marker_at_the_tip():
    history = [start(T0), done(T0 - timedelta(days=1))]
    # a START page whose footer was copied from an older post: its own time is off
    copied = render("jobs/r.md", "x", "START", T0 - 2 * H, "", RunFields(T0 - 2 * H)).encode()
    entry = classify(spec("1w"), copied, history, T0 + M, SETTINGS)
    assert entry.status == "ERROR" and "disagrees with commit time" in entry.note
    # an honest START page is not judged against the older finish's commit time
    assert judge(spec("1w"), history, T0 + M).status == "OK"


# -- old pages: no run fields anywhere -------------------------------------------------


OLD_PAGE = (
    "Nightly backup\n\n# Metadata\n- report: GOOD\n"
    "- updated: 2026-05-01T12:00:00+00:00\n- note: 12 GB\n"
)


def test_old_pages_and_trailers_read_and_judge_as_before():
    footer = parse(OLD_PAGE)
    assert (footer.report, footer.note, footer.run) == ("GOOD", "12 GB", None)
    assert render("jobs/r.md", "Nightly backup", "GOOD", T0, "12 GB") == OLD_PAGE
    old = 'Pulseox-Page: {"path":"jobs/r.md","report":"GOOD","note":"12 GB"}'
    assert parse_trailers(old) == [Page("jobs/r.md", "", "GOOD", "12 GB")]
    assert trailer_line(Page("jobs/r.md", "", "GOOD", "12 GB")) == old
    history = [Report("a" * 40, T0, "GOOD", "12 GB")]
    entry = classify(
        spec("1d", max_duration="1h", min_duration="1m"),
        OLD_PAGE.encode(),
        history,
        T0 + M,
        SETTINGS,
    )
    assert (entry.status, entry.note, entry.running_since) == ("OK", "12 GB", None)


def test_run_fields_that_cannot_be_read_are_left_out():
    text = OLD_PAGE + "- started: yesterday\n- duration: long\n- exit: x3\n- colour: red\n"
    footer = parse(text)
    assert (footer.report, footer.problem, footer.run) == ("GOOD", None, None)
    footer = parse(OLD_PAGE + "- duration: 4m12s\n- exit: 137\n")
    assert footer.run == RunFields(None, timedelta(seconds=252), 137)
    trailers = parse_trailers(
        'Pulseox-Page: {"path":"a","report":"BAD","started":5,"duration":"4m","exit":true}\n'
        'Pulseox-Page: {"path":"b","report":"GOOD","duration":-1}\n'
    )
    assert [(p.path, p.report, p.run) for p in trailers] == [
        ("a", "BAD", None),
        ("b", "GOOD", None),
    ]


def test_run_fields_round_trip_through_footer_and_trailer():
    run = RunFields(T0 - 252 * S, timedelta(seconds=252), 3)
    page = Page("jobs/r.md", "out", "BAD", "exit 3 after 4m12s", run)
    text = render(page.path, page.content, page.report, T0, page.note, page.run)
    assert text.endswith(
        "- note: exit 3 after 4m12s\n- started: 2026-05-01T11:55:48+00:00\n"
        "- duration: 4m12s\n- exit: 3\n"
    )
    assert parse(text).run == run
    assert parse_trailers(trailer_line(page)) == [Page(page.path, "", "BAD", page.note, run)]


# -- trends and the status page ---------------------------------------------------------


def a_week_of_runs() -> list[Report]:
    """A daily job: 7 runs of 10..16 minutes with their start markers, the last one
    BAD, plus one run that started and never finished (3 days ago)."""
    history = []
    for day in range(7):
        began = T0 - timedelta(days=day)
        took = (10 + day) * M
        report = "BAD" if day == 0 else "GOOD"
        history += [done(began + took, report, took, began), start(began)]
    history.insert(7, start(T0 - timedelta(days=3, hours=6)))  # died without a word
    return sorted(history, key=lambda r: r.time, reverse=True)


def test_trends_leave_start_markers_out_and_add_durations():
    history = a_week_of_runs()
    figures = trend(history, timedelta(days=1), T0 + H)
    assert (figures.reports, figures.streak, figures.streak_report) == (7, 1, "BAD")
    assert figures.good_share == round(6 / 7, 4)  # START markers are no reports
    assert figures.median_interval_s == 86400 - 60  # between finishes
    assert figures.last_duration_s == 600
    assert figures.median_duration_s == 13 * 60
    assert figures.p90_duration_s == 16 * 60
    assert figures.unfinished_runs == 1
    text = note(figures)
    assert text.endswith(" · ran 10m; median 13m, p90 16m · 1 unfinished")
    data = figures.to_json()
    assert (data["median_duration_s"], data["p90_duration_s"], data["last_duration_s"]) == (
        780,
        960,
        600,
    )


def test_percentiles_are_nearest_rank():
    assert percentile([], 0.9) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([float(i) for i in range(1, 11)], 0.9) == 9.0
    assert percentile([float(i) for i in range(1, 12)], 0.9) == 10.0
    assert unfinished([start(T0), start(T0 - H), start(T0 - 2 * H)]) == 2


def test_the_status_page_strip_shows_durations_with_tooltips():
    from pulseox_git.dashboard.rules import Entry

    history = a_week_of_runs()
    history.insert(0, start(T0 + 2 * H))  # a run in progress
    watch = spec("1d", max_duration="15m", min_duration="5m")
    entry = Entry(watch, "OK", "", T0, "GOOD", history=history, running_since=T0 + 2 * H)
    (row,) = rows_for([entry], Links(("owner", "repo"), "main"))
    assert [r.report for r in row.reports] == ["BAD"] + ["GOOD"] * 6  # no START in the strip
    assert row.durations[0] == 10 * M and row.limits == (5 * M, 15 * M)
    from pulseox_git.dashboard.statuspage import durations_svg

    svg = durations_svg(row)
    root = ET.fromstring(svg)
    tips = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert tips[0] == "run durations of the last 7 reports: longest 16m"
    assert "2026-05-01 12:10 UTC ran 10m" in tips
    assert "2026-04-25 12:16 UTC ran 16m, over the limit of 15m" in tips
    assert tips[-1] == "running since 2026-05-01 14:00 UTC"
    assert len(root.findall(".//{http://www.w3.org/2000/svg}line")) == 2  # both limits
    assert (
        durations_svg(
            rows_for(
                [Entry(watch, "OK", "", history=[done(T0)])], Links(("owner", "repo"), "main")
            )[0]
        )
        == ""
    )


# -- specs --------------------------------------------------------------------------------


def test_duration_limits_round_trip_through_the_spec_file():
    watch = spec("1d", "1h", max_duration="2h", min_duration=timedelta(minutes=5))
    assert (watch.max_duration, watch.min_duration) == (2 * H, 5 * M)
    assert watch.to_table() == {
        "owner": "owner",
        "repo": "repo",
        "path": "jobs/r.md",
        "schedule": "1d",
        "grace": "1h",
        "max_duration": "2h",
        "min_duration": "5m",
    }
    assert PulseOxSpec.from_table(watch.to_table(), "here") == watch
    other = PulseOxSpec("owner", "repo", "jobs/other.md", "1h")
    assert loads(dumps([watch, other], SETTINGS))[0] == [watch, other]
    assert (
        watch.describe() == "owner/repo:jobs/r.md every 1d grace 1h max-duration 2h min-duration 5m"
    )


def test_spec_add_and_list_with_duration_limits(remote, cli):
    code, out, err = cli(
        "spec", "add", "--owner", "owner", "--repo", "repo", "--path", "jobs/r.md",
        "--schedule", "1d", "--max-duration", "2h", "--min-duration", "5m",
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith(
        "pulseox: watch owner/repo:jobs/r.md every 1d max-duration 2h min-duration 5m ("
    )
    code, out, _ = cli("spec", "list", "--owner", "owner", "--repo", "repo")
    assert out == "owner/repo:jobs/r.md every 1d max-duration 2h min-duration 5m\n"


# -- through real repositories ------------------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_the_dashboard_judges_real_runs(remote: Path):
    clock = Clock(T0)
    client = PulseOxClient(clock=clock)
    assert client.run("owner", "repo", "jobs/r.md", ["sh", "-c", "echo ok"]).exit_code == 0
    watch = spec("1d", max_duration="1h", min_duration="1s")
    board = PulseOxDashboard(
        owner="owner", repo="repo", spec_list=[watch], client=client, clock=clock
    )
    (entry,) = board.refresh().summary.entries
    assert (entry.status, entry.problem, entry.note) == (
        "ERROR",
        "too short",
        "ran <1s, minimum 1s; exit 0 after <1s",
    )
    # a start marker alone, at the tip: the last finished report still stands
    clock.now = T0 + timedelta(days=1)
    client.post_many(
        "owner", "repo", [Page("jobs/r.md", "running", "START", "", RunFields(clock.now))]
    )
    watch = spec("1d", max_duration="1h")
    board = PulseOxDashboard(
        owner="owner", repo="repo", spec_list=[watch], client=client, clock=clock
    )
    clock.now += 10 * M
    (entry,) = board.refresh().summary.entries
    assert (entry.status, entry.report, entry.updated) == ("OK", "GOOD", T0)
    assert entry.note == "exit 0 after <1s; running since 2026-05-02 12:00:00 UTC"
    clock.now += 3 * H
    report = board.refresh().report()
    (data,) = report["specs"]
    assert (data["status"], data["note"]) == ("ERROR", "running for 3h10m, no finish (limit 1h)")
    assert data["running_since"] == "2026-05-02T12:00:00+00:00"
    assert data["trend"]["last_duration_s"] == 0 and data["trend"]["reports"] == 1
    assert json.dumps(report)  # the --json envelope stays plain JSON


def test_the_history_cache_keeps_run_fields_and_drops_old_caches(remote: Path):
    client = PulseOxClient(clock=lambda: T0)
    client.run("owner", "repo", "jobs/r.md", ["true"])
    commit_files(
        remote,
        {"jobs/r.md": render("jobs/r.md", "x", "BAD", T0, "", RunFields(T0, 3 * S, 1))},
        "hand edit",
    )
    store = client.store("owner", "repo")
    assert isinstance(store, GitStore)
    cold, outcome = store.run(lambda tip: store.history_cache.read(tip, ["jobs/r.md"]))
    warm, again = store.run(lambda tip: store.history_cache.read(tip, ["jobs/r.md"]))
    assert (outcome.mode, again.mode) == ("cold", "hit") and cold == warm
    hand, finish, begin = warm["jobs/r.md"]
    assert hand.run == RunFields(T0, 3 * S, 1)  # from the footer of a commit without a trailer
    assert finish.run.exit == 0 and finish.run.started == begin.run.started == T0
    # a cache written by an older version (without run fields) is read again, not trusted
    data = json.loads(store.history_cache.file.read_text())
    data["version"] = 1
    store.history_cache.file.write_text(json.dumps(data))
    _, outcome = store.run(lambda tip: store.history_cache.read(tip, ["jobs/r.md"]))
    assert outcome.mode == "cold"
    assert git("rev-list", "--count", "main", cwd=remote).strip() == "3"


def test_the_rest_api_history_carries_run_fields(api):
    owner, _bare = api.new_repo()
    client = PulseOxClient(transport="api", api_url=api.url, clock=lambda: T0)
    client.run(owner, "status", "jobs/r.md", ["sh", "-c", "exit 3"])
    reports = client.history(owner, "status", "jobs/r.md")
    assert [r.report for r in reports] == ["BAD", "START"]
    assert reports[0].run == RunFields(T0, timedelta(0), 3) and reports[1].run == RunFields(T0)
    git_history = PulseOxClient(transport="git").history(owner, "status", "jobs/r.md")
    assert [(r.report, r.note, r.run) for r in git_history] == [
        (r.report, r.note, r.run) for r in reports
    ]


def test_start_is_a_report_a_post_may_make(remote, cli):
    where = ["--owner", "owner", "--repo", "repo", "--path", "ci.md"]
    code, _out, err = cli("post", *where, "--report", "START", "--content", "build 12")
    assert code == 0, err
    code, out, _ = cli("history", "--owner", "owner", "--repo", "repo", "--path", "ci.md")
    assert " START  " in out
