"""The cache on disk: where it lives, its lock, and building it safely.

A new bare repository is built in a temporary directory and moved into place,
so a killed process never leaves a half clone behind; leftovers of killed
runs (git's lock files, temporary packs and directories) are cleared while
our own lock is held.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import random
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from pulseox_git.errors import CacheLockedError
from pulseox_git.store.git.command import Git, check_disk

log = logging.getLogger("pulseox_git")
MARKER = "pulseox-cache.json"
PACK_LIMIT = 32  # small packs (one per commit) before `tidy` rolls them up


@dataclass
class Lock:
    """A held cache lock. Set `remove` to delete the lock file on release (a cache
    that was never made leaves nothing behind); waiters then lock a new file."""

    path: Path
    remove: bool = False


@contextmanager
def file_lock(path: Path, wait: float) -> Iterator[Lock]:
    """Hold the exclusive lock file next to `path`, waiting at most `wait` seconds."""
    lock = Lock(path.with_name(path.name + ".lock"))
    deadline = time.monotonic() + wait
    while True:
        with open(lock.path, "a+b") as handle:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise CacheLockedError(
                            f"the cache {path} stayed locked for {wait:g}s by another process"
                        ) from None
                    time.sleep(0.02 + random.random() * 0.05)
            try:
                if not _same_file(handle.fileno(), lock.path):
                    continue  # its holder removed it while we waited: lock the new one
                yield lock
                return
            finally:
                if lock.remove:
                    lock.path.unlink(missing_ok=True)  # while still holding it
                fcntl.flock(handle, fcntl.LOCK_UN)


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == path.stat().st_ino
    except FileNotFoundError:
        return False


def valid(path: Path, url: str) -> bool:
    """Whether `path` holds a complete cache of `url`."""
    try:
        marker = json.loads((path / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return (
        marker.get("url") == url
        and (path / "objects").is_dir()
        and (path / "config").is_file()
        and (path / "HEAD").is_file()
    )


def create(git: Git, fetch_refspec: str, blobless: bool) -> None:
    """Build a new cache in a temporary directory, then move it into place."""
    log.info("cloning %s into the cache", git.url)
    git.path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".new-", dir=git.path.parent))
    try:
        # no template: a cache needs no sample hooks or description
        git("init", "--quiet", "--bare", "--template=", str(tmp), cwd=git.path.parent)
        origin = {"url": git.url, "fetch": fetch_refspec}
        if blobless:  # fetch trees and commits; blobs only when read
            origin.update(promisor="true", partialclonefilter="blob:none")
        # appended in one write, not one `git config` per key (nor GitPython, whose
        # import alone costs more than the whole clone of a small repository)
        with open(tmp / "config", "a", encoding="utf-8") as config:
            config.write(
                _config_section('remote "origin"', origin)
                + _config_section("gc", {"autoDetach": "false"})  # no gc after
                + _config_section("maintenance", {"autoDetach": "false"})  # unlock
                + _config_section("core", {"logAllRefUpdates": "false"})
                + _config_section("fastimport", {"unpackLimit": "0"})
            )
        (tmp / MARKER).write_text(json.dumps({"url": git.url}))
        discard(git.path)
        os.rename(tmp, git.path)
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)
        check_disk(str(getattr(err, "stderr", "")), git.cache_root)
        raise


def discard(path: Path) -> None:
    """Move `path` aside, then delete it: a half-deleted cache is never seen in place."""
    if path.exists():
        trash = Path(tempfile.mkdtemp(prefix=".old-", dir=path.parent))
        os.rename(path, trash / "repo")
        shutil.rmtree(trash, ignore_errors=True)


def clear_leftovers(path: Path) -> None:
    """Git's own lock files can only be stale while we hold our lock; old caches
    and killed runs' new ones are removed."""
    for lock in [
        *path.glob("*.lock"),
        *path.glob("refs/**/*.lock"),
        *path.glob("fast_import_crash_*"),  # left by failed commits
        *path.glob("objects/pack/tmp_*"),
        *path.glob("objects/pack/.tmp-*"),  # left by a killed repack
    ]:  # left by killed writers
        lock.unlink(missing_ok=True)
    for leftover in path.parent.glob(".old-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    # a new cache lives in .new-* for milliseconds: older ones are from killed runs
    for leftover in path.parent.glob(".new-*"):
        with suppress(OSError):
            if time.time() - leftover.stat().st_mtime > 600:
                shutil.rmtree(leftover, ignore_errors=True)


def tidy(git: Git) -> None:
    """Each commit leaves one small pack (fast-import keeps it instead of running
    `unpack-objects`, a second process per post); roll them up once there are
    many, so lookups stay fast and git's own gc never needs a full repack.

    `--geometric` rolls up only the small packs, but git refuses it in a blobless
    cache (it cannot leave promisor objects out of `--stdin-packs`): there all go
    into one (`-a`; git keeps promisor objects apart; no bitmap, which needs every
    object), about 2 s for 100,000 commits, once every PACK_LIMIT posts. Tidying
    only saves time: when it fails, the packs stay as they were and the post goes on."""
    with suppress(OSError):
        packs = sum(n.endswith(".pack") for n in os.listdir(git.path / "objects" / "pack"))
        if packs > PACK_LIMIT:
            how = ["-a", "--no-write-bitmap-index"] if _blobless(git.path) else ["--geometric=2"]
            proc = git("repack", *how, "-d", "-q", check=False)
            if proc.returncode:
                check_disk(proc.stderr.decode("utf-8", "replace"), git.cache_root)
                log.info("could not roll up the packs of %s: %s", git.path, proc.stderr[:200])


def _blobless(path: Path) -> bool:
    """Whether the cache is a partial clone (see `create`)."""
    with suppress(OSError):
        return "partialclonefilter" in (path / "config").read_text(encoding="utf-8")
    return False


def _config_section(name: str, values: dict[str, str]) -> str:
    """Git config text; values quoted (URLs were checked to hold no control characters)."""
    quoted = {k: v.replace("\\", "\\\\").replace('"', '\\"') for k, v in values.items()}
    return f"[{name}]\n" + "".join(f'\t{k} = "{v}"\n' for k, v in quoted.items())
