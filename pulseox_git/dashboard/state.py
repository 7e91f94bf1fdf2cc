"""The state file: what the last summary published, for the next one.

Per spec: the status (for the next Changes), since when it has had it and
when a notification about it was last due (for reminders). Committed with the
summary, so both are always against the summary the new one follows, even
when two refreshes race.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pulseox_git.dashboard.rules import Entry
from pulseox_git.page import format_time, parse_time

log = logging.getLogger("pulseox_git")
STATE_FILE = "pulseox-state.json"


def _time(moment: datetime | None) -> str | None:
    return format_time(moment) if moment else None


def statuses(entries: Sequence[Entry]) -> dict[str, dict[str, Any]]:
    """Each spec's published state, as the file keeps it (and `load_state` returns)."""
    return {
        e.spec.key: {
            "status": e.status,
            "report": e.report,
            "updated": _time(e.updated),
            "since": _time(e.since),
            "notified": _time(e.notified),
        }
        for e in entries
    }


def state_bytes(
    entries: Sequence[Entry], written: datetime, extra: Mapping[str, Any] | None = None
) -> bytes:
    """The state file; `extra`: more top-level keys (see `outputs.record`)."""
    state: dict[str, Any] = {
        **(extra or {}),
        "version": 1,
        "written": format_time(written),
        "statuses": statuses(entries),
    }
    return (json.dumps(state, indent=1, sort_keys=True) + "\n").encode()


def load_state(data: bytes | None) -> dict[str, dict[str, Any]]:
    """The statuses the last summary published; a damaged file counts as none."""
    if not data:
        return {}
    try:
        statuses = json.loads(data)["statuses"]
        return {k: v for k, v in statuses.items() if isinstance(v, dict)}
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("warning: %s is damaged; every status counts as new", STATE_FILE)
        return {}


def written_time(data: bytes | None) -> datetime | None:
    """When the state file was written: the last refresh that committed."""
    try:
        value = json.loads(data or b"null")
        written = value.get("written") if isinstance(value, dict) else None
    except ValueError:
        return None
    return stored_time({"written": written}, "written")


def stored_time(state: dict[str, Any], key: str) -> datetime | None:
    """A time from one spec's state (`since`, `notified`); None when absent or unreadable."""
    value = state.get(key)
    return parse_time(value) if isinstance(value, str) else None
