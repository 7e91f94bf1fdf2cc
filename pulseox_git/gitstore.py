"""The cached clone: lock, fetch, commit without a work tree, push with retry.

One bare repository per remote URL lives under the cache directory. Every
operation on it holds an exclusive file lock, so processes sharing a cache
never see each other's half-done work. Commits are built with one
``git fast-import`` process (no index, no checkout), and pushed without force:
when someone else pushed first we fetch, rebuild on the new tip, and retry.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import random
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from pulseox_git import auth
from pulseox_git.errors import (
    AuthError,
    BadInputError,
    CacheError,
    PulseOxError,
    PushConflictError,
    RemoteError,
)

log = logging.getLogger("pulseox_git")
T = TypeVar("T")

DEFAULT_URL_TEMPLATE = "https://github.com/{owner}/{repo}.git"
TRACKING = "refs/remotes/origin/{branch}"
PENDING_REF = "refs/pulseox/pending"
MARKER = "pulseox-cache.json"
COMMITTER = ("pulseox-git", "pulseox-git@users.noreply.github.com")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_BRANCH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")  # SHA-1 or SHA-256
PACK_LIMIT = 32  # small packs (one per commit) before `_tidy` rolls them up
# Inherited variables that would point git at another repository or config.
_GIT_ENV_DROP = re.compile(
    r"^GIT_(DIR|WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|NAMESPACE|"
    r"COMMON_DIR|CONFIG_PARAMETERS|CONFIG_COUNT|CONFIG_KEY_\d+|CONFIG_VALUE_\d+|CURL_VERBOSE|"
    r"ASKPASS|PREFIX)$|^SSH_ASKPASS$"
)
_RACE = ("fetch first", "non-fast-forward", "cannot lock ref", "failed to update ref",
         "stale info", "incorrect old value", "reference already exists")
_AUTH = ("authentication failed", "could not read username", "could not read password",
         "http 401", "http 403", "the requested url returned error: 401",
         "the requested url returned error: 403", "permission denied", "access denied")
TREE_MODE = "040000"
_KINDS = {"040000": "a folder", "120000": "a symlink"}
_CORRUPT = ("bad object", "corrupt", "object file", "unable to read", "not a git repository",
            "missing blob", "missing tree", "did not send all necessary objects", "bad pack",
            "invalid refspec")  # a config written for a bad branch by an older version
_DISK_FULL = ("no space left on device", "out of diskspace", "disk quota exceeded")
_UNREACHABLE = ("could not resolve", "failed to connect", "couldn't connect", "connection refused",
                "timed out", "timeout", "connection reset", "empty reply", "recv failure",
                "unable to access", "does not appear to be a git repository",
                "could not read from remote", "the remote end hung up", "operation too slow",
                "ssl", "http 5", "returned error: 5", "rpc failed", "early eof")


class UnreachableError(RemoteError):
    """The remote could not be reached at all (a transport problem, not a refusal)."""


class CacheLockedError(PulseOxError):
    """Another process held the cache lock for too long."""


class DiskFullError(PulseOxError):
    """The disk under the cache is full: not damage, so the cache is kept, not rebuilt."""


class GitMissingError(UnreachableError):
    """No git executable on PATH."""


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


def remote_url(owner: str, repo: str, remote: str | None = None) -> str:
    """The git URL for owner/repo: `remote` (a URL, or a template with {owner} and
    {repo}), else the template in $PULSEOX_GIT_REMOTE, else GitHub."""
    for label, value in (("owner", owner), ("repo", repo)):
        if not value or not _NAME.match(value) or (value.endswith(".git") and label == "owner"):
            raise BadInputError(f"bad {label} {value!r}: use letters, digits, '.', '_' or '-'")
    template = remote if remote is not None else (
        os.environ.get("PULSEOX_GIT_REMOTE") or DEFAULT_URL_TEMPLATE)
    if not isinstance(template, str):
        raise BadInputError(f"bad remote {template!r}: give a git URL or a template")
    if remote is None and ("{owner}" not in template or "{repo}" not in template):
        raise BadInputError(f"PULSEOX_GIT_REMOTE {template!r} needs {{owner}} and {{repo}}")
    url = template.replace("{owner}", owner).replace("{repo}", repo)
    clean, stripped = auth.clean_remote_url(url)
    if stripped:
        log.warning("warning: dropped the credentials written into the remote URL %s; "
                    "pass a token with --token or PULSEOX_TOKEN instead", clean)
    if "://" not in clean and not re.match(r"^[^/]*:", clean):  # a local path, not host:path
        clean = os.path.abspath(clean)  # relative to where we were started, not to the cache
    return clean


def env_number(name: str, default: str, whole: bool = False) -> float:
    """A number above 0 from the environment (seconds, attempts), else BadInputError:
    a typo must not turn a timeout off or into a traceback."""
    value = os.environ.get(name) or default
    try:
        number = int(value) if whole else float(value)
    except ValueError:
        number = 0
    if not 0 < number < float("inf"):
        kind = "a whole number" if whole else "a number"
        raise BadInputError(f"bad {name} {value!r}: use {kind} above 0")
    return number


def check_branch(branch: str) -> str:
    """A name `git check-ref-format --branch` accepts (without running git)."""
    parts = branch.split("/") if isinstance(branch, str) else [""]
    if (not isinstance(branch, str) or not _BRANCH.match(branch) or ".." in branch
            or branch == "HEAD" or branch.endswith("/")
            or any(not p or p.startswith(".") or p.endswith((".lock", ".")) for p in parts)):
        raise BadInputError(f"bad branch name {branch!r}")
    return branch


def default_cache_dir() -> Path:
    """$PULSEOX_GIT_CACHE, else $XDG_CACHE_HOME/pulseox-git, else ~/.cache/pulseox-git."""
    if os.environ.get("PULSEOX_GIT_CACHE"):
        return Path(os.environ["PULSEOX_GIT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pulseox-git"


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The inherited environment without variables that redirect git, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not _GIT_ENV_DROP.match(k)}
    env.update({"GIT_TRACE_REDACT": "1", "LC_ALL": "C", "GIT_CONFIG_NOSYSTEM": "1"})
    env.update(extra or {})
    return env


def classify_failure(url: str, what: str, stderr: str) -> RemoteError:
    """Turn git's stderr about the remote into the right error, with no secrets."""
    text = stderr.lower()
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    fatal = [line.split(":", 1)[1].strip() for line in lines if line.startswith("fatal:")]
    detail = auth.redact((fatal or lines or ["no output from git"])[0])
    if any(marker in text for marker in _AUTH):
        return AuthError(f"authentication failed for {url} while trying to {what}")
    if any(marker in text for marker in _UNREACHABLE):
        return UnreachableError(f"cannot {what} {url}: {detail}")
    return RemoteError(f"could not {what} {url}: {detail}")


