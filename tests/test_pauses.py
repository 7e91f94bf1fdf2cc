"""Pauses and maintenance windows, as commits: a failing spec they hold is
PAUSED and nobody is told; when they end it is judged as usual. Real bare
repositories, a real HTTP endpoint, an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fixtures.repos import commit_files, git, refs, show
from fixtures.webhook import WebhookSink
from pulseox_git.client import PulseOxClient
from pulseox_git.dashboard import PulseOxDashboard
from pulseox_git.dashboard.edit import pause_specs, resume_specs
from pulseox_git.dashboard.pauses import Pause, Window, parse_until
from pulseox_git.dashboard.specs import Settings, dumps, loads
from pulseox_git.errors import BadInputError
from pulseox_git.specs import PulseOxSpec

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def sink():
    with WebhookSink() as server:
        yield server


def post(path: str, report: str, at: datetime, note: str = "") -> None:
    PulseOxClient(clock=lambda: at).post("owner", "repo", path, "output", report, note)


def watch(*paths: str, schedule: str = "1d") -> list[PulseOxSpec]:
    return [PulseOxSpec("owner", "repo", p, schedule) for p in paths]


class Board:
    """Refreshes at chosen times, recording what each one sent."""

    def __init__(self, sink: WebhookSink) -> None:
        self.sink = sink

    def __call__(self, at: datetime, specs=None) -> PulseOxDashboard:
        self.before = len(self.sink.requests)
        return PulseOxDashboard(
            owner="owner",
            repo="repo",
            spec_list=specs,
            clock=lambda: at,
            notify={"slack": {"webhook_url": self.sink.url()}},
        ).write_summary()

    @property
    def sent(self) -> list[str]:
        return [r.json()["text"] for r in self.sink.requests[self.before :]]


def of(dashboard: PulseOxDashboard) -> dict[str, tuple[str, str]]:
    return {e.spec.path: (e.status, e.note) for e in dashboard.summary.entries}


def client(at: datetime) -> PulseOxClient:
    return PulseOxClient(clock=lambda: at)


def test_a_pause_until_a_time_holds_then_expires_without_cleanup(remote: Path, sink):
    board = Board(sink)
    post("a.md", "GOOD", T0)
    board(T0, watch("a.md"))
    done = pause_specs(client(T0), "owner", "repo", "a.md", "2026-05-01T15:00Z", "deploy", "alice")
    subject = git("log", "-1", "--format=%s", "main", cwd=remote).strip()
    assert subject == "pulseox: pause a.md until 2026-05-01 15:00:00 UTC by alice: deploy"
    assert done.sha and 'by = "alice"' in show(remote, "pulseox.toml")
    post("a.md", "BAD", T0 + HOUR, "disk full")
    paused = board(T0 + HOUR)
    note = "paused until 2026-05-01 15:00:00 UTC by alice: deploy (would be ERROR: disk full)"
    assert of(paused) == {"a.md": ("PAUSED", note)}
    assert board.sent == []  # OK --> PAUSED is not news
    text = show(remote, "summary.md")
    assert f"# PAUSED\n- [a.md](a.md) {note} " in text
    assert "- report: GOOD\n" in text and "- note: 0 ERROR, 0 MISSING, 1 PAUSED, 0 OK" in text
    assert paused.report()["specs"][0]["pause"] == {
        "kind": "pause",
        "reason": "deploy",
        "until": "2026-05-01T15:00:00+00:00",
        "by": "alice",
        "would_be": "ERROR",
    }
    assert paused.report()["holds"] == [
        {
            "kind": "pause",
            "paths": ["a.md"],
            "reason": "deploy",
            "by": "alice",
            "until": "2026-05-01T15:00:00+00:00",
        }
    ]
    page = show(remote, "index.html")
    assert 'data-status="PAUSED"' in page and "‖ PAUSED" in page
    assert "‖ 1 PAUSED" in show(remote, "badges/status.svg")
    board(T0 + 3 * HOUR - timedelta(seconds=1))
    assert board.sent == []
    ended = board(T0 + 3 * HOUR)  # 15:00: the pause has ended, nobody removed it
    assert of(ended)["a.md"] == ("ERROR", "disk full")
    assert board.sent == [
        "pulseox-git owner/repo: 1 status change(s)\n- owner/repo:a.md PAUSED --> ERROR disk full"
    ]


def test_a_pause_for_a_duration_by_glob_and_resume_from_the_cli(
    remote: Path, sink, cli, monkeypatch
):
    board = Board(sink)
    for path in ("jobs/a.md", "jobs/b.md", "other.md"):
        post(path, "BAD", T0, "broken")
    board(T0, watch("jobs/a.md", "jobs/b.md", "other.md"))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Bea")
    code, out, err = cli(
        "spec", "pause", "--owner", "owner", "--repo", "repo", "--path", "jobs/*",
        "--until", "2h", "--reason", "moving the disks",
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("pulseox: pause jobs/* until ") and "by Bea: moving the disks" in out
    code, out, _ = cli("spec", "list", "--owner", "owner", "--repo", "repo")
    assert out.splitlines()[-1].startswith("paused: jobs/* until ")
    now = datetime.now(UTC)  # the CLI's clock: --until 2h is from then
    held = board(now + HOUR)
    assert {p: s for p, (s, _) in of(held).items()} == {
        "jobs/a.md": "PAUSED",
        "jobs/b.md": "PAUSED",
        "other.md": "ERROR",
    }
    code, out, err = cli(
        "spec", "resume", "--owner", "owner", "--repo", "repo", "--path", "jobs/a.md"
    )  # fmt: skip
    assert (code, out.split(" (")[0]) == (0, "pulseox: resume jobs/* by Bea"), err
    assert "[[pause]]" not in show(remote, "pulseox.toml")
    resumed = board(now + HOUR)
    assert {p: s for p, (s, _) in of(resumed).items()} == {
        "jobs/a.md": "ERROR",
        "jobs/b.md": "ERROR",
        "other.md": "ERROR",
    }
    assert board.sent[0].splitlines()[1:] == [
        "- owner/repo:jobs/a.md PAUSED --> ERROR broken",
        "- owner/repo:jobs/b.md PAUSED --> ERROR broken",
    ]


def test_a_pause_holds_only_failing_specs_and_matches_keys_too(remote: Path, sink):
    board = Board(sink)
    post("jobs/a.md", "GOOD", T0)
    board(T0, watch("jobs/a.md", "jobs/gone.md"))
    pause_specs(client(T0), "owner", "repo", "owner/repo:jobs/*", None, "", "ops")
    held = board(T0 + HOUR)
    assert of(held)["jobs/a.md"] == ("OK", "")
    assert of(held)["jobs/gone.md"] == (
        "PAUSED",
        "paused until resumed by ops (would be MISSING: not in the repository)",
    )
    assert board.sent == [] and held.report()["specs"][1]["pause"]["until"] is None


def test_pausing_keeps_a_hand_written_spec_file_and_refuses_what_matches_nothing(remote: Path):
    text = (
        "# our dashboard\n"
        '[[spec]]\nowner = "owner"\nrepo = "repo"\npath = "a.md"\nschedule = "1d"  # daily\n'
    )
    commit_files(remote, {"pulseox.toml": text})
    pause_specs(client(T0), "owner", "repo", "a.md", "1h", "x", "me")
    assert show(remote, "pulseox.toml").startswith(text + '\n[[pause]]\npath = "a.md"\n')
    before = refs(remote)
    with pytest.raises(BadInputError, match="bad path glob 'nothing/\\*': no spec"):
        pause_specs(client(T0), "owner", "repo", "nothing/*", "1h")
    with pytest.raises(BadInputError, match=r"bad path glob 'b\.md': nothing paused"):
        resume_specs(client(T0), "owner", "repo", "b.md")
    assert refs(remote) == before


def window_board(remote: Path, sink, window: str, specs: list[PulseOxSpec]) -> Board:
    table = "".join(
        f'[[spec]]\nowner = "owner"\nrepo = "repo"\npath = "{s.path}"\nschedule = "1d"\n'
        for s in specs
    )
    commit_files(remote, {"pulseox.toml": table + "[[maintenance]]\n" + window})
    return Board(sink)


def test_a_maintenance_window_across_midnight(remote: Path, sink):
    window = 'start = "0 23 * * *"\nduration = "2h"\npaths = ["db/*"]\nreason = "backup"\n'
    board = window_board(remote, sink, window, watch("db/a.md", "web.md"))
    start = datetime(2026, 5, 1, 23, 0, tzinfo=UTC)
    assert {s for s, _ in of(board(start - timedelta(seconds=1))).values()} == {"MISSING"}
    for at in (start, start + HOUR + timedelta(minutes=59)):  # over midnight
        found = of(board(at))
        assert found["db/a.md"] == (
            "PAUSED",
            "maintenance until 2026-05-02 01:00:00 UTC: backup "
            "(would be MISSING: not in the repository)",
        )
        assert found["web.md"][0] == "MISSING"
    assert board.sent == []
    assert board(start + 2 * HOUR - timedelta(seconds=1)).report()["holds"] == [
        {
            "kind": "maintenance",
            "paths": ["db/*"],
            "reason": "backup",
            "by": None,
            "until": "2026-05-02T01:00:00+00:00",
        }
    ]
    ended = board(start + 2 * HOUR)
    assert of(ended)["db/a.md"][0] == "MISSING" and ended.report()["holds"] == []  # judged again
    assert board.sent[0].splitlines()[1] == (
        "- owner/repo:db/a.md PAUSED --> MISSING not in the repository"
    )


def test_a_window_over_a_dst_change_lasts_its_real_duration(remote: Path, sink):
    # Paris springs forward on 2026-03-29 at 02:00 CET: 01:30 CET is 00:30 UTC,
    # two real hours on is 02:30 UTC (04:30 CEST), not 03:30 CEST
    window = 'start = "30 1 * * *"\nduration = "2h"\ntz = "Europe/Paris"\n'
    board = window_board(remote, sink, window, watch("a.md"))
    assert of(board(datetime(2026, 3, 29, 0, 29, tzinfo=UTC)))["a.md"][0] == "MISSING"
    held = of(board(datetime(2026, 3, 29, 2, 29, tzinfo=UTC)))["a.md"]
    assert held[0] == "PAUSED" and "until 2026-03-29 02:30:00 UTC" in held[1]
    assert of(board(datetime(2026, 3, 29, 2, 30, tzinfo=UTC)))["a.md"][0] == "MISSING"
    autumn = Window("30 1 * * *", "1h", "Europe/Paris")  # type: ignore[arg-type]
    # on 2026-10-25, 01:30 CEST is 23:30 UTC the day before
    assert autumn.end(datetime(2026, 10, 24, 23, 45, tzinfo=UTC)) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )


def test_pauses_and_windows_round_trip_and_are_checked():
    settings = Settings(
        pauses=(Pause("jobs/*", T0, "deploy", "alice", T0 - HOUR),),
        maintenance=(Window("0 2 * * 0", "2h", "Europe/Paris", ("db/*",), "upgrade"),),  # type: ignore[arg-type]
    )
    assert loads(dumps([], settings)) == ([], settings)
    for bad in ("", " jobs/*", "jobs/[a", "/abs", "a\nb"):
        with pytest.raises(BadInputError, match="bad path glob"):
            Pause(bad)
    with pytest.raises(BadInputError, match="bad maintenance duration '0s'"):
        Window("0 2 * * *", "0s")  # type: ignore[arg-type]
    with pytest.raises(BadInputError, match="unknown time zone 'Mars/Base'"):
        Window("0 2 * * *", "1h", "Mars/Base")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["soon", "0", "-1h", "2026-04-30T12:00Z", "2026-13-01T00:00Z"])
def test_until_must_be_a_time_to_come_or_a_positive_duration(value):
    with pytest.raises(BadInputError, match=f"bad --until {value!r}"):
        parse_until(value, T0)


def test_until_reads_times_and_durations():
    assert parse_until("90m", T0) == T0 + timedelta(minutes=90)
    assert parse_until("2026-05-01T16:00+02:00", T0) == T0 + 2 * HOUR


def test_overlapping_windows_are_fine_and_the_first_in_force_holds():
    text = (
        '[[spec]]\nowner = "owner"\nrepo = "repo"\npath = "db/a.md"\nschedule = "1d"\n'
        '[[maintenance]]\nstart = "0 1 * * *"\nduration = "2h"\nreason = "first"\n'
        '[[maintenance]]\nstart = "0 2 * * *"\nduration = "2h"\nreason = "second"\n'
    )
    settings = loads(text)[1]
    from pulseox_git.dashboard.pauses import Holds

    at = datetime(2026, 5, 1, 2, 30, tzinfo=UTC)
    hold = Holds(settings.pauses, settings.maintenance, at).find("db/a.md", "k", "ERROR")
    assert hold is not None and (hold.reason, hold.until) == ("first", at + timedelta(minutes=30))
    later = Holds(settings.pauses, settings.maintenance, at + HOUR).find("db/a.md", "k", "ERROR")
    assert later is not None and later.reason == "second"


def test_spec_list_shows_pauses_windows_and_marks_an_expired_pause(remote: Path, cli):
    commit_files(
        remote,
        {
            "pulseox.toml": '[[spec]]\nowner = "owner"\nrepo = "repo"\npath = "a.md"\n'
            'schedule = "1d"\n[[pause]]\npath = "a.md"\nuntil = "2020-01-01T00:00:00Z"\n'
            'by = "old"\n[[maintenance]]\nstart = "0 2 * * 0"\nduration = "2h"\n'
            'tz = "Europe/Paris"\npaths = ["db/*"]\nreason = "upgrade"\n'
        },
    )
    code, out, err = cli("spec", "list", "--owner", "owner", "--repo", "repo")
    assert (code, out.splitlines()) == (
        0,
        [
            "owner/repo:a.md every 1d",
            "paused: a.md until 2020-01-01 00:00:00 UTC by old (expired)",
            "maintenance: 0 2 * * 0 for 2h Europe/Paris on db/*: upgrade",
        ],
    ), err
