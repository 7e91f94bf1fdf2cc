"""The fast path of a post: on a current cache it runs no fetch (fast-import, then a push
leased on the cached tip); a stale cache, a rewound remote, or an unreachable git
endpoint behind `transport=auto` still end where the fetch-first path did."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.repos import commit_files, git, log, make_bare, show
from pulseox_git.client import PulseOxClient
from pulseox_git.store.git.command import Git


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The git commands GitStore runs through its `git` primitive (`Git`)."""
    seen: list[str] = []
    original = Git.__call__

    def spy(self, *args, **kwargs):
        seen.append(args[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Git, "__call__", spy)
    return seen


def test_a_post_on_a_current_cache_runs_no_fetch(remote: Path, calls: list[str]):
    client = PulseOxClient()
    client.post("owner", "repo", "jobs/a.md", "first")  # a new cache: init and fetch
    assert "fetch" in calls
    calls.clear()
    result = client.post("owner", "repo", "jobs/a.md", "second")
    assert calls == ["push"]  # fast-import runs on its own (pulseox_git.store.git.fastimport)
    assert result.attempts == 1 and result.changed == ("jobs/a.md",)
    assert "second" in show(remote, "jobs/a.md")


def test_a_stale_cache_fetches_and_lands_on_top(remote: Path, calls: list[str]):
    client = PulseOxClient()
    client.post("owner", "repo", "a.md", "ours 1")
    commit_files(remote, {"theirs.md": "theirs"}, message="their commit")
    calls.clear()
    result = client.post("owner", "repo", "a.md", "ours 2")
    assert result.attempts == 2 and calls.count("fetch") == 1
    assert log(remote) == ["pulseox: a.md GOOD", "their commit", "pulseox: a.md GOOD"]
    assert show(remote, "theirs.md") == "theirs"


def test_a_rewound_remote_gets_back_nothing_it_dropped(remote: Path):
    client = PulseOxClient()
    client.post("owner", "repo", "a.md", "kept")
    kept = git("rev-parse", "main", cwd=remote).strip()
    client.post("owner", "repo", "leak.md", "a secret, later removed by force")
    git("update-ref", "refs/heads/main", kept, cwd=remote)  # the owner rewinds the branch
    result = client.post("owner", "repo", "b.md", "after the rewind")
    assert result.attempts == 2  # the lease on the old tip failed; fetched, rebuilt
    assert git("rev-parse", "main^", cwd=remote).strip() == kept
    tree = git("ls-tree", "--name-only", "main", cwd=remote).split()
    assert "leak.md" not in tree and {"a.md", "b.md"} <= set(tree)


def test_auto_falls_back_to_the_api_when_git_is_gone_behind_a_warm_cache(api, tmp_path, caplog):
    owner, api_bare = api.new_repo()
    git_root = tmp_path / "git"
    make_bare(git_root / owner / "status.git")
    template = f"file://{git_root}/{{owner}}/{{repo}}.git"
    PulseOxClient(api_url=api.url, remote=template).post(owner, "status", "a.md", "by git")
    assert api.requests == []
    git_root.rename(tmp_path / "gone")  # the git endpoint goes away; the cache stays
    with caplog.at_level("WARNING", logger="pulseox_git"):
        PulseOxClient(api_url=api.url, remote=template).post(owner, "status", "b.md", "by api")
    assert f"falling back to the GitHub API at {api.url}" in caplog.text
    assert log(api_bare)[0] == "pulseox: b.md GOOD"
