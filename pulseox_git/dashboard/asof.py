"""The dashboard as it stood: every repository read at a past commit or time.

For incident reviews. A revision names a commit of the dashboard's branch;
its commit time is then "now", and every other repository is read at its
last commit by that time, so late pages and trend windows are as they were.
"""

from __future__ import annotations

import re
from datetime import datetime

from pulseox_git.errors import BadInputError
from pulseox_git.page import parse_time
from pulseox_git.store.base import Store


def parse_as_of(value: str) -> datetime | str:
    """An aware time (ISO-8601; naive means UTC) or a revision name to resolve."""
    text = value.strip() if isinstance(value, str) else ""
    if not text or text.startswith("-") or any(ord(c) < 32 for c in text):
        raise BadInputError(
            f"bad --as-of {value!r}: use a commit (abc1234, HEAD~3) or a time (2026-05-01T12:00Z)"
        )
    moment = parse_time(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    if moment is None and re.match(r"\d{4}-\d\d-\d\d", text):  # a date, not a revision
        raise BadInputError(f"bad --as-of {value!r}: not a valid time; use 2026-05-01T12:00Z")
    return moment or text


class AsOf:
    """Which commit each repository is read at. The dashboard's own repository is
    pinned first; a revision there sets the time the others are read at."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.point = parse_as_of(value)
        self.time: datetime | None = self.point if isinstance(self.point, datetime) else None

    def pin(self, store: Store, tip: str | None, own: bool) -> str | None:
        """The commit of `store`'s branch (fetched up to `tip`) to read."""
        if own or self.time is None:
            sha, self.time = store.commit_at(tip, self.point)
            return sha
        return store.commit_at(tip, self.time)[0]
