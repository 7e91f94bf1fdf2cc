"""Queued posts through GitHub's Git Data API, as `store.git.inbox` does with git.

A post that keeps losing its race creates a ref of its own
(`POST /git/refs`, `refs/pulseox/inbox/<time>-<random>`) holding its commit,
built on the tip it saw. A writer that wins the branch folds the inbox refs it
listed: one merge commit (parents: the tip, then the queued commits; its tree
the tip's plus each queued post's pages, the newest post of a path winning),
its own commit on top, one non-forced ref update, then one `DELETE` per folded
ref. The ref update and the deletions are separate requests, so a writer
stopped between them leaves refs whose commits are on the branch: the next fold
finds them there (the page's newest commit on the branch is the queued one, or
newer) and only deletes them. A re-fold is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pulseox_git.page import parse_trailers
from pulseox_git.store.api.objects import identity
from pulseox_git.store.git.inbox import INBOX

if TYPE_CHECKING:
    from pulseox_git.store.api.store import ApiStore


@dataclass(frozen=True)
class Queued:
    """One inbox ref, its commit, and what that commit posted."""

    ref: str
    sha: str
    when: datetime
    paths: tuple[str, ...]


def listed(store: ApiStore) -> list[Queued]:
    """Every inbox ref: one request to list them, one per ref for its commit."""
    found = store.api.call("GET", f"/git/matching-refs/{INBOX.removeprefix('refs/')}/").data
    queued = []
    for item in found if isinstance(found, list) else []:
        sha = item["object"]["sha"]
        commit = store.api.call("GET", f"/git/commits/{sha}").data
        when = datetime.fromisoformat(commit["committer"]["date"]).astimezone(UTC)
        paths = tuple(page.path for page in parse_trailers(commit["message"]))
        queued.append(Queued(item["ref"], sha, when, paths))
    return sorted(queued, key=lambda q: (q.when, q.ref))


def _newest_on_branch(store: ApiStore, tip: str, path: str) -> tuple[str, datetime] | None:
    items = store.api.call("GET", "/commits", query={"sha": tip, "path": path, "per_page": 1})
    if not items.data:
        return None
    commit = items.data[0]
    when = datetime.fromisoformat(commit["commit"]["committer"]["date"]).astimezone(UTC)
    return commit["sha"], when


def fold(store: ApiStore, tip: str, queued: list[Queued]) -> str:
    """The merge commit of `tip` and the `queued` commits not on it yet (oldest
    first); `tip` itself when every one is already on the branch."""
    files: dict[str, dict[str, Any]] = {}
    parents = []
    for q in queued:
        entries = store.tree(q.sha)[1]
        newest = {p: _newest_on_branch(store, tip, p) for p in q.paths}
        if any(found and found[0] == q.sha for found in newest.values()):
            continue  # already on the branch: only its ref goes
        parents.append(q.sha)
        for path in q.paths:
            found = newest[path]
            if path in entries and (found is None or found[1] <= q.when):
                mode, _kind, blob = entries[path]
                files[path] = {"path": path, "mode": mode, "type": "blob", "sha": blob}
    if not parents:
        return tip
    body = {"base_tree": store.tree(tip)[0], "tree": list(files.values())}
    tree = store.api.call("POST", "/git/trees", body).data["sha"]
    newest_time = identity(max(q.when for q in queued))
    count = len(parents)
    return str(
        store.api.call(
            "POST",
            "/git/commits",
            {
                "message": f"pulseox: fold {count} queued post{'s' * (count != 1)}\n",
                "tree": tree,
                "parents": [tip, *parents],
                "author": newest_time,
                "committer": newest_time,
            },
        ).data["sha"]
    )


def delete(store: ApiStore, queued: list[Queued]) -> None:
    """Delete folded inbox refs; one already gone (another writer's fold) is fine."""
    for q in queued:
        ref = quote(q.ref.removeprefix("refs/"), safe="/")
        store.api.call("DELETE", f"/git/refs/{ref}", allow=(404, 422))


def create(store: ApiStore, sha: str, ref: str) -> bool:
    """Create the inbox ref `ref` at `sha`; False when the name is taken."""
    response = store.api.call("POST", "/git/refs", {"ref": ref, "sha": sha}, allow=(422,))
    return response.status == 201
