"""A commit can delete files, over git (file://, smart HTTP) and the API; a refresh
removes the badge of a spec no longer watched and the summary of the mode no
longer used, in the same commit. Checked with plain git."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fixtures.repos import commit_files, git
from pulseox_git.client import PulseOxClient
from pulseox_git.dashboard import PulseOxDashboard
from pulseox_git.errors import BadInputError
from pulseox_git.specs import PulseOxSpec
from pulseox_git.store.api import ApiStore
from pulseox_git.store.base import Change, Store
from pulseox_git.store.git import GitStore

FIXED = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
SEED = {"keep.md": "k", "gone.md": "g", "dir/only.md": "o", "dir2/a.md": "a", "dir2/b.md": "b"}


def tree(bare: Path) -> list[str]:
    return git("ls-tree", "-r", "--name-only", "main", cwd=bare).split()


def check_deletes(store: Store, bare: Path) -> None:
    commit_files(bare, SEED, date="2026-05-01T11:00:00Z")
    before = git("rev-parse", "main", cwd=bare).strip()
    change = Change(
        {"new.md": b"n", "dir2/a.md": b"a2"},
        "delete some\n",
        FIXED,
        deleted=("gone.md", "dir/only.md", "never-was.md", "dir2/a.md"),
    )
    done = store.publish(lambda _store, _tip: change)
    # a path also written is written; a missing one is no deletion; an emptied folder goes
    assert done.deleted == ("gone.md", "dir/only.md") and done.created == ("new.md",)
    assert tree(bare) == ["dir2/a.md", "dir2/b.md", "keep.md", "new.md"]
    assert git("rev-parse", "main~1", cwd=bare).strip() == before  # one commit
    assert git("show", "main:dir2/a.md", cwd=bare) == "a2"
    with pytest.raises(BadInputError, match="dir2"):  # never a whole folder
        store.publish(lambda _store, _tip: Change({}, "x\n", FIXED, deleted=("dir2",)))
    assert tree(bare) == ["dir2/a.md", "dir2/b.md", "keep.md", "new.md"]


def test_git_deletes_files(remote: Path, cache_dir: Path):
    check_deletes(GitStore(f"file://{remote}", cache_dir=cache_dir), remote)


def test_git_over_smart_http_deletes_files(http, http_repo, cache_dir: Path):
    owner, repo, bare = http_repo
    check_deletes(GitStore(http.url(owner, repo), cache_dir=cache_dir), bare)


def test_api_deletes_files_and_a_dry_run_names_the_same_commit(api, tmp_path: Path):
    owner, bare = api.new_repo()
    store = ApiStore(owner, "status", api_url=api.url)
    check_deletes(store, bare)
    change = Change({}, "only deletions\n", FIXED, deleted=("dir2/a.md", "dir2/b.md"))
    planned = store.publish(lambda _store, _tip: change, dry_run=True)
    assert planned.dry_run and planned.deleted == ("dir2/a.md", "dir2/b.md")
    # the same change over git, on the same commits: the dry run computed git's id
    mirror = tmp_path / "mirror.git"
    git("clone", "--quiet", "--bare", str(bare), str(mirror))
    by_git = GitStore(f"file://{mirror}", cache_dir=tmp_path / "c").publish(
        lambda _store, _tip: change
    )
    assert planned.sha == by_git.sha and tree(mirror) == ["keep.md", "new.md"]
    done = store.publish(lambda _store, _tip: change)
    assert done.sha == planned.sha and tree(bare) == ["keep.md", "new.md"]


def dashboard(owner: str, at: datetime, **kw) -> PulseOxDashboard:
    return PulseOxDashboard(owner=owner, repo="status", clock=lambda: at, **kw)


@pytest.mark.parametrize("transport", ["git", "api"])
def test_a_refresh_removes_a_dropped_specs_badge_and_the_old_modes_summary(api, transport):
    owner, bare = api.new_repo()
    poster = PulseOxClient(clock=lambda: FIXED)
    for page in ("a.md", "b.md"):
        poster.post(owner, "status", page, "ran")
    specs = [PulseOxSpec(owner, "status", p, "1d") for p in ("a.md", "b.md")]
    client = PulseOxClient(transport=transport, api_url=api.url, clock=lambda: FIXED)
    later = FIXED + timedelta(minutes=5)
    dashboard(owner, later, spec_list=specs, client=client).write_summary()
    assert {"badges/a.md.svg", "badges/b.md.svg", "summary.md"} <= set(tree(bare))

    before = git("rev-parse", "main", cwd=bare).strip()
    board = dashboard(owner, later, spec_list=specs[:1], mode="org", client=client)
    done = board.write_summary().published
    assert done is not None and done.deleted == ("badges/b.md.svg", "summary.md")
    files = set(tree(bare))
    assert "badges/b.md.svg" not in files and "summary.md" not in files
    assert {"badges/a.md.svg", "summary.org", "b.md", "pulseox.toml"} <= files  # pages stay
    assert git("rev-parse", "main~1", cwd=bare).strip() == before  # in the same commit


def test_a_state_file_from_before_the_outputs_list_still_drops_badges(remote: Path):
    """Older state files name no outputs: the badges of the specs they name are ours."""
    poster = PulseOxClient(clock=lambda: FIXED)
    for page in ("a.md", "b.md"):
        poster.post("owner", "repo", page, "ran")
    specs = [PulseOxSpec("owner", "repo", p, "1d") for p in ("a.md", "b.md")]
    PulseOxDashboard(
        owner="owner", repo="repo", spec_list=specs, clock=lambda: FIXED
    ).write_summary()
    state = git("show", "main:pulseox-state.json", cwd=remote)
    old = state.replace('"outputs"', '"not_outputs"')
    commit_files(remote, {"pulseox-state.json": old, "badges/mine.svg": "by hand"})
    board = PulseOxDashboard(owner="owner", repo="repo", spec_list=specs[:1], clock=lambda: FIXED)
    assert board.write_summary().published.deleted == ("badges/b.md.svg",)
    assert "badges/mine.svg" in tree(remote)  # a file the dashboard never wrote stays
