"""Notifications reach a real HTTP endpoint on 127.0.0.1 through `notifiers`' slack
provider, only when a status changed, and never cost the summary commit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fixtures.repos import commit_files, git, show
from fixtures.webhook import WebhookSink
from pulseox_git.client import PulseOxClient
from pulseox_git.dashboard import PulseOxDashboard, notify
from pulseox_git.specs import PulseOxSpec

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SECRET_PATH = "/services/T000/B000/XXXXsecretXXXX"


@pytest.fixture
def sink():
    with WebhookSink() as server:
        yield server


def post(path: str, report: str = "GOOD", note: str = "", at: datetime = T0) -> None:
    PulseOxClient(clock=lambda: at).post("owner", "repo", path, "output", report, note)


def board(at: datetime, notify_config=None, **kwargs) -> PulseOxDashboard:
    specs = [PulseOxSpec("owner", "repo", p, "1h") for p in ("a.md", "b.md")]
    return PulseOxDashboard(
        owner="owner",
        repo="repo",
        spec_list=specs,
        clock=lambda: at,
        notify=notify_config,
        **kwargs,
    )


def test_changes_are_sent_and_nothing_when_nothing_changed(remote: Path, sink: WebhookSink):
    post("a.md")
    post("b.md", "BAD", "disk full")
    config = {"slack": {"webhook_url": sink.url(SECRET_PATH)}}
    first = board(T0, config).write_summary()
    assert first.notify_failures == []
    [request] = sink.wait_for(1)
    assert request.path == SECRET_PATH
    text = request.json()["text"]
    assert text.splitlines() == [
        "pulseox-git owner/repo: 2 status change(s)",
        "- owner/repo:b.md None --> ERROR disk full",  # worst first
        "- owner/repo:a.md None --> OK",
    ]
    board(T0 + timedelta(minutes=5), config).write_summary()
    assert len(sink.requests) == 1  # same statuses: no message
    post("b.md", at=T0 + timedelta(minutes=6))
    board(T0 + timedelta(minutes=7), config).write_summary()
    assert [line for line in sink.wait_for(2)[1].json()["text"].splitlines()[1:]] == [
        "- owner/repo:b.md ERROR --> OK"
    ]


def test_a_failing_notifier_keeps_the_commit_and_hides_the_secret(remote: Path, sink: WebhookSink):
    post("a.md")
    sink.status = 500
    dashboard = board(T0, {"slack": {"webhook_url": sink.url(SECRET_PATH)}}).write_summary()
    assert len(sink.requests) == 1
    assert git("rev-parse", "main", cwd=remote).strip() == dashboard.published.sha
    assert "# Changes" in show(remote, "summary.md")
    [failure] = dashboard.notify_failures
    assert failure.startswith("slack: ") and "secret" not in failure


def test_an_unreachable_endpoint_is_a_failure_not_an_exception(remote: Path):
    post("a.md")
    closed = WebhookSink()
    url = closed.url(SECRET_PATH)
    closed.httpd.server_close()  # nothing listens on that port any more
    dashboard = board(T0, {"slack": {"webhook_url": url}}).write_summary()
    [failure] = dashboard.notify_failures
    assert "XXXXsecretXXXX" not in failure and "***" in failure


def test_a_slow_endpoint_is_given_up_on_in_bounded_time(remote: Path, sink: WebhookSink):
    import time

    post("a.md")
    sink.delay = 10  # answers only after 10 s (its most)
    dashboard = board(T0, {"slack": {"webhook_url": sink.url()}}, notify_timeout=0.3)
    dashboard.write_summary(allow_notify_change=False)
    began = time.monotonic()
    dashboard.notify_changes()
    waited = time.monotonic() - began
    assert dashboard.notify_failures == ["slack: no answer within 0.3s"]
    assert 0.3 <= waited < 5, waited  # gave up at its bound, long before the answer


def test_stored_settings_reference_the_secret_by_env_var(
    remote: Path, sink: WebhookSink, monkeypatch: pytest.MonkeyPatch
):
    post("a.md")
    commit_files(
        remote,
        {
            "pulseox.toml": (
                '[notify.slack]\nwebhook_url_env = "OPS_HOOK"\nusername = "pulseox"\n\n'
                '[[spec]]\nowner = "owner"\nrepo = "repo"\npath = "a.md"\nschedule = "1h"\n'
            )
        },
    )
    monkeypatch.setenv("OPS_HOOK", sink.url(SECRET_PATH))
    PulseOxDashboard(owner="owner", repo="repo", clock=lambda: T0).write_summary()
    [request] = sink.wait_for(1)
    assert request.json()["username"] == "pulseox" and "a.md None --> OK" in request.json()["text"]
    assert sink.url(SECRET_PATH) not in show(remote, "pulseox.toml")
    monkeypatch.delenv("OPS_HOOK")
    post("a.md", "BAD", at=T0 + timedelta(minutes=1))
    later = PulseOxDashboard(owner="owner", repo="repo", clock=lambda: T0 + timedelta(minutes=2))
    assert later.write_summary().notify_failures == [
        "environment variable OPS_HOOK (for webhook_url) is not set"
    ]


def test_unknown_provider_is_reported():
    assert notify.send({"carrier_pigeon": {}}, "hi") == [
        "unknown notifier provider 'carrier_pigeon'"
    ]


def test_dry_run_sends_nothing(remote: Path, sink: WebhookSink):
    post("a.md")
    board(T0, {"slack": {"webhook_url": sink.url()}}, dry_run=True).write_summary()
    assert sink.requests == []


def test_cli_reports_failures_on_stderr_and_strict_notify_exits_1(
    remote: Path, sink: WebhookSink, cli
):
    post("a.md", at=datetime.now(UTC))  # the CLI runs on the real clock
    code, out, err = cli(
        "spec", "add", "--owner", "owner", "--repo", "repo", "--path", "a.md", "--schedule", "1d"
    )
    assert code == 0, err
    sink.status = 403
    hook = json.dumps({"slack": {"webhook_url": sink.url(SECRET_PATH)}})
    code, out, err = cli(
        "dashboard", "refresh", "--owner", "owner", "--repo", "repo", "--notify", hook
    )
    assert code == 0 and "# Changes" in out
    assert "warning: notification failed: slack: no_such_hook" in err
    assert "warning: notify.slack.webhook_url looks like a secret" in err  # on argv
    assert "XXXXsecretXXXX" not in err + out
    post("a.md", "BAD", at=datetime.now(UTC))
    code, out, err = cli(
        "dashboard",
        "refresh",
        "--owner",
        "owner",
        "--repo",
        "repo",
        "--notify",
        hook,
        "--strict-notify",
    )
    assert code == 1 and "OK --> ERROR" in show(remote, "summary.md")
    sink.status = 200
    post("a.md", at=datetime.now(UTC))
    code, out, err = cli(
        "dashboard",
        "refresh",
        "--owner",
        "owner",
        "--repo",
        "repo",
        "--notify",
        hook,
        "--strict-notify",
    )
    assert code == 0 and "ERROR --> OK" in sink.wait_for(3)[-1].json()["text"]


def test_an_unknown_provider_is_refused_before_anything_is_written(remote: Path):
    from fixtures.repos import refs
    from pulseox_git.errors import BadInputError

    post("a.md")
    before = refs(remote)
    with pytest.raises(BadInputError, match="unknown notify provider 'nosuchprovider'"):
        board(T0, {"nosuchprovider": {}}).write_summary()
    commit_files(
        remote,
        {
            "pulseox.toml": (
                '[notify.carrier_pigeon]\nloft = "north"\n\n'
                '[[spec]]\nowner = "owner"\nrepo = "repo"\npath = "a.md"\nschedule = "1h"\n'
            )
        },
    )
    before = refs(remote)
    with pytest.raises(BadInputError, match="unknown notify provider 'carrier_pigeon'"):
        PulseOxDashboard(owner="owner", repo="repo", clock=lambda: T0).write_summary()
    assert refs(remote) == before


def test_cli_checks_notify_settings_before_writing(
    remote: Path, cli, monkeypatch: pytest.MonkeyPatch
):
    from fixtures.repos import refs

    monkeypatch.delenv("UNSET_VAR", raising=False)
    post("a.md", at=datetime.now(UTC))
    repo = ("--owner", "owner", "--repo", "repo")
    code, _out, err = cli("spec", "add", *repo, "--path", "a.md", "--schedule", "1d")
    assert code == 0, err
    before = refs(remote)
    code, out, err = cli("dashboard", "refresh", *repo, "--notify", '{"nosuchprovider":{}}')
    assert (code, out) == (2, "") and "unknown notify provider 'nosuchprovider'" in err
    assert refs(remote) == before
    unset = '{"slack":{"webhook_url_env":"UNSET_VAR"}}'
    code, out, err = cli("dashboard", "refresh", *repo, "--notify", unset, "--strict-notify")
    assert (code, out) == (2, "") and "environment variable UNSET_VAR is not set" in err
    assert refs(remote) == before
    code, out, err = cli("dashboard", "refresh", *repo, "--notify", unset)
    assert code == 0 and "# Changes" in out
    assert (
        err.count(
            "warning: notify.slack.webhook_url_env: environment variable UNSET_VAR is not set"
        )
        == 1
    )
    assert refs(remote) != before


def test_email_has_a_pulseox_subject_and_sender_by_default_and_both_are_settable(remote: Path):
    from fixtures.smtp import SmtpSink

    post("a.md")
    post("b.md", "BAD", "disk full")
    with SmtpSink() as smtp:
        config = {"email": {"to": "ops@example.com", "host": "127.0.0.1", "port": smtp.port}}
        assert board(T0, config).write_summary().notify_failures == []
        [mail] = smtp.wait_for(1)
        assert mail["Subject"] == "pulseox-git owner/repo: 2 status change(s)"
        assert mail["From"].startswith("pulseox-git@")
        body = mail.get_payload()[0].get_payload(decode=True).decode()  # multipart/mixed
        assert "- owner/repo:b.md None --> ERROR disk full" in body
        post("b.md", at=T0 + timedelta(minutes=5))
        config["email"] |= {"subject": "[ops] jobs", "from": "ci@example.com"}
        board(T0 + timedelta(minutes=5), config).write_summary()
        [_, mail] = smtp.wait_for(2)
        assert (mail["Subject"], mail["From"]) == ("[ops] jobs", "ci@example.com")