class GitStore:
    """A cached bare clone of one remote branch, and the commits we push to it."""

    def __init__(self, url: str, branch: str = "main", token: str | None = None,
                 cache_dir: str | os.PathLike | None = None, timeout: float | None = None,
                 push_attempts: int | None = None, blobless: bool | None = None) -> None:
        self.url = url
        self.branch = check_branch(branch)
        self.token = token
        self.cache_root = Path(cache_dir) if cache_dir else default_cache_dir()
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
        cmd = ["git", "--literal-pathspecs", *args]
        try:
            proc = subprocess.run(cmd, cwd=cwd or self.path, env=self._env, input=input,
                                  capture_output=True, timeout=self.timeout)
        except FileNotFoundError:
            raise GitMissingError("git is not installed or not on PATH") from None
        except subprocess.TimeoutExpired:
            what = f"git {args[0]}"
            error = UnreachableError if remote else CacheError
            raise error(f"{what} for {self.url} timed out after {self.timeout:g}s") from None
        if check and proc.returncode != 0:
            stderr = proc.stderr.decode("utf-8", "replace")
            self._check_disk(stderr)
            if remote:
                raise classify_failure(self.url, args[0], stderr)
            raise CacheError(f"git {args[0]} failed in the cache {self.path}: "
                             f"{auth.redact(stderr.strip())}")
        return proc

    def stream(self, *args: str, chunk: int = 1 << 20) -> Iterator[bytes]:
        """Run one git command and yield its stdout in chunks, for long outputs."""
        cmd = ["git", "--literal-pathspecs", *args]
        # stderr goes to a file, so a chatty git can never block on a full pipe
        errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
        try:
            proc = subprocess.Popen(cmd, cwd=self.path, env=self._env, stdout=subprocess.PIPE,
                                    stderr=errors)
        except FileNotFoundError:
            errors.close()
            raise GitMissingError("git is not installed or not on PATH") from None
        try:
            while data := proc.stdout.read(chunk):  # type: ignore[union-attr]
                yield data
            if proc.wait(timeout=self.timeout) != 0:
                errors.seek(0)
                stderr = errors.read().decode("utf-8", "replace")
                raise CacheError(f"git {args[0]} failed in the cache {self.path}: "
                                 f"{auth.redact(stderr.strip())}")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()  # type: ignore[union-attr]
            errors.close()

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
        lock_path = self.path.with_name(self.path.name + ".lock")
        wait = env_number("PULSEOX_LOCK_TIMEOUT", "600")
        with open(lock_path, "a+b") as handle:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise CacheLockedError(f"the cache {self.path} stayed locked for "
                                         f"{wait:g}s by another process") from None
                    time.sleep(0.02 + random.random() * 0.05)
            self._lock_owner = threading.get_ident()
            try:
                yield self
            finally:
                self._lock_owner = None
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _valid(self) -> bool:
        try:
            marker = json.loads((self.path / MARKER).read_text())
        except (OSError, ValueError):
            return False
        return (marker.get("url") == self.url and (self.path / "objects").is_dir()
                and (self.path / "config").is_file() and (self.path / "HEAD").is_file())

    def _sound(self) -> bool:
        """After a failed fetch: can git still read the cache's refs and config?"""
        refs = self.git("for-each-ref", check=False)
        url = self.git("config", "--get", "remote.origin.url", check=False)
        return refs.returncode == 0 and url.stdout.decode().strip() == self.url

    def _check_disk(self, stderr: str) -> None:
        """Raise DiskFullError when git failed for want of space."""
        for line in stderr.splitlines():
            if line.startswith("remote:") or "remote unpack" in line:
                continue  # the remote's disk, not ours: reported as a refused push
            if any(marker in line.lower() for marker in _DISK_FULL):
                detail = auth.redact(line.strip().removeprefix("fatal: "))
                raise DiskFullError(f"the disk holding the cache {self.cache_root} is full "
                                    f"({detail}); free some space or point PULSEOX_GIT_CACHE "
                                    "elsewhere, then run again")

    def _create(self) -> None:
        """Build a new cache in a temporary directory, then move it into place."""
        log.info("cloning %s into the cache", self.url)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".new-", dir=self.path.parent))
        try:
            self.git("init", "--quiet", "--bare", str(tmp), cwd=self.path.parent)
            origin = {"url": self.url, "fetch": f"+refs/heads/{self.branch}:{self.tracking}"}
            if self.blobless:  # fetch trees and commits; blobs only when read
                origin.update(promisor="true", partialclonefilter="blob:none")
            # appended in one write, not one `git config` per key (nor GitPython, whose
            # import alone costs more than the whole clone of a small repository)
            with open(tmp / "config", "a", encoding="utf-8") as config:
                config.write(_config_section('remote "origin"', origin)
                             + _config_section("gc", {"autoDetach": "false"})  # no gc after
                             + _config_section("maintenance", {"autoDetach": "false"})  # unlock
                             + _config_section("core", {"logAllRefUpdates": "false"})
                             + _config_section("fastimport", {"unpackLimit": "0"}))
            (tmp / MARKER).write_text(json.dumps({"url": self.url}))
            self._discard(self.path)
            os.rename(tmp, self.path)
        except BaseException as err:
            shutil.rmtree(tmp, ignore_errors=True)
            self._check_disk(str(getattr(err, "stderr", "")))
            raise

    def _discard(self, path: Path) -> None:
        if path.exists():
            trash = Path(tempfile.mkdtemp(prefix=".old-", dir=path.parent))
            os.rename(path, trash / "repo")
            shutil.rmtree(trash, ignore_errors=True)

    def _clear_stale_locks(self) -> None:
        """Git's own lock files can only be stale while we hold our lock."""
        for lock in [*self.path.glob("*.lock"), *self.path.glob("refs/**/*.lock"),
                     *self.path.glob("fast_import_crash_*"),  # left by failed commits
                     *self.path.glob("objects/pack/tmp_*")]:  # left by killed writers
            lock.unlink(missing_ok=True)

    def prepare(self) -> None:
        """Make sure a trustworthy cache exists (call with the lock held)."""
        if not self._valid():
            if self.path.exists():
                log.info("rebuilding the cache %s: it is incomplete or for another remote",
                         self.path)
            self._create()
        self._clear_stale_locks()
        for leftover in self.path.parent.glob(".old-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        # a new cache lives in .new-* for milliseconds: older ones are from killed runs
        for leftover in self.path.parent.glob(".new-*"):
            with suppress(OSError):
                if time.time() - leftover.stat().st_mtime > 600:
                    shutil.rmtree(leftover, ignore_errors=True)
        self._tidy()

    def _tidy(self) -> None:
        """Each commit leaves one small pack (fast-import keeps it instead of running
        `unpack-objects`, a second process per post); roll them up once there are
        many, so lookups stay fast and git's own gc never needs a full repack."""
        with suppress(OSError):
            packs = sum(n.endswith(".pack") for n in os.listdir(self.path / "objects" / "pack"))
            if packs > PACK_LIMIT:
                self.git("repack", "--geometric=2", "-d", "-q")

    def rebuild(self) -> None:
        log.info("rebuilding the damaged cache %s", self.path)
        self._discard(self.path)
        self._create()

    def fetch(self) -> str | None:
        """Bring the tracking ref up to the remote branch; the tip, or None if empty."""
        proc = self.git("fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "origin",
                        f"+refs/heads/{self.branch}:{self.tracking}", check=False, remote=True)
        self.reached = self.reached or proc.returncode == 0
        if proc.returncode != 0:
            stderr = proc.stderr.decode("utf-8", "replace")
            self._check_disk(stderr)
            if any(marker in stderr.lower() for marker in _CORRUPT) or not self._sound():
                raise CacheError(f"the cache {self.path} is damaged: {auth.redact(stderr)}")
            if "couldn't find remote ref" not in stderr.lower():
                raise classify_failure(self.url, "fetch from", stderr)
            self.reached = True
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
                self._check_disk(f"{err.strerror}: {err.filename}")
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
        `entries` are those of `_prefixes(paths)` at `tip`, when already read."""
        if entries is None:
            entries = self.entries(tip, _prefixes(paths))
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
        head, body = self._stream(parent, change)
        proc = self.git("fast-import", "--quiet", "--force", "--done", input=head + body)
        return proc.stdout.decode().split()[-1]

    def confine_and_commit(self, parent: str | None, change: Change) -> tuple[str, set[str]]:
        """`confine`, then `commit`: for a small change in ONE fast-import process
        (see `pulseox_git.fastimport`), else in two."""
        from pulseox_git import fastimport

        paths = list(change.files)
        prefixes = _prefixes(paths)
        if parent and fastimport.fits(prefixes):
            head, body = self._stream(parent, change)
            done = fastimport.ls_then_commit(
                self, head, body, prefixes, lambda found: self.confine(parent, paths, found))
            if done:
                return done
        existing = self.confine(parent, paths)
        return self.commit(parent, change), existing

    def _stream(self, parent: str | None, change: Change) -> tuple[bytes, bytes]:
        """fast-import's input for `change`: the commit's header, then its files."""
        stamp = f"{int(change.when.timestamp())} +0000"
        name = os.environ.get("GIT_COMMITTER_NAME", COMMITTER[0])
        email = os.environ.get("GIT_COMMITTER_EMAIL", COMMITTER[1])
        message = change.message.encode()
        chunks = [
            f"commit {PENDING_REF}\nmark :1\n".encode(),
            f"author {name} <{email}> {stamp}\ncommitter {name} <{email}> {stamp}\n".encode(),
            f"data {len(message)}\n".encode(), message, b"\n",
        ]
        if parent:
            chunks.append(f"from {parent}\n".encode())
        body = []
        for path, data in change.files.items():
            body += [b"M 100644 inline ", _quote(path), f"\ndata {len(data)}\n".encode(),
                     data, b"\n"]
        body.append(b"\nget-mark :1\ndone\n")
        return b"".join(chunks), b"".join(body)

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
        self._check_disk(out)
        if any(marker in out for marker in _RACE):
            self.reached = True
            return False
        rejected = re.search(r"\[remote rejected\][^\n]*", out)
        if rejected:
            raise RemoteError(f"the remote {self.url} refused the push: "
                              f"{auth.redact(rejected.group(0))}")
        ours = [line for line in out.lower().splitlines() if not line.startswith("remote:")]
        if any(marker in line for line in ours for marker in _CORRUPT):  # rebuilt by run()
            raise CacheError(f"the cache {self.path} is damaged: {auth.redact(out.strip())}")
        raise classify_failure(self.url, "push to", proc.stderr.decode("utf-8", "replace"))

    def publish(self, make_change: Callable[[GitStore, str | None], Change],
                dry_run: bool = False) -> Published:
        """Fetch, build a commit on the tip, push; on a race do it all again.

        `make_change(store, tip)` is called once per attempt, so what it
        writes always reflects the tip it is committed on.
        """
        delay = 0.05
        for attempt in range(1, self.push_attempts + 1):

            def build_and_push(tip: str | None, attempt: int = attempt) -> Published | None:
                change = make_change(self, tip)
                sha, existing = self.confine_and_commit(tip, change)
                created = tuple(p for p in change.files if p not in existing)
                changed = tuple(p for p in change.files if p in existing)
                result = Published(sha, tip, created, changed, attempt, dry_run, change.message)
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
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 2.0)
        raise PushConflictError(f"gave up pushing to {self.url} after {self.push_attempts} "
                                "attempts: others kept pushing first; nothing was lost remotely, "
                                "run the command again")


def _config_section(name: str, values: dict[str, str]) -> str:
    """Git config text; values quoted (URLs were checked to hold no control characters)."""
    quoted = {k: v.replace("\\", "\\\\").replace('"', '\\"') for k, v in values.items()}
    return f"[{name}]\n" + "".join(f'\t{k} = "{v}"\n' for k, v in quoted.items())


def _prefixes(paths: Sequence[str]) -> list[str]:
    """Every path and each of its parent folders, sorted."""
    return sorted({page.rsplit("/", i)[0] for page in paths for i in range(page.count("/") + 1)})


def _quote(path: str) -> bytes:
    """A fast-import path, C-quoted so any character is safe."""
    escaped = path.replace("\\", "\\\\").replace('"', '\\"')
    return b'"' + escaped.encode("utf-8", "surrogateescape") + b'"'


__all__ = ["Change", "GitStore", "Published", "PulseOxError", "UnreachableError", "remote_url"]
