"""Every error pulseox-git raises on purpose, and the exit code each one means.

The library raises; only the CLI turns an error into one `error:` line and
its exit code. The codes are documented in the README's exit-code table.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a `pulseox-git` process exits with."""

    OK = 0
    FAILURE = 1  # talking to the remote or to git failed
    USAGE = 2  # bad usage or bad input; nothing was changed
    GATE = 3  # `dashboard refresh --fail-on` found a spec in a named section
    INTERRUPTED = 130  # Ctrl-C or SIGTERM: 128 + SIGINT, as shells report it


class PulseOxError(Exception):
    """Base of every error pulseox-git raises on purpose."""

    exit_code = ExitCode.FAILURE


class BadInputError(PulseOxError, ValueError):
    """The caller gave a value we refuse; the message names it."""

    exit_code = ExitCode.USAGE


class RemoteError(PulseOxError):
    """Git or the remote failed: unreachable, refused, or timed out."""


class AuthError(RemoteError):
    """The remote rejected our credentials."""


class PushConflictError(RemoteError):
    """Others kept pushing first and our retries ran out."""


class UnreachableError(RemoteError):
    """The git remote could not be reached at all (a transport problem, not a refusal):
    the one failure after which `--transport auto` may fall back to the API."""


class GitMissingError(UnreachableError):
    """No git executable on PATH."""


class UnreachableApiError(RemoteError):
    """The GitHub API could not be reached at all."""


class RateLimitError(RemoteError):
    """GitHub's rate limit asked us to wait longer than we are allowed to."""


class CacheError(PulseOxError):
    """The local cache could not be used or rebuilt."""


class CacheLockedError(PulseOxError):
    """Another process held the cache lock for too long."""


class DiskFullError(PulseOxError):
    """The disk under the cache is full: not damage, so the cache is kept, not rebuilt."""


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM reached the CLI. A BaseException, so no `except Exception`
    on the way out swallows it; the CLI says what had landed, and exits 130."""

    exit_code = ExitCode.INTERRUPTED


class NotifyError(PulseOxError):
    """One notifier could not be told; the message holds no secret. Reported as a
    warning, because the summary is already committed when notifying starts."""
