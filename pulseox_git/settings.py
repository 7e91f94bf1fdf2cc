"""Settings read from the environment: every `PULSEOX_*` variable, in one place.

Unattended jobs are configured by their environment, so a typo there must not
quietly switch a timeout off or end in a traceback: every number goes through
one parser and is refused with one message style (exit 2), naming the
variable and the value. A value given in Python (`GitStore(timeout=...)`)
wins over the environment, which wins over the default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pulseox_git.errors import BadInputError


@dataclass(frozen=True)
class Number:
    """A positive number (seconds, attempts) from `name`, else `default`."""

    name: str
    default: float
    what: str  # how a value given in Python is named in an error
    whole: bool = False
    below: float = float("inf")  # an upper bound, exclusive

    def get(self, given: float | None = None) -> float:
        """`given` when it is not None (a number, checked the same way), else the
        environment's value, else the default."""
        if given is not None:
            number = (
                given if isinstance(given, (int, float)) and not isinstance(given, bool) else None
            )
            return self._check(number, given, self.what)
        value = os.environ.get(self.name) or ""
        if not value:
            return self.default
        try:
            number = int(value) if self.whole else float(value)
        except ValueError:
            number = None
        return self._check(number, value, self.name)

    def get_int(self, given: int | None = None) -> int:
        return int(self.get(given))

    def _check(self, number: float | None, value: object, label: str) -> float:
        if number is None or not 0 < number < self.below or (self.whole and number != int(number)):
            kind = "a whole number" if self.whole else "a number"
            bound = f" and below {self.below:g}" if self.below < float("inf") else ""
            raise BadInputError(f"bad {label} {value!r}: use {kind} above 0{bound}")
        return number


GIT_TIMEOUT = Number("PULSEOX_GIT_TIMEOUT", 120, "git timeout")  # seconds per git process
GIT_STALL = Number("PULSEOX_GIT_STALL_SECONDS", 30, "stall time", whole=True)  # under 1 kB/s
LOCK_TIMEOUT = Number("PULSEOX_LOCK_TIMEOUT", 600, "lock timeout")  # another process's lock
PUSH_ATTEMPTS = Number("PULSEOX_PUSH_ATTEMPTS", 30, "push attempts", whole=True)
PUSH_DEADLINE = Number("PULSEOX_PUSH_DEADLINE", 30, "push deadline")  # seconds of retrying
API_TIMEOUT = Number("PULSEOX_API_TIMEOUT", 30, "API timeout")  # seconds per request
API_MAX_WAIT = Number("PULSEOX_API_MAX_WAIT", 60, "API wait")  # rate-limit waits per request
NOTIFY_TIMEOUT = Number("PULSEOX_NOTIFY_TIMEOUT", 30, "notify timeout", below=86400)
# repositories a dashboard reads at once (git fetches, or API reads)
FETCH_CONCURRENCY = Number("PULSEOX_FETCH_CONCURRENCY", 8, "fetch concurrency", whole=True)
# API requests in flight at once, per process: GitHub allows at most 100 concurrent
# requests and asks for few (README: Concurrent reads)
API_CONCURRENCY = Number("PULSEOX_API_CONCURRENCY", 4, "API concurrency", whole=True, below=101)

COMMITTER = ("pulseox-git", "pulseox-git@users.noreply.github.com")


def text(name: str) -> str | None:
    """A variable's value, or None when unset or empty."""
    return os.environ.get(name) or None


def flag(name: str) -> bool:
    return (os.environ.get(name) or "").lower() in ("1", "true", "yes")


def inbox() -> bool:
    """$PULSEOX_INBOX: 0 stops posts queueing in inbox refs (they retry until the
    attempts or the deadline run out, as before queued posts); default on."""
    value = os.environ.get("PULSEOX_INBOX") or "1"
    if value.lower() not in ("0", "1", "true", "false", "yes", "no"):
        raise BadInputError(f"bad PULSEOX_INBOX {value!r}: use 1 or 0")
    return value.lower() in ("1", "true", "yes")


def cache_dir() -> Path:
    """$PULSEOX_GIT_CACHE, else $XDG_CACHE_HOME/pulseox-git, else ~/.cache/pulseox-git."""
    if text("PULSEOX_GIT_CACHE"):
        return Path(os.environ["PULSEOX_GIT_CACHE"])
    base = text("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pulseox-git"


def remote_template() -> str | None:
    """$PULSEOX_GIT_REMOTE: a git URL template with {owner} and {repo}."""
    return text("PULSEOX_GIT_REMOTE")


def api_url() -> str | None:
    return text("PULSEOX_API_URL")


def token() -> str | None:
    """$PULSEOX_TOKEN, else $GITHUB_TOKEN (what GitHub Actions provides)."""
    return text("PULSEOX_TOKEN") or text("GITHUB_TOKEN")


def blobless() -> bool:
    """$PULSEOX_GIT_BLOBLESS (default on; 0 turns it off): caches as partial clones
    without old page contents, so a cold clone costs the same however many
    dashboard commits (each rewriting the status page) have piled up."""
    return switch("PULSEOX_GIT_BLOBLESS", default=True)


def switch(name: str, default: bool) -> bool:
    """An on/off setting: 1/true/yes or 0/false/no; anything else is refused."""
    value = (os.environ.get(name) or "").strip().lower()
    if not value:
        return default
    if value not in ("1", "true", "yes", "0", "false", "no"):
        raise BadInputError(f"bad {name} {os.environ[name]!r}: use 1 or 0")
    return value in ("1", "true", "yes")


def committer() -> tuple[str, str]:
    """Who commits: git's own GIT_COMMITTER_NAME/EMAIL when set, else pulseox-git."""
    return (text("GIT_COMMITTER_NAME") or COMMITTER[0], text("GIT_COMMITTER_EMAIL") or COMMITTER[1])


def has_ssh_command() -> bool:
    return "GIT_SSH_COMMAND" in os.environ
