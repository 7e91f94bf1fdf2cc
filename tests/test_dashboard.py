"""The dashboard against real bare repositories, with an injected clock."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fixtures.repos import commit_files, git, make_bare, refs, show
from pulseox_git.client import PulseOxClient
from pulseox_git.dashboard import PulseOxDashboard
from pulseox_git.errors import BadInputError
from pulseox_git.page import render
from pulseox_git.specs import PulseOxSpec
from pulseox_git.store.git.command import Git

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def post(
    path: str,
    at: datetime,
    report: str = "GOOD",
    note: str = "",
    repo: str = "repo",
    content: str = "job output",
) -> None:
    PulseOxClient(clock=lambda: at).post("owner", repo, path, content, report, note)


def spec(path: str, schedule="1d", grace=None, repo: str = "repo") -> PulseOxSpec:
    return PulseOxSpec("owner", repo, path, schedule, grace)


def board(specs=None, at: datetime = T0, **kwargs) -> PulseOxDashboard:
    clock = at if callable(at) else Clock(at)
    return PulseOxDashboard(owner="owner", repo="repo", spec_list=specs, clock=clock, **kwargs)


def sections(text: str) -> dict[str, list[str]]:
    """Section title -> its entry lines, without trend notes (tests/test_statuspage.py)."""
    found: dict[str, list[str]] = {}
    for block in text.strip().split("\n\n"):
        title, *lines = block.splitlines()
        found[title] = [re.sub(r" \[\d+% GOOD \([^\]]*\]", "", line) for line in lines]
    return found


def statuses(dashboard: PulseOxDashboard) -> dict[str, str]:
    return {e.spec.path: e.status for e in dashboard.summary.entries}


def test_sections_changes_and_one_commit(remote: Path):
    post("a.md", T0)
    post("b.md", T0, "BAD", "disk full")
    specs = [spec("a.md", timedelta(minutes=10)), spec("b.md", "1h"), spec("c.md", "* * * * *")]
    first = board(specs, T0 + timedelta(minutes=1)).write_summary(force_refresh=True)
    found = sections(first.summary.text)
    assert list(found) == ["# Changes", "# ERROR", "# MISSING", "# OK", "# Metadata"]
    assert found["# Changes"] == [  # worst first, as the original
        "- [b.md](b.md) None --> ERROR 2026-05-01 12:00:00 UTC",
        "- [c.md](c.md) None --> MISSING never",
        "- [a.md](a.md) None --> OK 2026-05-01 12:00:00 UTC",
    ]
    assert found["# ERROR"] == ["- [b.md](b.md) disk full 2026-05-01 12:00:00 UTC"]
    assert found["# MISSING"] == ["- [c.md](c.md) not in the repository never"]
    assert found["# OK"] == ["- [a.md](a.md) 2026-05-01 12:00:00 UTC"]
    assert found["# Metadata"] == [
        "- report: BAD",
        "- updated: 2026-05-01T12:01:00+00:00",
        "- note: 1 ERROR, 1 MISSING, 1 OK",
    ]
    assert show(remote, "summary.md") == first.summary.text
    touched = git("show", "--name-only", "--format=%s", "main", cwd=remote).split("\n")
    assert touched[0] == "pulseox: dashboard 1 ERROR, 1 MISSING, 1 OK (3 changed)"
    assert sorted(filter(None, touched[1:])) == [
        "badges/a.md.svg",
        "badges/b.md.svg",
        "badges/c.md.svg",
        "badges/status.svg",
        "index.html",
        "pulseox-state.json",
        "pulseox.toml",
        "summary.md",
    ]
    state = json.loads(show(remote, "pulseox-state.json"))["statuses"]
    assert {k: v["status"] for k, v in state.items()} == {
        "owner/repo:a.md": "OK",
        "owner/repo:b.md": "ERROR",
        "owner/repo:c.md": "MISSING",
    }

    # eleven minutes on, a.md is late; only that change is listed
    second = (
        board(at=T0 + timedelta(minutes=11)).get_remote_data().write_summary(force_refresh=True)
    )
    assert second.spec_list == specs
    found = sections(second.summary.text)
    assert found["# Changes"] == ["- [a.md](a.md) OK --> MISSING 2026-05-01 12:00:00 UTC"]
    assert found["# MISSING"][0] == (
        "- [a.md](a.md) late: due by 2026-05-01 12:10:00 UTC 2026-05-01 12:00:00 UTC"
    )
    assert "# OK" not in found

    # nothing changed since: no Changes section, and no commit (tests/test_heartbeat.py)
    tip = git("rev-parse", "main", cwd=remote)
    third = board(at=T0 + timedelta(minutes=12)).get_remote_data().write_summary()
    assert "# Changes" not in sections(third.summary.text)
    assert third.published.sha is None and git("rev-parse", "main", cwd=remote) == tip


def test_each_error_cause_has_its_note(remote: Path):
    old = T0 - timedelta(days=1)
    post("source.md", old)  # a page whose text, footer and all, is copied by hand
    post("bad.md", T0, "BAD", "exit 3")
    copied = show(remote, "source.md")
    commit_files(
        remote,
        {
            "nofooter.md": "edited by hand, footer deleted\n",
            "garbled.md": "x\n\n# Metadata\n- report: GOOD\nthis is not a field\n",
            "unknown.md": render("unknown.md", "x", "MAYBE", T0),
            "notime.md": "x\n\n# Metadata\n- report: GOOD\n- updated: yesterday\n",
            "future.md": render("future.md", "x", "GOOD", T0 + timedelta(hours=2)),
            "copied.md": copied,
        },
        date=iso(T0),
    )
    names = ["nofooter", "garbled", "unknown", "notime", "future", "copied", "bad"]
    dashboard = board([spec(f"{n}.md") for n in names], T0 + timedelta(minutes=5)).refresh()
    entries = {e.spec.path[:-3]: e for e in dashboard.summary.entries}
    assert {e.status for e in entries.values()} == {"ERROR"}
    assert entries["nofooter"].note == "no metadata footer"
    assert entries["garbled"].note == "unparseable footer line 'this is not a field'"
    assert entries["unknown"].note == "unknown report value 'MAYBE'"
    assert entries["notime"].note == "unparseable footer time 'yesterday'"
    assert entries["future"].note == "footer time 2026-05-01T14:00:00+00:00 is in the future"
    assert entries["copied"].note == (
        "footer time 2026-04-30T12:00:00+00:00 disagrees with commit time 2026-05-01T12:00:00+00:00"
    )
    assert entries["copied"].updated == T0  # the commit time, not the footer
    assert entries["bad"].note == "exit 3" and entries["bad"].problem is None
    assert all(entries[n].problem == entries[n].note for n in names[:-1])
    assert len(sections(dashboard.summary.text)["# ERROR"]) == len(names)


def test_footer_and_commit_time_tolerance(remote: Path):
    late_commit = T0 + timedelta(minutes=5)
    commit_files(remote, {"a.md": render("a.md", "hand post", "GOOD", T0)}, date=iso(late_commit))
    now = T0 + timedelta(minutes=6)
    assert statuses(board([spec("a.md")], now).refresh()) == {"a.md": "OK"}
    strict = board([spec("a.md")], now, tolerance="1m").refresh()
    assert statuses(strict) == {"a.md": "ERROR"}
    assert strict.summary.entries[0].updated == late_commit


def test_schedule_boundaries_through_the_dashboard(remote: Path):
    post("d.md", T0)
    post("c.md", T0 + timedelta(seconds=30))  # the 12:00 run of an hourly job
    specs = [spec("d.md", "10m", "5m"), spec("c.md", "0 * * * *", "10m")]
    clock = Clock(T0 + timedelta(minutes=15))
    dashboard = board(specs, clock)
    assert statuses(dashboard.refresh()) == {"d.md": "OK", "c.md": "OK"}
    clock.now += timedelta(seconds=1)
    assert statuses(dashboard.refresh()) == {"d.md": "MISSING", "c.md": "OK"}
    clock.now = T0 + timedelta(hours=1, minutes=10)
    assert statuses(dashboard.refresh())["c.md"] == "OK"
    clock.now += timedelta(seconds=1)
    assert statuses(dashboard.refresh())["c.md"] == "MISSING"
    assert dashboard.summary.entries[1].note == "late: due by 2026-05-01 13:10:00 UTC"


def test_deleted_and_never_posted_pages_are_missing(remote: Path):
    post("gone.md", T0)
    commit_files(remote, {"gone.md": None}, date=iso(T0 + timedelta(minutes=1)))
    dashboard = board([spec("gone.md"), spec("never.md")], T0).refresh()
    assert [(e.status, e.note, e.updated) for e in dashboard.summary.entries] == [
        ("MISSING", "deleted from the repository", None),
        ("MISSING", "not in the repository", None),
    ]


def test_specs_across_two_repositories(remote: Path):
    make_bare(remote.parent / "other.git")
    other = remote.parent / "other.git"
    post("a.md", T0)
    post("jobs/x.md", T0, "BAD", "timeout", repo="other")
    before = refs(other)
    specs = [spec("a.md"), spec("jobs/x.md", repo="other"), spec("y.md", repo="other")]
    dashboard = board(specs, T0 + timedelta(minutes=1)).write_summary()
    found = sections(show(remote, "summary.md"))
    assert found["# ERROR"] == [
        "- [owner/other/jobs/x.md](https://github.com/owner/other/blob/main/jobs/x.md) "
        "timeout 2026-05-01 12:00:00 UTC"
    ]
    assert found["# MISSING"] == [
        "- [owner/other/y.md](https://github.com/owner/other/blob/"
        "main/y.md) not in the repository never"
    ]
    assert found["# OK"] == ["- [a.md](a.md) 2026-05-01 12:00:00 UTC"]
    assert refs(other) == before  # the watched repository is only read
    assert sorted(git("ls-tree", "-r", "--name-only", "main", "badges", cwd=remote).split()) == [
        "badges/@owner/other/jobs/x.md.svg",
        "badges/@owner/other/y.md.svg",
        "badges/a.md.svg",
        "badges/status.svg",
    ]
    assert dashboard.published.sha == git("rev-parse", "main", cwd=remote).strip()


def test_one_read_per_repository_whatever_the_number_of_pages(
    remote: Path, monkeypatch: pytest.MonkeyPatch
):
    PulseOxClient(clock=lambda: T0).post_many(
        "owner", "repo", [{"path": f"p{i}.md", "content": str(i)} for i in range(40)]
    )
    calls: list[str] = []
    real_git, real_stream = Git.__call__, Git.stream

    def counting_git(self, *args, **kwargs):
        calls.append(args[0])
        return real_git(self, *args, **kwargs)

    def counting_stream(self, *args, **kwargs):
        calls.append(args[0])
        return real_stream(self, *args, **kwargs)

    monkeypatch.setattr(Git, "__call__", counting_git)
    monkeypatch.setattr(Git, "stream", counting_stream)
    counts = []
    for pages in (2, 40):
        calls.clear()
        board([spec(f"p{i}.md") for i in range(pages)], T0).refresh()
        counts.append(len(calls))
    assert counts[0] == counts[1], calls
    assert calls.count("fetch") == 1 and calls.count("log") == 1


def test_a_race_recomputes_changes_from_the_new_tip(remote: Path):
    post("a.md", T0)
    board([spec("a.md")], T0).write_summary()  # publishes a.md OK
    racer = {"done": False}

    def clock() -> datetime:
        if not racer["done"]:  # another dashboard publishes between our read and our push
            racer["done"] = True
            state = {"version": 1, "statuses": {"owner/repo:a.md": {"status": "ERROR"}}}
            commit_files(
                remote, {"pulseox-state.json": json.dumps(state)}, "other dashboard", date=iso(T0)
            )
        return T0 + timedelta(minutes=1)

    post("a.md", T0 + timedelta(seconds=30))  # something to publish (else no commit)
    dashboard = board([spec("a.md")], clock).get_remote_data()
    dashboard.write_summary(force_refresh=False)
    assert dashboard.published.attempts == 2
    assert sections(show(remote, "summary.md"))["# Changes"] == [
        "- [a.md](a.md) ERROR --> OK 2026-05-01 12:00:30 UTC"
    ]
    assert git("log", "-2", "--format=%s", "main", cwd=remote).splitlines()[1] == "other dashboard"


def test_org_mode_and_time_zone(remote: Path):
    post("b.org", T0, "BAD", "failed")
    dashboard = board([spec("b.org")], T0, mode="org", tz="Europe/Paris").write_summary()
    text = show(remote, "summary.org")
    assert text == dashboard.summary.text
    found = sections(text)
    assert found["* ERROR"] == ["- [[b.org][b.org]] failed 2026-05-01 14:00:00+02:00 Europe/Paris"]
    assert "* Metadata" in found
    assert 'mode = "org"' in show(remote, "pulseox.toml")
    assert 'tz = "Europe/Paris"' in show(remote, "pulseox.toml")


def test_entries_keep_the_page_history(remote: Path):
    for minutes, report in ((0, "GOOD"), (10, "BAD"), (20, "GOOD")):
        post("a.md", T0 + timedelta(minutes=minutes), report)
    entry = board([spec("a.md")], T0 + timedelta(minutes=21)).refresh().summary.entries[0]
    assert [r.report for r in entry.history] == ["GOOD", "BAD", "GOOD"]
    assert entry.updated == entry.history[0].time == T0 + timedelta(minutes=20)


def test_hand_edited_spec_file_is_kept_verbatim(remote: Path):
    post("a.md", T0)
    toml = (
        "# watched by the ops team\n[[spec]]\nowner = 'owner'\nrepo = 'repo'\n"
        "path = 'a.md'\nschedule = '1d'\n"
    )
    commit_files(remote, {"pulseox.toml": toml})
    board(at=T0).write_summary()
    assert show(remote, "pulseox.toml") == toml


def test_dry_run_and_bad_input_leave_the_remote_unchanged(remote: Path):
    post("a.md", T0)
    before = refs(remote)
    dashboard = board([spec("a.md")], T0).write_summary(dry_run=True)
    assert dashboard.published.dry_run and "# OK" in dashboard.summary.text
    assert refs(remote) == before
    with pytest.raises(BadInputError, match="spec_list is empty"):
        board([], T0).write_summary()
    assert refs(remote) == before
    commit_files(remote, {"pulseox.toml": "[[spec]]\nowner = 'owner'\n"})
    before = refs(remote)
    with pytest.raises(BadInputError, match=r"pulseox\.toml in owner/repo, spec 1: no path"):
        board(at=T0).write_summary()
    with pytest.raises(BadInputError, match="unknown time zone 'Nowhere/Town'"):
        board([spec("a.md")], T0, tz="Nowhere/Town")
    assert refs(remote) == before


def test_summary_status_groups_like_the_original(remote: Path):
    post("a.md", T0)
    dashboard = board([spec("a.md"), spec("b.md")], T0).refresh()
    assert {k: [e.spec.path for e in v] for k, v in dashboard.summary.status.items()} == {
        "ERROR": [],
        "MISSING": ["b.md"],
        "OK": ["a.md"],
    }
    assert re.search(r"^# Changes$", dashboard.summary.text, re.M)


@pytest.mark.parametrize(
    "spec_list, named",
    [
        ([5], "5"),
        ("a.md", "'a.md'"),
        ([PulseOxSpec("o", "r", "a.md", "1h")] * 2, "'o/r:a.md' appears twice"),
    ],
)
def test_a_bad_spec_list_is_named(spec_list, named):
    with pytest.raises(BadInputError, match=re.escape(named)):
        PulseOxDashboard(owner="o", repo="r", spec_list=spec_list)


@pytest.mark.parametrize("value, env", [(-1, None), (0, None), ("10", None), (None, "soon")])
def test_a_bad_notify_timeout_is_named(value, env, monkeypatch):
    if env:
        monkeypatch.setenv("PULSEOX_NOTIFY_TIMEOUT", env)
    with pytest.raises(BadInputError, match=re.escape(repr(env or value))):
        PulseOxDashboard(owner="o", repo="r", notify_timeout=value)


def test_notify_timeout_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("PULSEOX_NOTIFY_TIMEOUT", "2.5")
    assert PulseOxDashboard(owner="o", repo="r").notify_timeout == 2.5


@pytest.mark.parametrize("cron", ["0 0 31 2 *", "0 0 30 2 *", "0 0 31 4,6 *"])
def test_a_cron_that_never_runs_is_refused_when_made(cron):
    with pytest.raises(BadInputError, match=re.escape(f"bad cron schedule {cron!r}: it never")):
        spec("a.md", cron)
    assert spec("a.md", "0 0 29 2 *").schedule == "0 0 29 2 *"  # leap days do come round


def test_a_hand_written_cron_that_never_runs_is_an_error_not_a_crash(remote: Path):
    post("a.md", T0)
    post("b.md", T0)
    toml = "".join(
        f"[[spec]]\nowner = 'owner'\nrepo = 'repo'\npath = '{path}'\nschedule = '{schedule}'\n"
        for path, schedule in (("a.md", "0 0 31 2 *"), ("b.md", "1d"), ("c.md", "0 0 31 2 *"))
    )
    commit_files(remote, {"pulseox.toml": toml})
    dashboard = board(at=T0 + timedelta(minutes=1)).write_summary()
    assert statuses(dashboard) == {"a.md": "ERROR", "b.md": "OK", "c.md": "ERROR"}
    found = sections(show(remote, "summary.md"))
    assert found["# ERROR"][0].startswith(
        "- [a.md](a.md) cron schedule '0 0 31 2 *' has no next time after"
    )


def test_an_unreadable_other_repository_puts_only_its_specs_in_error(remote: Path, caplog):
    make_bare(remote.parent / "other.git")
    post("a.md", T0)
    post("b.md", T0, repo="other")
    specs = [
        spec("a.md"),
        spec("b.md", repo="other"),
        spec("x.md", repo="nothing"),
        spec("y.md", repo="nothing"),
    ]
    with caplog.at_level("WARNING", logger="pulseox_git"):
        dashboard = board(specs, T0 + timedelta(minutes=1)).write_summary()
    assert statuses(dashboard) == {"a.md": "OK", "b.md": "OK", "x.md": "ERROR", "y.md": "ERROR"}
    found = sections(show(remote, "summary.md"))
    assert [line.split(" cannot read ")[1][:15] for line in found["# ERROR"]] == [
        "owner/nothing: "
    ] * 2
    assert "nothing.git" in found["# ERROR"][0]  # the git error says what went wrong
    assert [r.message.split(":")[1] for r in caplog.records if "cannot read" in r.message] == [
        " cannot read owner/nothing"
    ]  # once per repository, not per spec
    assert dashboard.published.sha == git("rev-parse", "main", cwd=remote).strip()


def test_the_dashboards_own_repository_failing_still_fails(remote: Path):
    from pulseox_git.errors import RemoteError

    gone = PulseOxDashboard(
        owner="owner", repo="nothing", spec_list=[spec("a.md")], clock=Clock(T0)
    )
    with pytest.raises(RemoteError, match=r"nothing\.git"):
        gone.write_summary()
