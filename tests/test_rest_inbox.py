"""Queued posts through the REST API fallback (fixtures/github_api.py, which stores
into a real bare repository): a post that keeps losing creates an inbox ref of its
own; the next other writer folds it with a merge commit and a non-forced ref update,
then deletes the ref; a re-fold is harmless."""

from __future__ import annotations

from datetime import UTC, datetime

from fixtures.repos import commit_files, git, inbox_refs, log, show
from pulseox_git.client import PulseOxClient
from pulseox_git.store.api import ApiStore
from pulseox_git.store.base import Change

FIXED = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
PAGES = [{"path": "x.md", "content": "x"}, {"path": "y.md", "content": "y"}]


def client(api) -> PulseOxClient:
    return PulseOxClient(transport="api", api_url=api.url, clock=lambda: FIXED)


def write(api, owner: str, path: str) -> None:
    """A writer that is not a post (a dashboard, a spec edit): it folds the inbox."""
    store = ApiStore(owner, "status", api_url=api.url, sleep=lambda _s: None)
    store.publish(lambda _s, _tip: Change({path: b"theirs\n"}, f"write {path}\n", FIXED))


def queue_one(api) -> tuple[str, object, str]:
    owner, bare = api.new_repo()
    commit_files(bare, {"seed.md": "seed"}, date="2026-05-01T11:00:00Z")
    api.inject_commit({"o1.md": "theirs"}, before="update-ref")  # the first try loses
    api.inject_commit({"o2.md": "theirs"}, before="matching-refs")  # and the retry
    result = client(api).post_many(owner, "status", PAGES)
    return owner, bare, result


def test_a_post_that_keeps_losing_creates_an_inbox_ref(api):
    _owner, bare, result = queue_one(api)
    assert result.queued and result.attempts == 3 and result.status_code == 201
    (ref, sha), *more = inbox_refs(bare).items()
    assert not more and sha == result.sha and ref.startswith("refs/pulseox/inbox/20260501T")
    assert "x.md" not in git("ls-tree", "--name-only", "main", cwd=bare)
    assert "create-ref" in api.kinds()


def test_the_next_writer_folds_with_a_merge_then_deletes_the_ref(api):
    owner, bare, result = queue_one(api)
    write(api, owner, "summary.md")
    assert inbox_refs(bare) == {}
    assert log(bare)[:2] == ["write summary.md", "pulseox: fold 1 queued post"]
    parents = git("log", "-1", "--format=%P", "main^", cwd=bare).split()
    assert parents[1:] == [result.sha]
    assert show(bare, "x.md").startswith("x") and show(bare, "summary.md") == "theirs\n"
    kinds = api.kinds()
    assert kinds.count("delete-ref") == 1 and kinds.index("update-ref") < kinds.index("delete-ref")
    assert git("fsck", "--strict", "--no-dangling", cwd=bare) == ""

    # a writer stopped before its deletions: the ref's commit is on the branch already
    git("update-ref", "refs/pulseox/inbox/20260501T120000Z-refold00", result.sha, cwd=bare)
    before = git("rev-list", "--count", "main", cwd=bare)
    write(api, owner, "summary2.md")
    assert inbox_refs(bare) == {}  # only deleted: no second fold commit
    assert int(git("rev-list", "--count", "main", cwd=bare)) == int(before) + 1
    assert log(bare)[0] == "write summary2.md"
