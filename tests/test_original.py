"""The original pulseox 0.1.5's spellings, each with the meaning it had there:
`check rdashboard --no-refresh/--no-write/--extra-text/--dpath`, and
`compute_summary()`, `format_response_error()` and `write_summary(path_to_summary=...,
path_to_summary_json=..., allow_notify_change=...)` on the dashboard."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fixtures.repos import refs, show
from fixtures.webhook import WebhookSink
from pulseox_git.client import PulseOxClient
from pulseox_git.dashboard import PulseOxDashboard
from pulseox_git.specs import PulseOxSpec, format_response_error

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
REPO = ("--owner", "owner", "--repo", "repo")


@pytest.fixture
def watched(remote: Path, cli) -> Path:
    PulseOxClient(clock=lambda: T0).post("owner", "repo", "jobs/a.md", "ran", note="fine")
    assert cli("spec", "add", *REPO, "--path", "jobs/a.md", "--schedule", "1h")[0] == 0
    return remote


def test_no_refresh_with_write_is_refused_and_writes_nothing(watched: Path, cli):
    before = refs(watched)
    code, out, err = cli("check", "rdashboard", *REPO, "--no-refresh")
    assert code == 2 and out == ""
    assert err.startswith("error: refusing to --write with --no-refresh")
    assert refs(watched) == before


def test_no_refresh_no_write_prints_the_last_written_summary(watched: Path, cli):
    assert cli("check", "rdashboard", *REPO)[0] == 0
    before = refs(watched)
    code, out, _err = cli("check", "rdashboard", *REPO, "--no-refresh", "--no-write")
    assert code == 0 and out == show(watched, "summary.md")
    assert refs(watched) == before


def test_extra_text_goes_before_the_footer_for_this_run_only(watched: Path, cli):
    code, out, _err = cli("check", "rdashboard", *REPO, "--extra-text", "Runbook: wiki/ops")
    assert code == 0
    assert "\n\nRunbook: wiki/ops\n\n# Metadata\n" in out
    assert show(watched, "summary.md") == out
    _code, again, _err = cli("check", "rdashboard", *REPO)
    assert "Runbook" not in again


def test_dpath_writes_the_summary_there_and_keeps_it(watched: Path, cli):
    code, out, _err = cli("check", "rdashboard", *REPO, "--dpath", "status/dash.org")
    assert code == 0 and out.startswith("* Changes\n")
    assert "[[../jobs/a.md][jobs/a.md]]" in out  # relative to the summary's folder
    assert show(watched, "status/dash.org") == out
    assert 'summary = "status/dash.org"' in show(watched, "pulseox.toml")
    assert cli("dashboard", "refresh", *REPO)[0] == 0  # later refreshes keep writing there
    _code, shown, _err = cli("dashboard", "show", *REPO)
    assert shown == show(watched, "status/dash.org") and shown.startswith("* ")


@pytest.mark.parametrize("path", ["index.html", "pulseox.toml", "notes.txt", "../up.md"])
def test_a_bad_dpath_is_refused(watched: Path, cli, path: str):
    before = refs(watched)
    code, out, err = cli("check", "rdashboard", *REPO, "--dpath", path)
    assert code == 2 and out == "" and repr(path) in err and "Traceback" not in err
    assert refs(watched) == before


def board(**kwargs) -> PulseOxDashboard:
    return PulseOxDashboard(owner="owner", repo="repo", clock=lambda: T0, **kwargs)


def test_compute_summary_is_a_refresh_with_the_original_options(watched: Path):
    before = refs(watched)
    dashboard = board().get_remote_data()
    assert dashboard.compute_summary() is dashboard
    assert dashboard.summary is not None and "# OK" in dashboard.summary.text
    text = dashboard.compute_summary("org", "See also: X", "Asia/Tokyo").summary.text
    assert text.startswith("* Changes") and "+09:00 Asia/Tokyo" in text
    assert "\n\nSee also: X\n\n* Metadata" in text
    assert refs(watched) == before  # computing writes nothing


@dataclass
class Response:  # what the original's GitHub calls returned: a status and a reason
    status_code: int
    reason: str = ""


def test_format_response_error_is_none_for_what_landed(watched: Path):
    dashboard = board().write_summary()
    assert dashboard.format_response_error() is None
    assert dashboard.format_response_error(Response(201)) is None
    post = PulseOxClient().post("owner", "repo", "jobs/b.md", "x")
    assert format_response_error(post) is None
    assert format_response_error(Response(404, "Not Found")) == (
        "Bad response:\n  - code: 404\n  - reason: Not Found"
    )


def test_write_summary_takes_the_original_arguments(watched: Path):
    with WebhookSink() as sink:
        notify = {"slack": {"webhook_url": sink.url("/hook")}}
        board(notify=notify).write_summary(
            path_to_summary="dash.md", path_to_summary_json="dash.json", allow_notify_change=False
        )
        assert sink.requests == []  # a status changed, but notifying was not allowed
    assert show(watched, "dash.md").startswith("# Changes\n")
    report = json.loads(show(watched, "dash.json"))
    assert [s["path"] for s in report["specs"]] == ["jobs/a.md"]
    assert report["specs"][0]["status"] == "OK" and report["commit"] is None


def test_the_specs_module_keeps_the_original_import_path():
    spec = PulseOxSpec(owner="o", repo="r", path="a.md", schedule="1h")
    assert spec.key == "o/r:a.md"
