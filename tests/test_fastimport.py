"""The one-process commit (fast-import answering `ls` before it writes) makes exactly
the commit the two-process path makes, and refuses exactly what `confine` refuses."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from fixtures.repos import commit_files, git
from pulseox_git.errors import BadInputError
from pulseox_git.store.base import Change, confine, path_prefixes
from pulseox_git.store.git import GitStore, fastimport

WHEN = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(bare: Path, cache_dir: Path) -> GitStore:
    commit_files(bare, {"jobs/a.md": "a", "docs/readme.md": "r"}, symlinks={"linked": "jobs"})
    store = GitStore(f"file://{bare}", cache_dir=cache_dir)
    with store.locked():
        store.prepare()
        store.fetch()
    return store


def one_process(store: GitStore, tip: str, change: Change):
    paths = list(change.files)
    head, body = fastimport.commit_input(tip, change)
    with store.locked():
        return fastimport.ls_then_commit(
            store.git, head, body, path_prefixes(paths), lambda found: confine(found, paths)
        )


@pytest.mark.parametrize(
    "paths",
    [["jobs/a.md"], ["jobs/new.md", "jobs/deep/er/b.md"], ['é/ünïcode "q" \\.md', "top.md"]],
)
def test_same_commit_and_existing_pages_as_two_processes(store: GitStore, paths: list[str]):
    tip = store.tip()
    change = Change({p: f"page {p}\n".encode() for p in paths}, "subject\n", WHEN)
    assert fastimport.fits(path_prefixes(paths))
    done = one_process(store, tip, change)
    assert done is not None
    with store.locked():
        expected = store.commit(tip, change), store.confine(tip, paths)
    assert done == expected
    assert done[1] == ({"jobs/a.md"} & set(paths))
    listing = git("ls-tree", "-r", "--name-only", "-z", done[0], cwd=store.path).split("\0")
    assert set(paths) <= set(listing)


@pytest.mark.parametrize("path", ["jobs/a.md/x.md", "linked/b.md", "linked", "docs"])
def test_refuses_what_confine_refuses_and_writes_nothing(store: GitStore, path: str):
    tip = store.tip()
    pending = git("for-each-ref", "refs/pulseox", cwd=store.path)
    with pytest.raises(BadInputError) as one:
        one_process(store, tip, Change({path: b"x"}, "subject\n", WHEN))
    with store.locked(), pytest.raises(BadInputError) as two:
        store.confine(tip, [path])
    assert str(one.value) == str(two.value)
    assert git("for-each-ref", "refs/pulseox", cwd=store.path) == pending
    assert store.tip() == tip


def test_large_changes_take_the_two_process_path(store: GitStore):
    paths = [f"jobs/many/page-{i:04d}-{'x' * 40}.md" for i in range(200)]
    assert not fastimport.fits(path_prefixes(paths))
    with store.locked():
        sha, existing = store.confine_and_commit(
            store.tip(), Change({p: b"x" for p in paths}, "subject\n", WHEN)
        )
    assert existing == set()
    assert len(git("ls-tree", "--name-only", f"{sha}:jobs/many", cwd=store.path).split()) == 200
