"""When a verdict becomes an alert: failure tolerance (`fail_after`,
`missing_after`), pauses and maintenance windows (pauses.py), dependencies
(depends.py) and reminders (`remind_every`), applied to the entries
`rules.classify` made; and the one message a refresh sends.

Pure and cheap per spec: it looks at most `fail_after` reports back in the
history the dashboard already read, and at most `missing_after` runs of the
schedule ahead, and glob-matches only failing specs against the holds in
force, so for 10,000 specs it costs a fraction of what classifying them does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from pulseox_git.dashboard import depends, groups, notify
from pulseox_git.dashboard.notifyconf import TAGS
from pulseox_git.dashboard.pauses import Holds
from pulseox_git.dashboard.rules import HELD, Entry, changes, format_when
from pulseox_git.dashboard.schedule import deadline
from pulseox_git.dashboard.specs import Settings
from pulseox_git.dashboard.state import stored_time
from pulseox_git.durations import brief
from pulseox_git.page import START
from pulseox_git.store.base import Report

KEEPS = ("OK", "MISSING")  # the sections a tolerated spec may stay in; else OK
ALERTING = ("ERROR", "MISSING")  # the statuses reminders repeat


def apply(
    entries: Sequence[Entry],
    now: datetime,
    settings: Settings,
    previous: dict[str, dict[str, Any]],
) -> list[Entry]:
    """Every entry after the alerting rules, in the same order (changed in place)."""
    holds = Holds(settings.pauses, settings.maintenance, now)
    for entry in entries:
        tolerate(entry, now, settings.zone)
        if holds and entry.status in ALERTING:
            hold_back(entry, holds, settings.tz)
        track(entry, previous.get(entry.spec.key, {}), now, settings.remind_every)
    depends.block(entries)
    return list(entries)


def tolerate(entry: Entry, now: datetime, zone: tzinfo) -> None:
    """Keep a spec out of ERROR before its `fail_after`th BAD report in a row, and
    out of MISSING before its `missing_after`th missed run. It stays where it was
    (OK, or MISSING if it was missing), with a note such as `1 of 3 failures
    tolerated`; a GOOD report ends the run of BADs, so the count starts again."""
    spec = entry.spec
    if entry.status == "ERROR" and entry.report == "BAD" and entry.problem is None:
        limit, what = spec.fail_after, "failures"
        count = consecutive_bad(entry.history, limit) if limit > 1 else limit
    elif entry.status == "MISSING" and entry.problem == "late" and entry.updated is not None:
        limit, what = spec.missing_after, "missed runs"
        alive = max(entry.updated, entry.running_since or entry.updated)
        count = missed_runs(spec.schedule, alive, now, spec.grace_period, zone, limit)
    else:
        return
    if count >= limit:
        return
    entry.tolerated = f"{count} of {limit} {what}"
    entry.status = entry.previous if entry.previous in KEEPS else "OK"
    entry.note = f"{entry.tolerated} tolerated" + (f": {entry.note}" if entry.note else "")


def hold_back(entry: Entry, holds: Holds, tz: str) -> None:
    """PAUSED instead of ERROR or MISSING while a pause or window holds the spec,
    with its reason and end time in the note."""
    hold = holds.find(entry.spec.path, entry.spec.key, entry.status)
    if hold is None:
        return
    until = f"until {format_when(hold.until, tz)}" if hold.until else "until resumed"
    word = "paused" if hold.kind == "pause" else "maintenance"
    by = f" by {hold.by}" if hold.by else ""
    why = f": {hold.reason}" if hold.reason else ""
    was = f"{entry.status}: {entry.note}" if entry.note else entry.status
    entry.status, entry.hold = HELD, hold
    entry.note = f"{word} {until}{by}{why} (would be {was})"


def consecutive_bad(history: Sequence[Report], limit: int) -> int:
    """BAD reports in a row at the newest end of `history` (start markers skipped),
    counted up to `limit`; at least 1 (the tip said BAD)."""
    count = 0
    for report in history:
        if report.report == START:
            continue
        if report.report != "BAD" or count >= limit:
            break
        count += 1
    return max(count, 1)


def missed_runs(
    schedule: timedelta | str,
    alive: datetime,
    now: datetime,
    grace: timedelta | None,
    zone: tzinfo,
    limit: int,
) -> int:
    """Scheduled runs after `alive` whose deadline (plus grace) has passed, up to `limit`."""
    count, due = 0, alive
    while count < limit:
        due = deadline(schedule, due, None, zone)
        if now <= due + (grace or timedelta(0)):
            break
        count += 1
    return count


def track(
    entry: Entry, state: dict[str, Any], now: datetime, remind_every: timedelta | None
) -> None:
    """Since when the entry has had its status, and whether a reminder is due:
    while it stays ERROR or MISSING, once `remind_every` (the spec's, else the
    dashboard's) has passed since the last notification, and not before."""
    if entry.changed:
        entry.since = now
        entry.notified = now if entry.status != HELD else stored_time(state, "notified")
        return
    entry.since = stored_time(state, "since") or now
    entry.notified = stored_time(state, "notified")
    every = entry.spec.remind_every or remind_every
    due = every is not None and now - (entry.notified or entry.since) >= every
    if due and entry.status in ALERTING:
        entry.reminder, entry.notified = True, now


MESSAGE_LINES = 100  # lines of one notification past its subject; Slack cuts at ~40,000 chars


def message(dashboard: str, entries: Sequence[Entry]) -> tuple[str, str] | None:
    """The subject and text of one notification about `entries`: their changes,
    worst first (a spec going PAUSED is not news), then their reminders; None
    when there is nothing to say."""
    changed = [e for e in changes(entries) if e.status != HELD]
    reminders = [e for e in entries if e.reminder]
    if not changed and not reminders:
        return None
    counted = [f"{len(changed)} status change(s)"] if changed else []
    counted += [f"{len(reminders)} reminder(s)"] if reminders else []
    subject = f"pulseox-git {dashboard}: {', '.join(counted)}"
    under, folded = fold([*changed, *reminders])
    per_folder: list[str] = []
    if groups.folded(len(entries)):  # a large dashboard: changes to OK counted per folder
        changed, per_folder = groups.ok_changes(changed, lambda e: e.status, lambda e: e.spec.key)
    lines = [subject]
    lines += [
        f"- {e.spec.key} {e.previous} --> {e.status} {e.note}".rstrip() + blocks(e, under)
        for e in changed
        if e.spec.key not in folded
    ]
    lines += per_folder
    lines += [
        f"- {e.spec.key} reminder: still {e.status} after {lasted(e)} {e.note}".rstrip()
        + blocks(e, under)
        for e in reminders
        if e.spec.key not in folded
    ]
    if len(lines) > MESSAGE_LINES + 1:  # chat services cut long messages off
        rest = len(lines) - 1 - MESSAGE_LINES
        lines[MESSAGE_LINES + 1 :] = [f"- ... and {rest} more: see the summary"]
    return subject, "\n".join(lines)


def fold(told: Sequence[Entry]) -> tuple[dict[str, list[Entry]], set[str]]:
    """The blocked entries of a message under their topmost blocked-by ancestor
    in it (by key), and the keys of all of them: one line names them all."""
    keys = {e.spec.key: e for e in told}
    found: dict[str, list[Entry]] = {}
    for entry in told:
        top, up = None, entry.blocked_by
        while up is not None and up in keys:
            top, up = up, keys[up].blocked_by
        if top is not None:
            found.setdefault(top, []).append(entry)
    return found, {e.spec.key for kids in found.values() for e in kids}


def blocks(entry: Entry, under: dict[str, list[Entry]]) -> str:
    kids = under.get(entry.spec.key, [])
    return f"; blocks {', '.join(e.spec.key for e in kids)}" if kids else ""


def lasted(entry: Entry) -> str:
    """How long the entry has had its status, as of this notification."""
    if entry.since is None or entry.notified is None:
        return "a while"
    return brief(entry.notified - entry.since)


def send(
    providers: dict[str, dict[str, Any]],
    dashboard: str,
    entries: Sequence[Entry],
    timeout: float,
) -> list[str]:
    """Tell every provider what changed and what is still wrong: a provider with
    a `tags` filter hears only about specs with one of its tags, one without
    hears everything. The failures, one line each."""
    failures = []
    for provider, kwargs in providers.items():
        wanted = set(kwargs.get(TAGS, ()))
        said = message(
            dashboard, [e for e in entries if wanted & set(e.spec.tags)] if wanted else entries
        )
        if said is not None:
            settings = {provider: {k: v for k, v in kwargs.items() if k != TAGS}}
            failures += notify.send(settings, said[1], timeout, said[0])
    return failures
