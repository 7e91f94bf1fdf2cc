"""Every spec's verdict from what the dashboard read: classify (rules.py), the
trend figures, then the alerting rules (tolerance, holds, dependencies,
reminders). Pure: the reads and the previous statuses come in, entries go out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pulseox_git.dashboard import alerting
from pulseox_git.dashboard.rules import Entry, classify
from pulseox_git.dashboard.specs import PulseOxSpec, Settings
from pulseox_git.dashboard.trends import trend
from pulseox_git.errors import BadInputError
from pulseox_git.store.base import History

Repo = tuple[str, str]  # owner, repo
Read = tuple[str | None, dict[str, bytes], History]  # tip, pages, history


def judge(
    specs: Sequence[PulseOxSpec],
    read: Mapping[Repo, Read],
    failures: Mapping[Repo, str],
    previous: dict[str, dict[str, Any]],
    now: datetime,
    settings: Settings,
) -> list[Entry]:
    """One entry per spec, in spec order; a spec whose repository could not be read
    is ERROR with the reason."""
    entries = []
    for spec in specs:
        _tip, pages, history = read[(spec.owner, spec.repo)]
        failure = failures.get((spec.owner, spec.repo))
        if failure:
            entry = Entry(spec, "ERROR", failure, problem="unreadable")
        else:
            entry = classify(spec, pages.get(spec.path), history.get(spec.path, []), now, settings)
        entry.previous = previous.get(spec.key, {}).get("status")
        try:
            entry.trend = trend(
                entry.history, spec.schedule, now, settings.trends, spec.grace_period, settings.zone
            )
        except BadInputError:  # a cron with no next time: classify said so already
            entry.trend = None
        entries.append(entry)
    return alerting.apply(entries, now, settings, previous)
