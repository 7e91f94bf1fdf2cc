"""The files a refresh owns: which it wrote last time, so it can delete those it no
longer writes (a removed spec's badge, the summary of the mode no longer used).

The list lives in the state file (`outputs`), committed with the files it
names, so it always describes the tip it was read from. Only paths the
dashboard wrote itself are ever deleted: never the spec file, the state file, a
watched page or a file someone else added. A state file written before this
list existed names no outputs; then the badges of the specs it names are the
only candidates (`badges/` is the dashboard's own folder).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pulseox_git.dashboard.specs import SPEC_FILE
from pulseox_git.dashboard.state import STATE_FILE
from pulseox_git.dashboard.statuspage import badge_path
from pulseox_git.page import parse_time

NEVER = frozenset({SPEC_FILE, STATE_FILE})


@dataclass(frozen=True)
class Record:
    """What the state file at a tip says about the refresh that wrote it."""

    outputs: frozenset[str] = frozenset()  # the files it wrote (besides NEVER)
    digest: str | None = None  # of its time-free content (see `heartbeat`)
    written: datetime | None = None  # when it was written


def load_record(data: bytes | None, own: tuple[str, str]) -> Record:
    """The record in a state file; a damaged or missing one is an empty record."""
    try:
        state = json.loads(data or b"{}")
        if not isinstance(state, dict):
            return Record()
        outputs = state.get("outputs")
        if not isinstance(outputs, list):  # written before the list existed
            keys = state.get("statuses") or {}
            outputs = [_legacy_badge(key, own) for key in keys if isinstance(key, str)]
        written = state.get("written")
        digest = state.get("digest")
        return Record(
            frozenset(p for p in outputs if isinstance(p, str)),
            digest if isinstance(digest, str) else None,
            parse_time(written) if isinstance(written, str) else None,
        )
    except (ValueError, TypeError):
        return Record()


def _legacy_badge(key: str, own: tuple[str, str]) -> str:
    """A spec key `owner/repo:path` -> its badge's path."""
    where, _, path = key.partition(":")
    owner, _, repo = where.partition("/")
    return badge_path(owner, repo, path, own)


def record(outputs: Iterable[str], digest: str) -> dict[str, Any]:
    """The state file's keys for a refresh writing `outputs`."""
    return {"outputs": sorted(set(outputs) - NEVER), "digest": digest}


def stale(
    previous: Record, written: Mapping[str, bytes], watched: Iterable[str]
) -> tuple[str, ...]:
    """Paths the last refresh wrote that this one does not: delete them."""
    keep = set(written) | NEVER | set(watched)
    return tuple(sorted(p for p in previous.outputs if p not in keep))
