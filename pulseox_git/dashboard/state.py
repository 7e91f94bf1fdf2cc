"""The state file: the statuses the last summary published, for the next Changes.

Committed with the summary, so Changes are always against the summary the
new one follows, even when two refreshes race.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pulseox_git.dashboard.rules import Entry
from pulseox_git.page import format_time

log = logging.getLogger("pulseox_git")
STATE_FILE = "pulseox-state.json"


def state_bytes(
    entries: Sequence[Entry], written: datetime, extra: Mapping[str, Any] | None = None
) -> bytes:
    """The state file; `extra`: more top-level keys (see `outputs.record`)."""
    state: dict[str, Any] = {
        **(extra or {}),
        "version": 1,
        "written": format_time(written),
        "statuses": {
            e.spec.key: {
                "status": e.status,
                "report": e.report,
                "updated": format_time(e.updated) if e.updated else None,
            }
            for e in entries
        },
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
