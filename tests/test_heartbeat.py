"""Commit only when something changed; a small heartbeat commit when nothing has for
`heartbeat`. An injected clock moves time; plain git counts the commits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fixtures.repos import commit_files, git
from pulseox_git.client import PulseOxClient
from pulseox_git.dashboard import PulseOxDashboard
from pulseox_git.dashboard.edit import add_spec
from pulseox_git.errors import BadInputError
from pulseox_git.specs import PulseOxSpec

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
QUARTER = timedelta(minutes=15)


def count(bare: Path) -> int:
    return int(git("rev-list", "--count", "main", cwd=bare))


def touched(bare: Path) -> list[str]:
    return sorted(git("show", "--name-only", "--format=", "main", cwd=bare).split())


def refresh(at: datetime, owner: str = "owner", repo: str = "repo", **kw) -> PulseOxDashboard:
    return PulseOxDashboard(owner=owner, repo=repo, clock=lambda: at, **kw).write_summary()


def watch(path: str, schedule: str = "1d", owner: str = "owner", repo: str = "repo") -> None:
    add_spec(PulseOxClient(clock=lambda: T0), owner, repo, PulseOxSpec(owner, repo, path, schedule))


@pytest.fixture
def watched(remote: Path) -> Path:
    PulseOxClient(clock=lambda: T0).post("owner", "repo", "a.md", "ran")
    watch("a.md")
    refresh(T0)
    return remote


def test_refreshes_with_nothing_new_make_no_commit_until_the_heartbeat(watched: Path):
    before = count(watched)
    for i in range(1, 11):  # ten refreshes, 15 minutes apart: nothing new, no heartbeat due
        done = refresh(T0 + i * QUARTER).published
        assert done is not None and done.sha is None and not done.dry_run
    assert count(watched) == before

    beat = refresh(T0 + timedelta(hours=6)).published  # the default heartbeat: 6h
    assert beat.sha and count(watched) == before + 1
    assert touched(watched) == ["pulseox-state.json", "summary.md"]  # not the page, not badges
    assert "heartbeat" in git("log", "-1", "--format=%s", cwd=watched)
    summary = git("show", "main:summary.md", cwd=watched)
    assert "updated: 2026-05-01T18:00:00+00:00" in summary  # the liveness signal
    assert refresh(T0 + timedelta(hours=6, minutes=15)).published.sha is None  # counts anew


def test_what_always_commits(watched: Path):
    """A new post, a status change, a spec edit and a setting change commit at once."""
    at = T0 + QUARTER
    PulseOxClient(clock=lambda: at).post("owner", "repo", "a.md", "ran again")
    assert refresh(at).published.sha and "index.html" in touched(watched)
    # a.md is due daily: a day and a bit later it is late (MISSING), a status change
    assert refresh(T0 + timedelta(days=1, minutes=30)).published.sha
    assert "OK --> MISSING" in git("show", "main:summary.md", cwd=watched)
    at = T0 + timedelta(days=1, hours=1)
    watch("b.md")  # a spec edit (its own commit), then the refresh shows it
    assert refresh(at).published.sha and "badges/b.md.svg" in touched(watched)
    assert refresh(at, tz="Europe/Paris").published.sha  # a setting
    assert refresh(at + QUARTER).published.sha is None  # and then nothing again


def test_the_heartbeat_is_a_setting(watched: Path):
    toml = git("show", "main:pulseox.toml", cwd=watched)
    commit_files(
        watched, {"pulseox.toml": toml.replace("[dashboard]", '[dashboard]\nheartbeat = "1h"')}
    )
    refresh(T0 + QUARTER)  # the spec file changed: one full commit
    before = count(watched)
    assert refresh(T0 + 4 * QUARTER).published.sha is None
    assert refresh(T0 + 5 * QUARTER).published.sha and count(watched) == before + 1
    with pytest.raises(BadInputError, match="bad heartbeat '0s'"):
        commit_files(
            watched, {"pulseox.toml": toml.replace("[dashboard]", '[dashboard]\nheartbeat = "0s"')}
        )
        refresh(T0 + 6 * QUARTER)


def test_the_cli_says_when_nothing_was_committed(watched: Path, cli):
    args = ("dashboard", "refresh", "--owner", "owner", "--repo", "repo")
    assert "committed summary.md" in cli(*args)[2]  # the wall clock: a.md is late now
    code, _out, err = cli(*args)
    assert code == 0
    assert "nothing changed since the last commit and no heartbeat due (every 6h): no commit" in err


def test_no_commit_for_nothing_over_the_api(api):
    owner, bare = api.new_repo()
    client = PulseOxClient(transport="api", api_url=api.url, clock=lambda: T0)
    client.post(owner, "status", "a.md", "ran")
    specs = [PulseOxSpec(owner, "status", "a.md", "1d")]
    refresh(T0, owner, "status", spec_list=specs, client=client)
    before, writes = count(bare), len(api.requests)
    done = refresh(T0 + QUARTER, owner, "status", spec_list=specs, client=client).published
    assert done.sha is None and count(bare) == before
    assert not [r for r in api.requests[writes:] if r[0] != "GET"]  # nothing written
    beat = refresh(T0 + timedelta(hours=7), owner, "status", spec_list=specs, client=client)
    assert beat.published.sha and touched(bare) == ["pulseox-state.json", "summary.md"]
