"""The watched watcher: the dashboard's own schedule, and a dead man's switch.

GitHub runs scheduled workflows late, and at busy times not at all, so a
dashboard that knows its schedule (`[dashboard] schedule`, which `init`
writes to match its workflow) says in the summary, the status page and
`--json` when it ran and how late that run was: for a cron schedule, against
the slot it ran for (the last scheduled time at or before it); for a duration,
against the previous run's time plus the duration.

`heartbeat_url_env = "VAR"` names the environment variable holding a URL (a
healthchecks.io ping URL, say) that gets one bounded HTTP GET after each
refresh that landed, so something outside notices when refreshes stop. The
URL is a secret: it is never printed, and a failure is only a warning.
"""

from __future__ import annotations

import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import urlsplit

from pulseox_git.dashboard.rules import format_when
from pulseox_git.dashboard.schedule import Schedule, describe
from pulseox_git.durations import brief
from pulseox_git.page import format_time

PING_BYTES = 4096  # read at most this much of the answer
log = logging.getLogger("pulseox_git")


@dataclass(frozen=True)
class RunRecord:
    """This refresh: when it ran, for which scheduled time, and how late."""

    ran: datetime
    schedule: Schedule
    due: datetime | None  # None: a duration schedule and no earlier run known

    @property
    def late(self) -> timedelta | None:
        return None if self.due is None else max(self.ran - self.due, timedelta(0))

    def line(self, tz: str) -> str:
        """`Dashboard ran ... UTC, 2m late (due ... UTC; schedule */15 * * * *)`."""
        ran = format_when(self.ran, tz)
        every = f"schedule {describe(self.schedule)}"
        late = self.late
        if late is None or self.due is None:
            return f"Dashboard ran {ran} ({every})"
        how = "on time" if late < timedelta(seconds=1) else f"{brief(late)} late"
        return f"Dashboard ran {ran}, {how} (due {format_when(self.due, tz)}; {every})"

    def to_json(self) -> dict[str, Any]:
        late = self.late
        return {
            "ran": format_time(self.ran),
            "schedule": describe(self.schedule),
            "due": format_time(self.due) if self.due else None,
            "late_seconds": int(late.total_seconds()) if late is not None else None,
        }


def run_record(
    schedule: Schedule | None, ran: datetime, previous: datetime | None, zone: tzinfo
) -> RunRecord | None:
    """This run against the schedule; None when the dashboard has none."""
    if schedule is None:
        return None
    if isinstance(schedule, timedelta):  # slots every `schedule` from the last commit's run
        if previous is None or previous > ran:
            return RunRecord(ran, schedule, None)
        slots = max(1, (ran - previous) // schedule)  # a run before its slot is on time
        return RunRecord(ran, schedule, previous + slots * schedule)
    from croniter import croniter

    slot: datetime = croniter(schedule, (ran + timedelta(seconds=1)).astimezone(zone)).get_prev(
        datetime
    )
    return RunRecord(ran, schedule, slot)


def ping(variable: str | None, timeout: float) -> str | None:
    """One GET to the URL in `variable`; a warning (without the URL), logged and
    returned, when it fails."""
    failure = _ping(variable, timeout)
    if failure:
        log.warning("warning: %s", failure)
    return failure


def _ping(variable: str | None, timeout: float) -> str | None:
    if variable is None:
        return None
    url = os.environ.get(variable, "")
    if not url:
        return f"heartbeat: environment variable {variable} is not set, so nothing was pinged"
    try:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError("not an http(s) URL")
        request = urllib.request.Request(url, headers={"User-Agent": "pulseox-git"})
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            answer.read(PING_BYTES)
        return None
    except urllib.error.HTTPError as err:
        reason = f"HTTP {err.code}"
    except (OSError, ValueError) as err:
        detail = getattr(err, "reason", None) or err
        reason = f"{type(err).__name__}: {detail}"
    return f"heartbeat ping to ${variable} failed: {hide(reason, url)}"


def hide(text: str, url: str) -> str:
    """`text` without the URL or any part of it that could carry its secret."""
    parts = urlsplit(url)
    for secret in sorted({url, parts.netloc, parts.path, parts.query}, key=len, reverse=True):
        if len(secret) > 1:
            text = text.replace(secret, "***")
    return text
