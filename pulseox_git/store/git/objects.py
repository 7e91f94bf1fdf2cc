"""Reading objects out of the cache: tree entries and file contents in bulk.

Every read is one git process for any number of paths or blobs (`ls-tree`,
`cat-file --batch`), never one per file. In a blobless cache (a partial
clone) the blobs a read needs are fetched first in ONE fetch, not one lazy
fetch per blob.
"""

from __future__ import annotations

from collections.abc import Sequence

from pulseox_git.store.base import path_prefixes
from pulseox_git.store.git.command import Git

Entries = dict[str, tuple[str, str]]  # path -> (mode, object id)
MANY_PATHS = 200  # past this, ls-tree lists the paths' folders (see `entries`)


def entries(git: Git, rev: str | None, paths: Sequence[str]) -> Entries:
    """Mode and object id of each path and each of its parent folders at `rev`.

    ls-tree matches every tree entry against every path given, so 10,000 paths
    take it a second; past `MANY_PATHS` it is given their folders instead (one
    `dir/` lists that folder) and the answer is filtered here: the same result."""
    if rev is None or not paths:
        return {}
    wanted: set[str] | None = None
    specs = list(paths)
    if len(paths) > MANY_PATHS:
        wanted = set(path_prefixes(paths))
        specs = sorted({f"{p.rsplit('/', 1)[0]}/" if "/" in p else p for p in paths})
    proc = git("ls-tree", "-t", "-z", rev, "--", *specs)
    found: Entries = {}
    for record in proc.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if record:
            meta, path = record.split("\t", 1)
            if wanted is None or path in wanted:
                mode, _type, oid = meta.split()
                found[path] = (mode, oid)
    return found


def cat_blobs(git: Git, blobs: Sequence[str]) -> dict[str, bytes | None]:
    """The contents of `blobs` by id (None for one the cache lacks); one process."""
    if not blobs:
        return {}
    out = git("cat-file", "--batch", input="".join(f"{b}\n" for b in blobs).encode()).stdout
    found: dict[str, bytes | None] = {}
    pos = 0
    for blob in blobs:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        if header[-1] == b"missing":
            found[blob] = None
            pos = end + 1
            continue
        size = int(header[2])
        found[blob] = out[end + 1 : end + 1 + size]
        pos = end + 2 + size
    return found


def prefetch(git: Git, blobs: Sequence[str], rev: str | None = None) -> None:
    """Fetch the `blobs` a blobless cache lacks in ONE fetch. With `rev`, only those
    missing from rev's tree are asked for."""
    if rev is not None:  # --missing=print lists without fetching
        out = git("rev-list", "--objects", "--no-walk", "--missing=print", rev).stdout
        missing = {
            line[1:].strip()
            for line in out.decode("utf-8", "replace").splitlines()
            if line.startswith("?")
        }
        blobs = [b for b in blobs if b in missing]
    if blobs:
        git(
            "-c",
            "fetch.negotiationAlgorithm=noop",
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--recurse-submodules=no",
            "--filter=blob:none",
            "--stdin",
            "origin",
            input="".join(f"{b}\n" for b in blobs).encode(),
            remote=True,
        )
