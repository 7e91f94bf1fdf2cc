"""Dependencies between specs: `depends_on = ["db/backup.md"]` (a page of the
same repository) or `["acme/db:jobs/dump.md"]` (any watched page).

A spec that fails while a spec it depends on fails too is *blocked*: the
summary lists it under that parent (`blocked by ...`), and one notification
names the parent and its blocked children. The dependency graph is checked
whenever a spec list is made or read: every name must be watched, and no
spec may depend on itself through others. Pure; linear in specs and edges.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from pulseox_git.errors import BadInputError
from pulseox_git.page import check_path
from pulseox_git.store.names import check_name

if TYPE_CHECKING:
    from pulseox_git.dashboard.rules import Entry
    from pulseox_git.dashboard.specs import PulseOxSpec

FAILING = ("ERROR", "MISSING")


def check_depends(value: object, owner: str, repo: str) -> tuple[str, ...]:
    """The `depends_on` list as keys (`owner/repo:path`), each checked."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise BadInputError(f"bad depends_on {value!r}: give a list of page paths")
    keys = []
    for item in value:
        if not isinstance(item, str) or not item:
            raise BadInputError(f"bad depends_on {item!r}: give a page path or owner/repo:path")
        try:
            keys.append(key_of(item, owner, repo))
        except BadInputError as err:
            raise BadInputError(f"bad depends_on {item!r}: {err}") from None
    return tuple(dict.fromkeys(keys))


def key_of(name: str, owner: str, repo: str) -> str:
    """`path` (in owner/repo) or `o/r:path`, as a spec key."""
    where, colon, path = name.partition(":")
    if colon and "/" in where:
        page_owner, _, page_repo = where.partition("/")
        check_name("owner", page_owner)
        check_name("repo", page_repo)
        return f"{page_owner}/{page_repo}:{check_path(path)}"
    return f"{owner}/{repo}:{check_path(name)}"


def written(key: str, owner: str, repo: str) -> str:
    """How a dependency is spelled back: its path when in the spec's own repository."""
    own = f"{owner}/{repo}:"
    return key[len(own) :] if key.startswith(own) else key


def check_graph(specs: Sequence[PulseOxSpec], where: str = "the spec list") -> None:
    """Every dependency is watched, and there is no cycle (named when found)."""
    parents = {spec.key: spec.depends_on for spec in specs}
    for key, deps in parents.items():
        for dep in deps:
            if dep not in parents:
                raise BadInputError(
                    f"bad depends_on {dep!r} of {key!r} in {where}: that page is not watched"
                )
    done: set[str] = set()
    for start in parents:
        path: list[str] = []
        on_path: set[str] = set()
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            key, i = stack.pop()
            if i == 0:
                if key in done:
                    continue
                if key in on_path:
                    loop = [*path[path.index(key) :], key]
                    raise BadInputError(f"dependency cycle in {where}: {' -> '.join(loop)}")
                path.append(key)
                on_path.add(key)
            deps = parents[key]
            if i < len(deps):
                stack.append((key, i + 1))
                if deps[i] not in done:
                    stack.append((deps[i], 0))
            else:
                path.pop()
                on_path.discard(key)
                done.add(key)


def block(entries: Sequence[Entry]) -> None:
    """Mark each failing entry whose parent fails too as blocked by that parent
    (the first failing one in its `depends_on`), with `blocked by ...` in its note."""
    by_key = {e.spec.key: e for e in entries}
    for entry in entries:
        if entry.status not in FAILING or not entry.spec.depends_on:
            continue
        for dep in entry.spec.depends_on:
            parent = by_key.get(dep)
            if parent is not None and parent.status in FAILING:
                entry.blocked_by = dep
                name = written(dep, entry.spec.owner, entry.spec.repo)
                entry.note = f"blocked by {name}" + (f": {entry.note}" if entry.note else "")
                break


def children(entries: Sequence[Entry]) -> dict[str, list[Entry]]:
    """The blocked entries under each parent's key, in spec order."""
    found: dict[str, list[Entry]] = {}
    for entry in entries:
        if entry.blocked_by is not None:
            found.setdefault(entry.blocked_by, []).append(entry)
    return found
