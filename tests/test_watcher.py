"""The watched watcher: the dashboard's own schedule and lateness in the
summary, the status page and --json; the heartbeat URL pinged after each
refresh that landed (a loopback endpoint, and an unreachable one)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from fixtures.repos import commit_files, show
from fixtures.webhook import WebhookSink
from pulseox_git.client import PulseOxClient
from pulseox_git.dashboard import PulseOxDashboard, watcher
from pulseox_git.dashboard.specs import Settings, loads
from pulseox_git.errors import BadInputError

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SPEC = '[[spec]]\nowner = "owner"\nrepo = "repo"\npath = "a.md"\nschedule = "1d"\n'
SECRET = "/ping/5f1c-secret-uuid"


@pytest.fixture
def sink():
    with WebhookSink() as server:
        yield server


def configure(remote: Path, dashboard: str) -> None:
    PulseOxClient(clock=lambda: T0).post("owner", "repo", "a.md", "x", "GOOD")
    commit_files(remote, {"pulseox.toml": f"[dashboard]\n{dashboard}\n{SPEC}"})


def write(at: datetime, **kwargs) -> PulseOxDashboard:
    return PulseOxDashboard(owner="owner", repo="repo", clock=lambda: at, **kwargs).write_summary()


def test_a_late_run_says_how_late_everywhere(remote: Path):
    configure(remote, 'schedule = "*/15 * * * *"')
    dashboard = write(T0 + timedelta(minutes=17, seconds=30))
    line = (
        "Dashboard ran 2026-05-01 12:17:30 UTC, 2m30s late "
        "(due 2026-05-01 12:15:00 UTC; schedule */15 * * * *)"
    )
    assert f"\n\n{line}\n\n# Metadata" in show(remote, "summary.md")
    assert f" · {line}</p>" in show(remote, "index.html")
    assert dashboard.report()["dashboard_run"] == {
        "ran": "2026-05-01T12:17:30+00:00",
        "schedule": "*/15 * * * *",
        "due": "2026-05-01T12:15:00+00:00",
        "late_seconds": 150,
    }
    on_time = write(T0 + timedelta(minutes=30))
    assert on_time.run is not None and on_time.run.line("UTC") == (
        "Dashboard ran 2026-05-01 12:30:00 UTC, on time "
        "(due 2026-05-01 12:30:00 UTC; schedule */15 * * * *)"
    )


def test_cron_slots_are_read_in_the_dashboards_zone(remote: Path):
    configure(remote, 'schedule = "0 9 * * *"\ntz = "Asia/Tokyo"')  # 09:00 JST is 00:00 UTC
    run = write(T0).run
    assert run is not None and run.due == datetime(2026, 5, 1, 0, 0, tzinfo=UTC)
    assert run.late == timedelta(hours=12)


def test_a_duration_schedule_counts_from_the_last_refresh(remote: Path):
    configure(remote, 'schedule = "15m"')
    first = write(T0)
    assert first.run is not None and first.run.line("UTC") == (
        "Dashboard ran 2026-05-01 12:00:00 UTC (schedule 15m)"
    )
    assert first.report()["dashboard_run"]["late_seconds"] is None
    second = write(T0 + timedelta(minutes=21))
    assert second.run is not None and second.run.late == timedelta(minutes=6)


def test_a_duration_run_before_its_slot_is_on_time_and_a_late_one_counts_from_its_slot():
    """A refresh that commits nothing leaves no trace, so slots count from the last
    committed run: early is on time, and lateness is against the last slot passed."""
    hour = timedelta(hours=1)
    early = watcher.run_record(hour, T0 + timedelta(minutes=59), T0, UTC)
    assert early is not None and (early.due, early.late) == (T0 + hour, timedelta(0))
    later = watcher.run_record(hour, T0 + timedelta(minutes=130), T0, UTC)
    assert later is not None and (later.due, later.late) == (T0 + 2 * hour, timedelta(minutes=10))


def test_without_a_schedule_nothing_is_said(remote: Path):
    configure(remote, 'mode = "md"')
    dashboard = write(T0)
    assert "Dashboard ran" not in show(remote, "summary.md")
    assert dashboard.report()["dashboard_run"] is None


def test_the_heartbeat_url_is_pinged_once_after_a_refresh_that_landed(
    remote: Path, sink: WebhookSink, monkeypatch
):
    configure(remote, 'heartbeat_url_env = "HEARTBEAT_URL"')
    monkeypatch.setenv("HEARTBEAT_URL", sink.url(SECRET))
    write(T0, dry_run=True)
    PulseOxDashboard(owner="owner", repo="repo", clock=lambda: T0).refresh()  # no write
    assert sink.requests == []
    dashboard = write(T0)
    assert dashboard.heartbeat_failure is None
    [ping] = sink.wait_for(1)
    assert (ping.method, ping.path, ping.body) == ("GET", SECRET, b"")


@pytest.mark.parametrize(
    "url, named",
    [
        ("http://127.0.0.1:9/ping/5f1c-secret-uuid", "Connection refused"),
        ("ftp://127.0.0.1/ping/5f1c-secret-uuid", "not an http(s) URL"),
    ],
)
def test_an_unreachable_heartbeat_is_a_warning_without_the_url(
    remote: Path, cli, monkeypatch, url, named
):
    configure(remote, 'heartbeat_url_env = "HEARTBEAT_URL"')
    monkeypatch.setenv("HEARTBEAT_URL", url)
    code, out, err = cli("dashboard", "refresh", "--owner", "owner", "--repo", "repo")
    assert code == 0 and "# Metadata" in out
    assert "warning: heartbeat ping to $HEARTBEAT_URL failed: " in err and named in err
    assert "secret" not in out + err and "127.0.0.1" not in err
    assert show(remote, "summary.md") == out  # the summary landed all the same


def test_the_heartbeat_is_bounded_and_an_error_status_is_a_warning(remote: Path, monkeypatch):
    configure(remote, 'heartbeat_url_env = "HEARTBEAT_URL"')
    with WebhookSink(delay=5) as slow:
        monkeypatch.setenv("HEARTBEAT_URL", slow.url(SECRET))
        dashboard = write(T0, notify_timeout=0.3)
        assert dashboard.heartbeat_failure is not None
        assert "timed out" in dashboard.heartbeat_failure
    with WebhookSink(status=503) as failing:
        monkeypatch.setenv("HEARTBEAT_URL", failing.url(SECRET))
        failure = write(T0 + timedelta(minutes=1)).heartbeat_failure
        assert failure == "heartbeat ping to $HEARTBEAT_URL failed: HTTP 503"
    monkeypatch.delenv("HEARTBEAT_URL")
    assert write(T0 + timedelta(minutes=2)).heartbeat_failure == (
        "heartbeat: environment variable HEARTBEAT_URL is not set, so nothing was pinged"
    )


def test_init_writes_the_workflows_schedule_into_the_spec_file(remote: Path, cli):
    assert cli("init", "--owner", "owner", "--repo", "repo")[0] == 0
    workflow = YAML(typ="safe", pure=True).load(
        show(remote, ".github/workflows/pulseox-dashboard.yml")
    )
    [cron] = [entry["cron"] for entry in workflow["on"]["schedule"]]
    assert loads(show(remote, "pulseox.toml"))[1].schedule == cron


def test_schedule_and_heartbeat_settings_are_checked():
    assert loads('[dashboard]\nschedule = "15m"\n')[1].schedule == timedelta(minutes=15)
    for bad, named in [
        ({"schedule": "0 0 31 2 *"}, "never runs"),
        ({"schedule": "often"}, "'often'"),
        ({"heartbeat_url_env": "https://hc-ping.com/x"}, "bad heartbeat_url_env"),
    ]:
        with pytest.raises(BadInputError, match=named):
            Settings(**bad)  # type: ignore[arg-type]


def test_a_refresh_that_commits_nothing_still_pings(remote: Path, sink: WebhookSink, monkeypatch):
    configure(remote, 'heartbeat_url_env = "HEARTBEAT_URL"')
    monkeypatch.setenv("HEARTBEAT_URL", sink.url(SECRET))
    write(T0)
    tip = show(remote, "pulseox-state.json")
    write(T0 + timedelta(minutes=1))  # nothing changed: no commit, but the refresh ran
    assert show(remote, "pulseox-state.json") == tip
    assert [r.method for r in sink.wait_for(2)] == ["GET", "GET"]
