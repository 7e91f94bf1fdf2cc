"""One error hierarchy; each error knows the exit code the CLI gives it."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1  # talking to the remote or to git failed
EXIT_USAGE = 2  # bad usage or bad input; nothing was changed
EXIT_GATE = 3  # `dashboard refresh --fail-on` found a spec in a named section


class PulseOxError(Exception):
    """Base of every error pulseox-git raises on purpose."""

    exit_code = EXIT_FAILURE


class BadInputError(PulseOxError, ValueError):
    """The caller gave a value we refuse; the message names it."""

    exit_code = EXIT_USAGE


class RemoteError(PulseOxError):
    """Git or the remote failed: unreachable, refused, or timed out."""


class AuthError(RemoteError):
    """The remote rejected our credentials."""


class PushConflictError(RemoteError):
    """Others kept pushing first and our retries ran out."""


class CacheError(PulseOxError):
    """The local cache could not be used or rebuilt."""
