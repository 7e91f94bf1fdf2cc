"""Routing: a provider with a `tags` filter hears only about specs with one of
its tags; one without hears everything. Two real HTTP endpoints on 127.0.0.1
(slack and victorops, both through `notifiers`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from fixtures.repos import commit_files
from fixtures.webhook import WebhookSink
from pulseox_git.client import PulseOxClient
from pulseox_git.dashboard import PulseOxDashboard
from pulseox_git.dashboard.notifyconf import check_notify
from pulseox_git.dashboard.specs import Settings, dumps, loads
from pulseox_git.errors import BadInputError
from pulseox_git.specs import PulseOxSpec

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def sinks():
    with WebhookSink() as one, WebhookSink() as two:
        yield one, two


def victorops(url: str, **extra) -> dict:
    return {
        "rest_url": url,
        "message_type": "critical",
        "entity_id": "pulseox",
        "entity_display_name": "pulseox-git",
        **extra,
    }


def test_each_provider_hears_what_its_tags_ask_for(remote: Path, sinks, monkeypatch):
    everything, database = sinks
    for path in ("db/dump.md", "web/deploy.md"):
        PulseOxClient(clock=lambda: T0).post("owner", "repo", path, "x", "BAD", "broken")
    monkeypatch.setenv("ALL_HOOK", everything.url("/all"))
    monkeypatch.setenv("DB_HOOK", database.url("/db"))
    commit_files(
        remote,
        {
            "pulseox.toml": '[notify.slack]\nwebhook_url_env = "ALL_HOOK"\n\n'
            '[notify.victorops]\nrest_url_env = "DB_HOOK"\nmessage_type = "critical"\n'
            'entity_id = "pulseox"\nentity_display_name = "pulseox-git"\n'
            'tags = ["db", "storage"]\n\n'
            '[[spec]]\nowner = "owner"\nrepo = "repo"\npath = "db/dump.md"\nschedule = "1d"\n'
            'tags = ["db"]\n\n'
            '[[spec]]\nowner = "owner"\nrepo = "repo"\npath = "web/deploy.md"\n'
            'schedule = "1d"\ntags = ["web"]\n'
        },
    )
    dashboard = PulseOxDashboard(owner="owner", repo="repo", clock=lambda: T0).write_summary()
    assert dashboard.notify_failures == []
    [to_all] = everything.wait_for(1)
    assert to_all.json()["text"].splitlines() == [
        "pulseox-git owner/repo: 2 status change(s)",
        "- owner/repo:db/dump.md None --> ERROR broken",
        "- owner/repo:web/deploy.md None --> ERROR broken",
    ]
    [to_db] = database.wait_for(1)
    assert to_db.path == "/db" and "tags" not in to_db.json()  # the filter is ours
    assert to_db.json()["message"].splitlines() == [
        "pulseox-git owner/repo: 1 status change(s)",
        "- owner/repo:db/dump.md None --> ERROR broken",
    ]


def test_a_filter_that_matches_nothing_sends_nothing(remote: Path, sinks):
    everything, database = sinks
    PulseOxClient(clock=lambda: T0).post("owner", "repo", "web.md", "x", "BAD", "broken")
    PulseOxDashboard(
        owner="owner",
        repo="repo",
        spec_list=[PulseOxSpec("owner", "repo", "web.md", "1d", tags=["web"])],
        clock=lambda: T0,
        notify={
            "slack": {"webhook_url": everything.url()},
            "victorops": victorops(database.url(), tags=["db"]),
        },
    ).write_summary()
    assert len(everything.wait_for(1)) == 1
    assert database.requests == []


def test_tags_round_trip_and_are_checked(cli, remote: Path):
    specs = [PulseOxSpec("owner", "repo", "a.md", "1d", tags=["db", "team-data"])]
    text = dumps(specs, Settings())
    assert loads(text) == (specs, Settings())
    code, out, err = cli(
        "spec", "add", "--owner", "owner", "--repo", "repo", "--path", "a.md",
        "--schedule", "1d", "--tag", "db", "--tag", "nightly",
    )  # fmt: skip
    assert code == 0 and out.startswith(
        "pulseox: watch owner/repo:a.md every 1d tag db tag nightly"
    ), err
    for bad in (["a b"], ["-x"], [""], "db", [5]):
        with pytest.raises(BadInputError, match=r"bad tags? "):
            PulseOxSpec("owner", "repo", "a.md", "1d", tags=bad)
        with pytest.raises(BadInputError, match=r"notify\.slack\.tags"):
            check_notify({"slack": {"tags": bad}}, stored=True)
