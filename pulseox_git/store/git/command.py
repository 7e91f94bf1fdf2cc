"""Running git in a cache, and reading its failures.

`Git` is the one place a git process is started for a store (fast-import's
two-way talk aside), so every command gets the same clean environment,
timeout and error handling. git reports failures on stderr in words, not
codes; the markers here turn those words into our errors (unreachable,
refused, disk full, damaged cache), with any secret redacted.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from pulseox_git.errors import (
    AuthError,
    CacheError,
    DiskFullError,
    GitMissingError,
    RemoteError,
    UnreachableError,
)
from pulseox_git.store import auth

# Inherited variables that would point git at another repository or config.
_GIT_ENV_DROP = re.compile(
    r"^GIT_(DIR|WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|NAMESPACE|"
    r"COMMON_DIR|CONFIG_PARAMETERS|CONFIG_COUNT|CONFIG_KEY_\d+|CONFIG_VALUE_\d+|CURL_VERBOSE|"
    r"ASKPASS|PREFIX)$|^SSH_ASKPASS$"
)
RACE = (
    "fetch first",
    "non-fast-forward",
    "cannot lock ref",
    "failed to update ref",
    "stale info",
    "incorrect old value",
    "reference already exists",
)
_AUTH = (
    "authentication failed",
    "could not read username",
    "could not read password",
    "http 401",
    "http 403",
    "the requested url returned error: 401",
    "the requested url returned error: 403",
    "permission denied",
    "access denied",
)
CORRUPT = (
    "bad object",
    "corrupt",
    "object file",
    "unable to read",
    "not a git repository",
    "missing blob",
    "missing tree",
    "did not send all necessary objects",
    "bad pack",
    "invalid refspec",
)  # a config written for a bad branch by an older version
_DISK_FULL = ("no space left on device", "out of diskspace", "disk quota exceeded")
_UNREACHABLE = (
    "could not resolve",
    "failed to connect",
    "couldn't connect",
    "connection refused",
    "timed out",
    "timeout",
    "connection reset",
    "empty reply",
    "recv failure",
    "unable to access",
    "does not appear to be a git repository",
    "could not read from remote",
    "the remote end hung up",
    "operation too slow",
    "ssl",
    "http 5",
    "returned error: 5",
    "rpc failed",
    "early eof",
)


# Delta bases each git process keeps: git's 96 MB default makes one `git log
# --raw` of 100,000 commits peak at 200 MB; 32 MB, at 125 MB in the same time
# (the fetch's connectivity walk alike). As `git -c`, for every command.
DELTA_CACHE = "'core.deltaBaseCacheLimit=32m'"


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The inherited environment without variables that redirect git, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not _GIT_ENV_DROP.match(k)}
    env.update({"GIT_TRACE_REDACT": "1", "LC_ALL": "C", "GIT_CONFIG_NOSYSTEM": "1"})
    env["GIT_CONFIG_PARAMETERS"] = DELTA_CACHE
    env.update(extra or {})
    return env


_OPERATIONS = {"fetch": "fetch from", "push": "push to", "ls-remote": "list the branches of"}


def classify_failure(url: str, command: str, stderr: str) -> RemoteError:
    """Turn git's stderr about the remote into the right error, with no secrets; the
    message names the operation (`command`: fetch, push, ...) and the remote."""
    text = stderr.lower()
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    fatal = [line.split(":", 1)[1].strip() for line in lines if line.startswith("fatal:")]
    detail = auth.redact((fatal or lines or ["no output from git"])[0])
    what = _OPERATIONS.get(command, f"run git {command} against")
    if any(marker in text for marker in _AUTH):
        return AuthError(
            f"authentication failed for {url} while trying to {command}: check the token "
            "(PULSEOX_TOKEN, GITHUB_TOKEN or --token) and its access to the repository"
        )
    if any(marker in text for marker in _UNREACHABLE):
        return UnreachableError(f"cannot {what} {url}: {detail}")
    return RemoteError(f"could not {what} {url}: {detail}")


def check_disk(stderr: str, cache_root: Path) -> None:
    """Raise DiskFullError when git failed for want of space."""
    for line in stderr.splitlines():
        if line.startswith("remote:") or "remote unpack" in line:
            continue  # the remote's disk, not ours: reported as a refused push
        if any(marker in line.lower() for marker in _DISK_FULL):
            detail = auth.redact(line.strip().removeprefix("fatal: "))
            raise DiskFullError(
                f"the disk holding the cache {cache_root} is full "
                f"({detail}); free some space or point PULSEOX_GIT_CACHE "
                "elsewhere, then run again"
            )


def command_name(args: tuple[str, ...]) -> str:
    """The git command in `args`, past any `-c key=value` options: `fetch`."""
    rest = list(args)
    while len(rest) > 1 and rest[0] == "-c":
        rest = rest[2:]
    return rest[0] if rest else "git"


@dataclass(frozen=True)
class Git:
    """How to run git in one cache: where, with which environment and time limit.

    `git("fetch", ..., remote=True)` runs one command; failures become errors
    that name `url` and carry redacted stderr only.
    """

    path: Path  # the cached bare repository
    env: Mapping[str, str]
    timeout: float
    url: str  # the remote, for messages
    cache_root: Path  # the cache directory, for disk-full messages

    def __call__(
        self,
        *args: str,
        input: bytes | None = None,
        check: bool = True,
        cwd: Path | None = None,
        remote: bool = False,
    ) -> subprocess.CompletedProcess[bytes]:
        cmd = ["git", "--literal-pathspecs", *args]
        try:
            proc = subprocess.run(
                cmd,
                cwd=cwd or self.path,
                env=self.env,
                input=input,
                capture_output=True,
                timeout=self.timeout,
            )
        except FileNotFoundError:
            raise GitMissingError("git is not installed or not on PATH") from None
        except subprocess.TimeoutExpired:
            error = UnreachableError if remote else CacheError
            raise error(
                f"git {command_name(args)} for {self.url} timed out after {self.timeout:g}s"
            ) from None
        if check and proc.returncode != 0:
            stderr = proc.stderr.decode("utf-8", "replace")
            check_disk(stderr, self.cache_root)
            if remote:
                raise classify_failure(self.url, command_name(args), stderr)
            raise self.cache_error(command_name(args), stderr)
        return proc

    def stream(self, *args: str, chunk: int = 1 << 20) -> Iterator[bytes]:
        """Run one git command and yield its stdout in chunks, for long outputs."""
        cmd = ["git", "--literal-pathspecs", *args]
        # stderr goes to a file, so a chatty git can never block on a full pipe
        errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
        try:
            proc = subprocess.Popen(
                cmd, cwd=self.path, env=self.env, stdout=subprocess.PIPE, stderr=errors
            )
        except FileNotFoundError:
            errors.close()
            raise GitMissingError("git is not installed or not on PATH") from None
        assert proc.stdout is not None
        try:
            while data := proc.stdout.read(chunk):
                yield data
            if proc.wait(timeout=self.timeout) != 0:
                errors.seek(0)
                raise self.cache_error(command_name(args), errors.read().decode("utf-8", "replace"))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            errors.close()

    def cache_error(self, command: str, stderr: str) -> CacheError:
        return CacheError(
            f"git {command} failed in the cache {self.path}: {auth.redact(stderr.strip())}"
        )
