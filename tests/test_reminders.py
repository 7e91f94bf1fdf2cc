"""Reminders: while a spec stays ERROR or MISSING, notify again at its
cadence, and not before; to a real HTTP endpoint, with an injected clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fixtures.repos import commit_files, show
from fixtures.webhook import WebhookSink
from pulseox_git.client import PulseOxClient
from pulseox_git.dashboard import PulseOxDashboard
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


def refresh(at: datetime, sink: WebhookSink, specs=None) -> list[str]:
    """Write the summary at `at`; the lines of each message sent by that refresh."""
    before = len(sink.requests)
    PulseOxDashboard(
        owner="owner",
        repo="repo",
        spec_list=specs,
        clock=lambda: at,
        notify={"slack": {"webhook_url": sink.url()}},
    ).write_summary()
    return [r.json()["text"] for r in sink.requests[before:]]


def test_a_reminder_comes_at_the_cadence_and_not_before(remote: Path, sink: WebhookSink):
    post("a.md", "BAD", T0, "disk full")
    post("b.md", "GOOD", T0)
    specs = [
        PulseOxSpec("owner", "repo", "a.md", "1d", remind_every="4h"),
        PulseOxSpec("owner", "repo", "b.md", "1d", remind_every="4h"),
    ]
    assert refresh(T0, sink, specs) == [
        "pulseox-git owner/repo: 2 status change(s)\n"
        "- owner/repo:a.md None --> ERROR disk full\n"
        "- owner/repo:b.md None --> OK"
    ]
    assert refresh(T0 + 4 * HOUR - timedelta(seconds=1), sink) == []
    assert refresh(T0 + 4 * HOUR, sink) == [
        "pulseox-git owner/repo: 1 reminder(s)\n"
        "- owner/repo:a.md reminder: still ERROR after 4h disk full"
    ]
    assert refresh(T0 + 7 * HOUR, sink) == []  # counted from the reminder, not the start
    assert refresh(T0 + 8 * HOUR, sink) == [
        "pulseox-git owner/repo: 1 reminder(s)\n"
        "- owner/repo:a.md reminder: still ERROR after 8h disk full"
    ]
    state = json.loads(show(remote, "pulseox-state.json"))["statuses"]["owner/repo:a.md"]
    assert (state["since"], state["notified"]) == (
        "2026-05-01T12:00:00+00:00",
        "2026-05-01T20:00:00+00:00",
    )
    post("a.md", "GOOD", T0 + 9 * HOUR)  # fixed: a change, and no more reminders
    assert refresh(T0 + 9 * HOUR, sink) == [
        "pulseox-git owner/repo: 1 status change(s)\n- owner/repo:a.md ERROR --> OK"
    ]
    assert refresh(T0 + 20 * HOUR, sink) == []


def test_the_dashboards_cadence_applies_to_specs_without_their_own(remote: Path, sink: WebhookSink):
    spec = '[[spec]]\nowner = "owner"\nrepo = "repo"\npath = "{}"\nschedule = "1d"\n'
    commit_files(
        remote,
        {
            "pulseox.toml": '[dashboard]\nremind_every = "2h"\n\n'
            + spec.format("gone.md")
            + spec.format("own.md")
            + 'remind_every = "1h"\n'
        },
    )
    assert len(refresh(T0, sink)) == 1  # both None --> MISSING
    assert refresh(T0 + HOUR, sink) == [
        "pulseox-git owner/repo: 1 reminder(s)\n"
        "- owner/repo:own.md reminder: still MISSING after 1h not in the repository"
    ]
    [text] = refresh(T0 + 2 * HOUR, sink)
    assert text.splitlines()[1:] == [
        "- owner/repo:gone.md reminder: still MISSING after 2h not in the repository",
        "- owner/repo:own.md reminder: still MISSING after 2h not in the repository",
    ]


def test_a_change_then_a_reminder_in_one_message(remote: Path, sink: WebhookSink):
    post("a.md", "BAD", T0, "disk full")
    specs = [PulseOxSpec("owner", "repo", p, "1d", remind_every="1h") for p in ("a.md", "b.md")]
    refresh(T0, sink, specs)  # b.md is not there: MISSING
    post("b.md", "GOOD", T0 + HOUR)
    assert refresh(T0 + HOUR, sink) == [
        "pulseox-git owner/repo: 1 status change(s), 1 reminder(s)\n"
        "- owner/repo:b.md MISSING --> OK\n"
        "- owner/repo:a.md reminder: still ERROR after 1h disk full"
    ]


def test_remind_every_round_trips_and_must_be_positive():
    specs = [PulseOxSpec("owner", "repo", "a.md", "1d", remind_every="4h")]
    settings = Settings(remind_every="1d")  # type: ignore[arg-type]
    text = dumps(specs, settings)
    assert 'remind_every = "1d"' in text and 'remind_every = "4h"' in text
    assert loads(text) == (specs, settings)
    for bad in ("0", "-1h", "soon"):
        with pytest.raises(BadInputError, match=f"bad remind_every {bad!r}"):
            PulseOxSpec("owner", "repo", "a.md", "1d", remind_every=bad)
        with pytest.raises(BadInputError, match=f"bad remind_every {bad!r}"):
            Settings(remind_every=bad)  # type: ignore[arg-type]
