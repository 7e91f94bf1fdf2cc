"""Commit only when something changed, and a heartbeat when nothing has for a while.

A refresh every 15 minutes that committed every time would add 35,040 commits
a year, each rewriting the status page and every badge. Instead the state
file keeps a digest of what a refresh shows apart from times and ageing
figures (each spec's status, report, problem and last commit, the spec file,
the files written): a refresh with the same digest commits nothing, unless
the last commit is older than the heartbeat. A heartbeat commit writes only
the summary (its `updated` line is the liveness signal) and the state file,
so it adds a few hundred bytes, not the whole status page.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from pulseox_git.dashboard.outputs import Record
from pulseox_git.dashboard.rules import Entry
from pulseox_git.dashboard.state import STATE_FILE
from pulseox_git.page import format_time


def digest(entries: Sequence[Entry], paths: Iterable[str], config: bytes, *extra: str) -> str:
    """What a refresh shows, without its times and ageing figures (a note such as
    `running for 3h` ages; the status it explains does not)."""
    specs = [
        [
            e.spec.key,
            e.status,
            e.report,
            e.problem,
            format_time(e.updated) if e.updated else None,
            format_time(e.running_since) if e.running_since else None,
            e.history[0].commit if e.history else None,
            format_time(e.since) if e.since else None,  # a new status,
            format_time(e.notified) if e.notified else None,  # or a reminder sent
        ]
        for e in entries
    ]
    shown = json.dumps([specs, sorted(paths), list(extra)], separators=(",", ":"))
    return hashlib.sha256(config + b"\0" + shown.encode()).hexdigest()


def choose(
    files: Mapping[str, bytes],
    previous: Record,
    mark: str,
    now: datetime,
    every: timedelta,
    light: Iterable[str],
) -> dict[str, bytes] | None:
    """The files to commit: all of them when the digest `mark` differs from the
    last refresh's; only `light` ones (summary, report) and the state file when
    it is the same but the heartbeat is due; None when nothing is due."""
    if mark != previous.digest or previous.written is None:
        return dict(files)
    if now - previous.written < every:
        return None
    return {p: files[p] for p in [*light, STATE_FILE] if p in files}
