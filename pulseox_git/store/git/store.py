"""The cached clone: fetch, read, commit without a work tree, push with retry.

One bare repository per remote URL lives under the cache directory (see
`cache`). Every operation on it holds an exclusive file lock, so processes
sharing a cache never see each other's half-done work. Commits are built with
one ``git fast-import`` process (no index, no checkout; see `fastimport`), and
pushed without force: when someone else pushed first we fetch, rebuild on the
new tip, and retry.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from pulseox_git import settings
from pulseox_git.errors import BadInputError, CacheError, RemoteError
from pulseox_git.store import auth
from pulseox_git.store.base import (
    LEDGER,
    Change,
    History,
    MakeChange,
    Published,
    confine,
    path_prefixes,
)
from pulseox_git.store.git import asof, cache, fastimport, inbox, objects, publish, remote
from pulseox_git.store.git.command import (
    CORRUPT,
    RACE,
    Git,
    check_disk,
    classify_failure,
    git_env,
)
from pulseox_git.store.git.history import HistoryCache
from pulseox_git.store.git.log import merge_newest, read_history
from pulseox_git.store.names import check_branch

log = logging.getLogger("pulseox_git")
T = TypeVar("T")

TRACKING = "refs/remotes/origin/{branch}"
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")  # SHA-1 or SHA-256


class GitStore:
    """A cached bare clone of one remote branch, and the commits we push to it."""

    def __init__(
        self,
        url: str,
        branch: str = "main",
        token: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        timeout: float | None = None,
        push_attempts: int | None = None,
        blobless: bool | None = None,
    ) -> None:
        self.url = url
        self.branch = check_branch(branch)
        self.token = token
        root = Path(cache_dir) if cache_dir else settings.cache_dir()
        self.cache_root = root.absolute()  # git runs in the cache: a relative path would move
        self.push_attempts = settings.PUSH_ATTEMPTS.get_int(push_attempts)
        digest = hashlib.sha256(url.encode()).hexdigest()[:12]
        parts = urlsplit(url)
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{parts.hostname or ''}{parts.path}")[-60:]
        self.path = self.cache_root / "repos" / f"{slug.strip('_.') or 'repo'}-{digest}"
        self.tracking = TRACKING.format(branch=self.branch)
        self.git = Git(
            self.path,
            git_env(auth.git_auth_env(token, url)),
            settings.GIT_TIMEOUT.get(timeout),
            url,
            self.cache_root,
        )
        self.reached = False  # a fetch or push got the remote's answer (see AutoStore)
        self.lost_at_remote = False  # the last lost race was lost at the remote
        # the thread holding the lock: a client keeps one store per repository, and
        # may be shared by threads
        self._lock_owner: int | None = None
        self._lock = cache.Lock(self.path)
        # a partial clone without old blobs: history reads need only trees and trailers
        self.blobless = settings.blobless() if blobless is None else blobless
        self.history_cache = HistoryCache(self.git, self.branch, self.blobless)
        self.current = inbox.View(None, None)  # what the last `run` gave its work
        self.views: dict[str, inbox.View] = {}  # local folds by commit, for readers
        self._views: dict[tuple[str | None, ...], inbox.View] = {}

    def __repr__(self) -> str:
        return f"GitStore({self.url!r}, branch={self.branch!r})"

    @property
    def timeout(self) -> float:
        return self.git.timeout

    # -- the cache -----------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[GitStore]:
        """Hold the cache's exclusive lock; re-entrant within this object and thread."""
        if self._lock_owner == threading.get_ident():
            yield self
            return
        new = [d for d in (self.cache_root, self.path.parent) if not d.exists()]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError, PermissionError) as err:
            raise BadInputError(
                f"cannot use the cache dir {str(self.cache_root)!r}: {err.strerror}"
            ) from None
        try:
            with cache.file_lock(self.path, settings.LOCK_TIMEOUT.get()) as self._lock:
                self._lock_owner = threading.get_ident()
                try:
                    yield self
                finally:
                    self._lock_owner = None
        finally:
            if self._lock.remove:  # a first clone failed: the folders made for it go too
                for folder in reversed(new):
                    with suppress(OSError):
                        folder.rmdir()

    def _sound(self) -> bool:
        """After a failed fetch: can git still read the cache's refs and config?"""
        refs = self.git("for-each-ref", check=False)
        url = self.git("config", "--get", "remote.origin.url", check=False)
        return refs.returncode == 0 and url.stdout.decode().strip() == self.url

    def _create(self) -> None:
        cache.create(self.git, f"+refs/heads/{self.branch}:{self.tracking}", self.blobless)

    def prepare(self) -> bool:
        """Make sure a trustworthy cache exists (call with the lock held); True when
        it was made just now."""
        created = not cache.valid(self.path, self.url)
        if created:
            if self.path.exists():
                log.info(
                    "rebuilding the cache %s: it is incomplete or for another remote", self.path
                )
            self._create()
        cache.clear_leftovers(self.path)
        cache.tidy(self.git)
        return created

    def _first_fetch(self) -> str | None:
        """The fetch of a cache made just now. If it fails, the cache goes again, with
        its lock file (see `locked`): a mistyped remote leaves nothing behind."""
        try:
            return self.fetch()
        except RemoteError:
            cache.discard(self.path)
            self._lock.remove = True
            raise

    def rebuild(self) -> None:
        log.info("rebuilding the damaged cache %s", self.path)
        cache.discard(self.path)
        self._create()

    def fetch(self) -> str | None:
        """Bring the tracking ref up to the remote branch, and the cache's inbox refs
        up to the remote's; the tip, or None if empty."""
        proc = self.git(
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--no-auto-maintenance",  # no gc process after each fetch (see cache.tidy)
            "--no-show-forced-updates",  # no ancestry walk per updated ref
            "--prune",  # inbox refs folded by others go here too
            "origin",
            f"+refs/heads/{self.branch}:{self.tracking}",
            inbox.REFSPEC,  # in the same request: no round trip added
            check=False,
            remote=True,
        )
        self.reached = self.reached or proc.returncode == 0
        if proc.returncode != 0:
            stderr = proc.stderr.decode("utf-8", "replace")
            check_disk(stderr, self.cache_root)
            if any(marker in stderr.lower() for marker in CORRUPT) or not self._sound():
                raise CacheError(f"the cache {self.path} is damaged: {auth.redact(stderr)}")
            if "couldn't find remote ref" not in stderr.lower():
                raise classify_failure(self.url, "fetch", stderr)
            self.reached = True
            remote.say_branch_is_missing(self.git, self.url, self.branch)
            self.git("update-ref", "-d", self.tracking)  # the branch is gone or never was
            return None
        return self.tip()

    def tip(self) -> str | None:
        """The tracking ref's commit, or None. A loose ref file is read directly (it
        wins over packed-refs, and saves a git process per post); else git is asked."""
        try:
            sha = (self.path / self.tracking).read_text().strip()
            if _SHA.match(sha):
                return sha
        except (OSError, UnicodeDecodeError):
            pass
        proc = self.git(
            "rev-parse", "--verify", "--quiet", f"{self.tracking}^{{commit}}", check=False
        )
        return proc.stdout.decode().strip() or None

    def run(self, work: Callable[[str | None], T], fetch: bool = True, fold: bool = True) -> T:
        """Lock, make the cache trustworthy, fetch, then `work(head)`: the tip, or
        with `fold` and inbox refs fetched, the tip with them folded in locally
        (see `inbox.View`; `self.current` says which).

        With `fetch=False` the cached tip is used when there is one (no round
        trip; `publish` relies on the push to tell it the remote moved).

        A cache that fails locally (damaged objects, half-written files) is
        rebuilt once and the work retried; remote failures are raised as is.
        """
        try:
            with self.locked():
                for attempt in (1, 2):
                    try:
                        if self.prepare():
                            return work(self._view(self._first_fetch(), fold))
                        cached = None if fetch else self.tip()
                        return work(self._view(cached or self.fetch(), fold))
                    except CacheError:
                        if attempt == 2:
                            raise
                        self.rebuild()
        except OSError as err:
            if err.errno in (errno.ENOSPC, errno.EDQUOT):
                check_disk(f"{err.strerror}: {err.filename}", self.cache_root)
            raise
        raise AssertionError("unreachable")

    def _view(self, tip: str | None, fold: bool) -> str | None:
        """The commit work sees: `tip`, or a local fold of the inbox over it."""
        if not fold:
            self.current = inbox.View(tip, tip)
        else:
            self.current = self.fold(tip, *inbox.queued(self.git, tip))
        return self.current.head

    def fold(
        self, tip: str | None, waiting: list[inbox.Queued], merged: list[inbox.Queued]
    ) -> inbox.View:
        """`inbox.view`, made once per tip and inbox (a dashboard reads it twice)."""
        key = (tip, *(q.ref + q.sha for q in waiting + merged))
        found = self._views.get(key)
        if found is None:
            found = inbox.view(self.git, tip, waiting, merged)
            if len(key) > 1:
                self._views[key] = found
                self.views[found.head or ""] = found
        return found

    # -- reading -------------------------------------------------------------

    def entries(self, rev: str | None, paths: Sequence[str]) -> objects.Entries:
        """Mode and object id of each path and each of its parent folders at `rev`."""
        return objects.entries(self.git, rev, paths)

    def read_files(self, rev: str | None, paths: Sequence[str]) -> dict[str, bytes]:
        """The contents of the regular files among `paths` at `rev`; one git process."""
        found = self.entries(rev, paths)
        wanted = [p for p in paths if found.get(p, ("",))[0].startswith("100")]
        if not wanted:
            return {}
        if self.blobless:
            objects.prefetch(self.git, [found[p][1] for p in wanted], rev)
        blobs = objects.cat_blobs(self.git, [found[p][1] for p in wanted])
        return {p: data for p in wanted if (data := blobs[found[p][1]]) is not None}

    def history(self, tip: str | None, paths: Sequence[str], cache: bool = True) -> History:
        """Every report of each path reachable from `tip`, newest first (one git log;
        with `cache`, only the commits since the last call's tip). Queued posts
        folded into a view are read past the cache: it holds the branch only, so
        when they land on it they are read once, as branch commits. Hold the lock."""
        at = self.views.get(tip or "", inbox.View(tip, tip))
        if not cache:
            found = read_history(self.git, at.tip, paths, blobless=self.blobless)
        else:
            found = self.history_cache.read(at.tip, paths)[0]
        if at.head == at.tip:
            return found
        queued = read_history(self.git, at.head, paths, since=at.tip, blobless=self.blobless)
        return {p: merge_newest(queued[p], found[p]) for p in found}

    def commit_at(self, tip: str | None, point: datetime | str) -> tuple[str | None, datetime]:
        """The commit on the branch that stood at `point`, and the time it stands for
        (see `asof.commit_at`); at a time, with the posts queued by then folded in."""
        at = self.views.get(tip or "", inbox.View(tip, tip))
        sha, when = asof.commit_at(self.git, self.branch, at.tip, point)
        if not isinstance(point, datetime) or sha is None:
            return sha, when
        queued = asof.queued_by(self.git, sha, at, point)
        return self._fold_view(sha, queued), when

    def _fold_view(self, tip: str, queued: list[inbox.Queued]) -> str | None:
        found = inbox.view(self.git, tip, queued)
        if found.head != tip:
            self.views[found.head or ""] = found
        return found.head

    # -- writing -------------------------------------------------------------

    def confine(self, tip: str | None, paths: Sequence[str]) -> set[str]:
        """`store.base.confine` on the entries at `tip`: the paths that exist."""
        return confine(self.entries(tip, path_prefixes(paths)), paths)

    def commit(self, parent: str | None, change: Change) -> str:
        """Write `change` as one commit on `parent` with one fast-import process."""
        head, body = fastimport.commit_input(parent, change)
        proc = self.git("fast-import", "--quiet", "--force", "--done", input=head + body)
        return proc.stdout.decode().split()[-1]

    def confine_and_commit(self, parent: str | None, change: Change) -> tuple[str, set[str]]:
        """`confine`, then `commit`: for a small change in ONE fast-import process
        (see `fastimport`), else in two."""
        paths = change.paths
        prefixes = path_prefixes(paths)
        if parent and fastimport.fits(prefixes):
            head, body = fastimport.commit_input(parent, change)
            done = fastimport.ls_then_commit(
                self.git, head, body, prefixes, lambda found: confine(found, paths)
            )
            if done:
                return done
        existing = self.confine(parent, paths)
        return self.commit(parent, change), existing

    def push(self, sha: str, parent: str | None = None, at: inbox.View | None = None) -> bool:
        """Push `sha` (a child of `parent`) to the branch; False when the branch is
        no longer at `parent` (someone pushed first, or it was rewound).

        The lease names `parent`, so the update is always a fast-forward from
        exactly the tip we built on: nobody's commit is overwritten, and a branch
        rewound meanwhile is not silently restored. A successful push also moves
        the tracking ref (it matches the fetch refspec), so no update-ref. With a
        view `at` that folded inbox refs, their leased deletions go in the same
        atomic push.
        """
        at = at or inbox.View(parent, parent)
        LEDGER.start(self.url, sha)
        proc = self.git(*inbox.push_args(self.branch, sha, at), check=False, remote=True)
        landed = self.answered(proc)
        if landed:
            inbox.forget(self.git, at.leftovers)
        return landed

    def answered(self, proc: subprocess.CompletedProcess[bytes]) -> bool:
        """A push's outcome: True when it landed, False for a lost race; else raise."""
        if proc.returncode == 0:
            LEDGER.landed_now()
            self.reached = True
            return True
        out = (proc.stdout + proc.stderr).decode("utf-8", "replace")
        check_disk(out, self.cache_root)
        if any(marker in out for marker in RACE):
            LEDGER.refused()
            self.reached = True
            # our lease held when we connected, the update lost at the remote: a
            # race lost to a writer pushing at the same moment, not a stale cache
            self.lost_at_remote = "[remote rejected]" in out
            return False
        rejected = re.search(r"\[remote rejected\][^\n]*", out)
        if rejected:
            raise RemoteError(
                f"the remote {self.url} refused the push: {auth.redact(rejected.group(0))}"
            )
        ours = [line for line in out.lower().splitlines() if not line.startswith("remote:")]
        if any(marker in line for line in ours for marker in CORRUPT):  # rebuilt by run()
            raise CacheError(f"the cache {self.path} is damaged: {auth.redact(out.strip())}")
        raise classify_failure(self.url, "push", proc.stderr.decode("utf-8", "replace"))

    def publish(
        self, make_change: MakeChange, dry_run: bool = False, queue: bool = False
    ) -> Published:
        """Build `make_change(store, tip)` on the tip and push it without force; on a
        lost race build it again; with `queue`, a post that keeps losing goes to an
        inbox ref (see `publish.publish`)."""
        return publish.publish(self, make_change, dry_run, queue)
