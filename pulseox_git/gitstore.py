"""The cached clone: fetch, read, commit without a work tree, push with retry.

One bare repository per remote URL lives under the cache directory (see
`pulseox_git.cachedir`). Every operation on it holds an exclusive file lock, so
processes sharing a cache never see each other's half-done work. Commits are
built with one ``git fast-import`` process (no index, no checkout; see
`pulseox_git.fastimport`), and pushed without force: when someone else pushed
first we fetch, rebuild on the new tip, and retry.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import random
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from pulseox_git import auth, cachedir, gitcmd
from pulseox_git.errors import (
    BadInputError,
    CacheError,
    PulseOxError,
    PushConflictError,
    RemoteError,
)
from pulseox_git.gitcmd import (
    CORRUPT,
    RACE,
    GitMissingError,
    UnreachableError,
    check_disk,
    classify_failure,
    env_number,
    git_env,
)
from pulseox_git.remote import check_branch, remote_url

log = logging.getLogger("pulseox_git")
T = TypeVar("T")

TRACKING = "refs/remotes/origin/{branch}"
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")  # SHA-1 or SHA-256
TREE_MODE = "040000"
_KINDS = {"040000": "a folder", "120000": "a symlink"}


@dataclass(frozen=True)
class Change:
    """What one commit should write: files by path, and the commit message."""

    files: dict[str, bytes]
    message: str
    when: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class Published:
    """The outcome of `GitStore.publish`."""

    sha: str | None
    parent: str | None
    created: tuple[str, ...]
    changed: tuple[str, ...]
    attempts: int
    dry_run: bool
    message: str

    @classmethod
    def of(cls, sha: str | None, parent: str | None, change: Change, existing: set[str],
           attempt: int, dry_run: bool) -> Published:
        """The outcome of writing `change`, whose paths in `existing` were there before."""
        created = tuple(p for p in change.files if p not in existing)
        changed = tuple(p for p in change.files if p in existing)
        return cls(sha, parent, created, changed, attempt, dry_run, change.message)


FIRST_DELAY, MAX_DELAY = 0.05, 2.0  # seconds between attempts after a lost race


def pause(delay: float, sleep: Callable[[float], None] = time.sleep) -> float:
    """Sleep a jittered `delay` (so racing writers spread out); the next delay."""
    sleep(delay * (0.5 + random.random()))
    return min(delay * 2, MAX_DELAY)


class GitStore:
    """A cached bare clone of one remote branch, and the commits we push to it."""

    def __init__(self, url: str, branch: str = "main", token: str | None = None,
                 cache_dir: str | os.PathLike | None = None, timeout: float | None = None,
                 push_attempts: int | None = None, blobless: bool | None = None) -> None:
        self.url = url
        self.branch = check_branch(branch)
        self.token = token
        self.cache_root = Path(cache_dir) if cache_dir else cachedir.default_cache_dir()
        self.timeout = timeout or env_number("PULSEOX_GIT_TIMEOUT", "120")
        self.push_attempts = push_attempts or int(env_number("PULSEOX_PUSH_ATTEMPTS", "30", True))
        digest = hashlib.sha256(url.encode()).hexdigest()[:12]
        parts = urlsplit(url)
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{parts.hostname or ''}{parts.path}")[-60:]
        self.path = self.cache_root / "repos" / f"{slug.strip('_.') or 'repo'}-{digest}"
        self.tracking = TRACKING.format(branch=self.branch)
        self._env = git_env(auth.git_auth_env(token, url))
        self.reached = False  # a fetch or push got the remote's answer (see AutoStore)
        # the thread holding the lock: a client keeps one store per repository, and
        # may be shared by threads
        self._lock_owner: int | None = None
        # a partial clone without old blobs: history reads need only trees and trailers
        self.blobless = (os.environ.get("PULSEOX_GIT_BLOBLESS", "") in ("1", "true")
                         if blobless is None else blobless)

    # -- running git ---------------------------------------------------------

    def git(self, *args: str, input: bytes | None = None, check: bool = True,
            cwd: Path | None = None, remote: bool = False) -> subprocess.CompletedProcess:
        """Run one git command in the cache; errors carry redacted stderr only."""
        return gitcmd.run(self, args, input=input, check=check, cwd=cwd, remote=remote)

    def stream(self, *args: str, chunk: int = 1 << 20) -> Iterator[bytes]:
        """Run one git command and yield its stdout in chunks, for long outputs."""
        return gitcmd.stream(self, args, chunk)

    # -- the cache -----------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[GitStore]:
        """Hold the cache's exclusive lock; re-entrant within this object and thread."""
        if self._lock_owner == threading.get_ident():
            yield self
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError, PermissionError) as err:
            raise BadInputError(f"cannot use the cache dir {str(self.cache_root)!r}: "
                                f"{err.strerror}") from None
        with cachedir.file_lock(self.path, env_number("PULSEOX_LOCK_TIMEOUT", "600")):
            self._lock_owner = threading.get_ident()
            try:
                yield self
            finally:
                self._lock_owner = None

    def _sound(self) -> bool:
        """After a failed fetch: can git still read the cache's refs and config?"""
        refs = self.git("for-each-ref", check=False)
        url = self.git("config", "--get", "remote.origin.url", check=False)
        return refs.returncode == 0 and url.stdout.decode().strip() == self.url

    def prepare(self) -> None:
        """Make sure a trustworthy cache exists (call with the lock held)."""
        if not cachedir.valid(self.path, self.url):
            if self.path.exists():
                log.info("rebuilding the cache %s: it is incomplete or for another remote",
                         self.path)
            cachedir.create(self)
        cachedir.clear_leftovers(self.path)
        cachedir.tidy(self)

    def rebuild(self) -> None:
        log.info("rebuilding the damaged cache %s", self.path)
        cachedir.discard(self.path)
        cachedir.create(self)

    def fetch(self) -> str | None:
        """Bring the tracking ref up to the remote branch; the tip, or None if empty."""
        proc = self.git("fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "origin",
                        f"+refs/heads/{self.branch}:{self.tracking}", check=False, remote=True)
        self.reached = self.reached or proc.returncode == 0
        if proc.returncode != 0:
            stderr = proc.stderr.decode("utf-8", "replace")
            check_disk(stderr, self.cache_root)
            if any(marker in stderr.lower() for marker in CORRUPT) or not self._sound():
                raise CacheError(f"the cache {self.path} is damaged: {auth.redact(stderr)}")
            if "couldn't find remote ref" not in stderr.lower():
                raise classify_failure(self.url, "fetch from", stderr)
            self.reached = True
            self._say_branch_is_missing()
            self.git("update-ref", "-d", self.tracking)  # the branch is gone or never was
            return None
        return self.tip()

    def _say_branch_is_missing(self) -> None:
        """An empty remote is normal; a missing branch beside others is likely a typo."""
        heads = self.git("ls-remote", "--heads", "origin", check=False, remote=True)
        others = [line.split("refs/heads/", 1)[-1] for line in
                  heads.stdout.decode("utf-8", "replace").splitlines()]
        if others:
            log.warning("warning: %s has no branch %r (it has %s); the first post creates "
                        "it: check --branch", self.url, self.branch, ", ".join(others[:5]))
        else:
            log.info("%s is empty: the first post creates branch %r", self.url, self.branch)

    def tip(self) -> str | None:
        """The tracking ref's commit, or None. A loose ref file is read directly (it
        wins over packed-refs, and saves a git process per post); else git is asked."""
        try:
            sha = (self.path / self.tracking).read_text().strip()
            if _SHA.match(sha):
                return sha
        except (OSError, UnicodeDecodeError):
            pass
        proc = self.git("rev-parse", "--verify", "--quiet", f"{self.tracking}^{{commit}}",
                        check=False)
        return proc.stdout.decode().strip() or None

    def run(self, work: Callable[[str | None], T], fetch: bool = True) -> T:
        """Lock, make the cache trustworthy, fetch, then `work(tip)`.

        With `fetch=False` the cached tip is used when there is one (no round
        trip; `publish` relies on the push to tell it the remote moved).

        A cache that fails locally (damaged objects, half-written files) is
        rebuilt once and the work retried; remote failures are raised as is.
        """
        try:
            with self.locked():
                for attempt in (1, 2):
                    try:
                        self.prepare()
                        cached = None if fetch else self.tip()
                        return work(cached or self.fetch())
                    except CacheError:
                        if attempt == 2:
                            raise
                        self.rebuild()
        except OSError as err:
            if err.errno in (errno.ENOSPC, errno.EDQUOT):
                check_disk(f"{err.strerror}: {err.filename}", self.cache_root)
            raise
        raise AssertionError("unreachable")

    # -- reading -------------------------------------------------------------

    def entries(self, rev: str | None, paths: Sequence[str]) -> dict[str, tuple[str, str]]:
        """Mode and object id of each path and each of its parent folders at `rev`."""
        if rev is None:
            return {}
        proc = self.git("ls-tree", "-t", "-z", rev, "--", *paths)
        found: dict[str, tuple[str, str]] = {}
        for record in proc.stdout.decode("utf-8", "surrogateescape").split("\0"):
            if record:
                meta, path = record.split("\t", 1)
                mode, _type, oid = meta.split()
                found[path] = (mode, oid)
        return found

    def read_files(self, rev: str | None, paths: Sequence[str]) -> dict[str, bytes]:
        """The contents of the regular files among `paths` at `rev`; one git process."""
        entries = self.entries(rev, paths) if paths else {}
        wanted = [p for p in paths if entries.get(p, ("",))[0].startswith("100")]
        if not wanted:
            return {}
        if self.blobless:
            self.prefetch([entries[p][1] for p in wanted], rev)
        request = b"".join(entries[p][1].encode() + b"\n" for p in wanted)
        out = self.git("cat-file", "--batch", input=request).stdout
        files: dict[str, bytes] = {}
        pos = 0
        for path in wanted:
            header_end = out.index(b"\n", pos)
            size = int(out[pos:header_end].split()[2])
            files[path] = out[header_end + 1 : header_end + 1 + size]
            pos = header_end + 2 + size
        return files

    def history(self, tip: str | None, paths: Sequence[str], cache: bool = True
                ) -> dict[str, list]:
        """Every report of each path reachable from `tip`, newest first (one git log;
        with `cache`, only the commits since the last call's tip). Hold the lock."""
        from pulseox_git.history import cached_history, read_history

        if not cache:
            return read_history(self, tip, paths)
        return cached_history(self, tip, paths)[0]

    def prefetch(self, blobs: Sequence[str], rev: str | None = None) -> None:
        """In a blobless clone, fetch the `blobs` it lacks in ONE fetch, not one
        lazy fetch per blob. With `rev`, only those missing from rev's tree."""
        if not self.blobless or not blobs:
            return
        if rev is not None:  # --missing=print lists without fetching
            out = self.git("rev-list", "--objects", "--no-walk", "--missing=print", rev).stdout
            missing = {line[1:].strip() for line in out.decode("utf-8", "replace").splitlines()
                       if line.startswith("?")}
            blobs = [b for b in blobs if b in missing]
            if not blobs:
                return
        self.git("-c", "fetch.negotiationAlgorithm=noop", "fetch", "--quiet", "--no-tags",
                 "--no-write-fetch-head", "--recurse-submodules=no", "--filter=blob:none",
                 "--stdin", "origin", input="".join(f"{b}\n" for b in blobs).encode(),
                 remote=True)

    # -- writing -------------------------------------------------------------

    def confine(self, tip: str | None, paths: Sequence[str],
                entries: dict[str, tuple[str, str]] | None = None) -> set[str]:
        """Refuse paths that land on a folder, a symlink or a submodule, or go
        through a file or symlink; return the paths that already exist.
        `entries` are those of `fastimport.path_prefixes(paths)` at `tip`, when
        already read."""
        if entries is None:
            from pulseox_git.fastimport import path_prefixes

            entries = self.entries(tip, path_prefixes(paths))
        existing = set()
        for page in paths:
            parts = page.split("/")
            for depth in range(1, len(parts)):
                parent = "/".join(parts[:depth])
                mode = entries.get(parent, (TREE_MODE,))[0]
                if mode != TREE_MODE:
                    kind = "a symlink" if mode == "120000" else "not a folder"
                    raise BadInputError(f"page path {page!r} goes through {parent!r}, "
                                        f"which is {kind} in the repository")
            if page in entries:
                mode = entries[page][0]
                if mode not in ("100644", "100755"):
                    kind = _KINDS.get(mode, "a submodule")
                    raise BadInputError(f"page path {page!r} is {kind} in the repository")
                existing.add(page)
        return existing

    def commit(self, parent: str | None, change: Change) -> str:
        """Write `change` as one commit on `parent` with one fast-import process."""
        from pulseox_git.fastimport import commit_input

        head, body = commit_input(parent, change)
        proc = self.git("fast-import", "--quiet", "--force", "--done", input=head + body)
        return proc.stdout.decode().split()[-1]

    def confine_and_commit(self, parent: str | None, change: Change) -> tuple[str, set[str]]:
        """`confine`, then `commit`: for a small change in ONE fast-import process
        (see `pulseox_git.fastimport`), else in two."""
        from pulseox_git import fastimport

        paths = list(change.files)
        prefixes = fastimport.path_prefixes(paths)
        if parent and fastimport.fits(prefixes):
            head, body = fastimport.commit_input(parent, change)
            done = fastimport.ls_then_commit(
                self, head, body, prefixes, lambda found: self.confine(parent, paths, found))
            if done:
                return done
        existing = self.confine(parent, paths)
        return self.commit(parent, change), existing

    def push(self, sha: str, parent: str | None = None) -> bool:
        """Push `sha` (a child of `parent`) to the branch; False when the branch is
        no longer at `parent` (someone pushed first, or it was rewound).

        The lease names `parent`, so the update is always a fast-forward from
        exactly the tip we built on: nobody's commit is overwritten, and a branch
        rewound meanwhile is not silently restored. A successful push also moves
        the tracking ref (it matches the fetch refspec), so no update-ref.
        """
        proc = self.git("push", "--porcelain", "--quiet",
                        f"--force-with-lease=refs/heads/{self.branch}:{parent or ''}", "origin",
                        f"{sha}:refs/heads/{self.branch}", check=False, remote=True)
        if proc.returncode == 0:
            self.reached = True
            return True
        out = (proc.stdout + proc.stderr).decode("utf-8", "replace")
        check_disk(out, self.cache_root)
        if any(marker in out for marker in RACE):
            self.reached = True
            return False
        rejected = re.search(r"\[remote rejected\][^\n]*", out)
        if rejected:
            raise RemoteError(f"the remote {self.url} refused the push: "
                              f"{auth.redact(rejected.group(0))}")
        ours = [line for line in out.lower().splitlines() if not line.startswith("remote:")]
        if any(marker in line for line in ours for marker in CORRUPT):  # rebuilt by run()
            raise CacheError(f"the cache {self.path} is damaged: {auth.redact(out.strip())}")
        raise classify_failure(self.url, "push to", proc.stderr.decode("utf-8", "replace"))

    def publish(self, make_change: Callable[[GitStore, str | None], Change],
                dry_run: bool = False) -> Published:
        """Fetch, build a commit on the tip, push; on a race do it all again.

        `make_change(store, tip)` is called once per attempt, so what it
        writes always reflects the tip it is committed on.
        """
        delay = FIRST_DELAY
        for attempt in range(1, self.push_attempts + 1):

            def build_and_push(tip: str | None, attempt: int = attempt) -> Published | None:
                change = make_change(self, tip)
                sha, existing = self.confine_and_commit(tip, change)
                result = Published.of(sha, tip, change, existing, attempt, dry_run)
                return result if dry_run or self.push(sha, tip) else None

            # The first attempt builds on the cached tip without fetching: when the
            # cache is current (the usual case) that saves a round trip; when it is
            # behind, the push says so and the next attempt fetches.
            optimistic = attempt == 1 and not dry_run
            result = self.run(build_and_push, fetch=not optimistic)
            if result:
                return result
            if optimistic:
                continue
            log.info("the remote moved while we pushed; retrying (attempt %d)", attempt + 1)
            delay = pause(delay)
        raise PushConflictError(f"gave up pushing to {self.url} after {self.push_attempts} "
                                "attempts: others kept pushing first; nothing was lost remotely, "
                                "run the command again")


__all__ = ["Change", "GitMissingError", "GitStore", "Published", "PulseOxError",
           "UnreachableError", "remote_url"]
