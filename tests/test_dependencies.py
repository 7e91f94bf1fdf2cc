"""Dependencies: a failing spec whose parent fails too is listed under it as
blocked, and one notification names the parent and its blocked children.
Real bare repositories, a real HTTP endpoint, an injected clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fixtures.repos import refs, show
from fixtures.webhook import WebhookSink
from pulseox_git.client import PulseOxClient
from pulseox_git.dashboard import PulseOxDashboard
from pulseox_git.dashboard.specs import Settings, dumps, loads
from pulseox_git.errors import BadInputError
from pulseox_git.specs import PulseOxSpec
from tests.test_dashboard import sections

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def sink():
    with WebhookSink() as server:
        yield server


def post(path: str, report: str, note: str = "", repo: str = "repo") -> None:
    PulseOxClient(clock=lambda: T0).post("owner", repo, path, "output", report, note)


def spec(path: str, *depends: str, repo: str = "repo") -> PulseOxSpec:
    return PulseOxSpec("owner", repo, path, "1d", depends_on=depends)


def refresh(specs, sink: WebhookSink, at: datetime = T0) -> PulseOxDashboard:
    return PulseOxDashboard(
        owner="owner",
        repo="repo",
        spec_list=specs,
        clock=lambda: at,
        notify={"slack": {"webhook_url": sink.url()}},
    ).write_summary()


def test_children_that_fail_with_their_parent_are_listed_under_it(remote: Path, sink):
    post("db.md", "BAD", "disk full")
    post("etl.md", "BAD", "no connection")
    post("web.md", "GOOD")
    specs = [
        spec("db.md"),
        spec("etl.md", "db.md"),
        spec("report.md", "owner/repo:etl.md"),  # MISSING, blocked through etl.md
        spec("web.md", "db.md"),  # OK: not blocked
    ]
    dashboard = refresh(specs, sink)
    text = show(remote, "summary.md")
    assert sections(text)["# ERROR"] == [
        "- [db.md](db.md) disk full 2026-05-01 12:00:00 UTC",
        "  - [etl.md](etl.md) blocked by db.md: no connection 2026-05-01 12:00:00 UTC",
        "    - [report.md](report.md) blocked by etl.md: not in the repository never",
    ]
    assert "# MISSING" not in text and "- note: 2 ERROR, 1 MISSING, 1 OK" in text
    assert [e["blocked_by"] for e in dashboard.report()["specs"]] == [
        None,
        "owner/repo:db.md",
        "owner/repo:etl.md",
        None,
    ]
    [request] = sink.wait_for(1)
    assert request.json()["text"].splitlines() == [
        "pulseox-git owner/repo: 4 status change(s)",
        "- owner/repo:db.md None --> ERROR disk full; blocks owner/repo:etl.md, "
        "owner/repo:report.md",
        "- owner/repo:web.md None --> OK",
    ]


def test_a_child_failing_alone_is_not_blocked(remote: Path, sink):
    post("db.md", "GOOD")
    post("etl.md", "BAD", "bug")
    dashboard = refresh([spec("db.md"), spec("etl.md", "db.md")], sink)
    assert [(e.status, e.note, e.blocked_by) for e in dashboard.summary.entries] == [
        ("OK", "", None),
        ("ERROR", "bug", None),
    ]


def test_a_child_failing_after_its_parent_is_told_with_its_parent_named(remote: Path, sink):
    post("db.md", "BAD", "disk full")
    post("etl.md", "GOOD")
    specs = [spec("db.md"), spec("etl.md", "db.md")]
    refresh(specs, sink)
    post("etl.md", "BAD", "no connection")
    refresh(specs, sink, T0 + timedelta(minutes=5))
    assert sink.wait_for(2)[1].json()["text"].splitlines()[1:] == [
        "- owner/repo:etl.md OK --> ERROR blocked by db.md: no connection"
    ]


def test_a_parent_in_another_repository(remote: Path, sink, tmp_path):
    from fixtures.repos import make_bare

    make_bare(remote.parent / "db.git")
    post("dump.md", "BAD", "gone", repo="db")
    post("etl.md", "BAD", "no input")
    specs = [spec("dump.md", repo="db"), spec("etl.md", "owner/db:dump.md")]
    dashboard = refresh(specs, sink)
    assert dashboard.summary.entries[1].note == "blocked by owner/db:dump.md: no input"


def test_depends_on_round_trips_and_spec_add_takes_it(remote: Path, cli):
    specs = [spec("db.md"), spec("etl.md", "db.md", "owner/other:x.md"), spec("x.md", repo="other")]
    text = dumps(specs, Settings())
    assert 'depends_on = [\n    "db.md",\n    "owner/other:x.md",\n]' in text
    assert loads(text) == (specs, Settings())
    base = ["spec", "add", "--owner", "owner", "--repo", "repo", "--schedule", "1d"]
    assert cli(*base, "--path", "db.md")[0] == 0
    code, out, err = cli(*base, "--path", "etl.md", "--depends-on", "db.md")
    assert code == 0 and "depends-on db.md" in out, err
    before = refs(remote)
    code, _, err = cli(*base, "--path", "x.md", "--depends-on", "nope.md")
    assert code == 2 and "bad depends_on 'owner/repo:nope.md'" in err
    code, _, err = cli("spec", "remove", "--owner", "owner", "--repo", "repo", "--path", "db.md")
    assert code == 2 and err == (
        "error: cannot stop watching 'owner/repo:db.md': 'owner/repo:etl.md' depends on it; "
        "drop it from that spec's depends_on first\n"
    )
    assert refs(remote) == before


def test_unknown_dependencies_and_cycles_are_refused():
    with pytest.raises(
        BadInputError, match=re.escape("bad depends_on 'owner/repo:b.md' of 'owner/repo:a.md'")
    ):
        dumps([spec("a.md", "b.md")], Settings())
    with pytest.raises(
        BadInputError,
        match=re.escape(
            ": owner/repo:a.md -> owner/repo:b.md -> owner/repo:c.md -> owner/repo:a.md"
        ),
    ):
        dumps([spec("a.md", "b.md"), spec("b.md", "c.md"), spec("c.md", "a.md")], Settings())
    with pytest.raises(BadInputError, match="dependency cycle"):
        dumps([spec("a.md", "a.md")], Settings())
    for bad in ("", "../x.md", "a b/c:x.md", 5):
        with pytest.raises(BadInputError, match="bad depends_on"):
            spec("a.md", bad)
    with pytest.raises(BadInputError, match=re.escape("bad depends_on 'db.md'")):
        PulseOxSpec("owner", "repo", "a.md", "1d", depends_on="db.md")  # type: ignore[arg-type]


def test_a_diamond_is_not_a_cycle():
    specs = [spec("a.md", "b.md", "c.md"), spec("b.md", "d.md"), spec("c.md", "d.md"), spec("d.md")]
    assert loads(dumps(specs, Settings()))[0] == specs
