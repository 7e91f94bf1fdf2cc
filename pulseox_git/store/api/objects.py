"""Git object ids computed without git: what a commit made over the API will be.

A dry run over the API writes nothing, yet shows the commit id git itself
would compute for the change, so both transports print the same id.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from pulseox_git import settings
from pulseox_git.page import format_time
from pulseox_git.store.base import TREE_MODE, Change

TreeEntry = tuple[str, str, str]  # mode, type, sha


def identity(when: datetime) -> dict[str, str]:
    """Author and committer as `GitStore` writes them, with the change's time."""
    name, email = settings.committer()
    return {"name": name, "email": email, "date": format_time(when)}


def object_id(kind: str, body: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(body)}\0".encode() + body).hexdigest()


def planned_commit(change: Change, tip: str | None, tree: tuple[str, dict[str, TreeEntry]]) -> str:
    """The id of the commit `change` makes on `tip`, computed here without writing
    anything: what a dry run shows (and what git itself would compute)."""
    _root, entries = tree
    folders: dict[str, dict[str, tuple[str, str]]] = {"": {}}
    for path in change.paths:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            folders.setdefault("/".join(parts[:depth]), {})
    for path, (mode, _type, sha) in entries.items():
        parent, _, name = path.rpartition("/")
        if parent in folders:
            folders[parent][name] = (mode, sha)
    for path in change.deleted:
        parent, _, name = path.rpartition("/")
        folders[parent].pop(name, None)
    for path, data in change.files.items():
        parent, _, name = path.rpartition("/")
        folders[parent][name] = ("100644", object_id("blob", data))
    for folder in sorted(folders, key=lambda f: -f.count("/") - bool(f)):
        listing = folders[folder]
        if folder and not listing:  # git keeps no empty folder
            parent, _, name = folder.rpartition("/")
            folders[parent].pop(name, None)
            continue
        body = b"".join(
            f"{mode.lstrip('0')} {name}\0".encode() + bytes.fromhex(sha)
            for name, (mode, sha) in sorted(
                listing.items(), key=lambda item: item[0] + ("/" if item[1][0] == TREE_MODE else "")
            )
        )
        sha = object_id("tree", body)
        if folder:
            parent, _, name = folder.rpartition("/")
            folders[parent][name] = (TREE_MODE, sha)
    who = identity(change.when)
    stamp = f"{who['name']} <{who['email']}> {int(change.when.timestamp())} +0000"
    lines = [f"tree {sha}"] + ([f"parent {tip}"] if tip else [])
    lines += [f"author {stamp}", f"committer {stamp}", "", ""]
    return object_id("commit", "\n".join(lines).encode() + change.message.encode())
