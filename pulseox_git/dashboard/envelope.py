"""The `--json` envelope of a refresh: versioned, so scripts can rely on its shape."""

from __future__ import annotations

from typing import Any

from pulseox_git.dashboard.pauses import Holds
from pulseox_git.dashboard.rules import Summary
from pulseox_git.dashboard.specs import Settings
from pulseox_git.dashboard.watcher import RunRecord
from pulseox_git.store.base import Published


def envelope(
    dashboard: str,
    summary: Summary,
    published: Published | None,
    run: RunRecord | None,
    settings: Settings,
) -> dict[str, Any]:
    """Every spec of `summary`, the commit that published it (None for a dry run
    or no commit), how the run kept to its schedule, and the holds in force."""
    holds = Holds(settings.pauses, settings.maintenance, summary.generated)
    return {
        "version": 1,
        "dashboard": dashboard,
        "generated": summary.generated.isoformat(),
        "commit": published.sha if published and not published.dry_run else None,
        "dry_run": bool(published and published.dry_run),
        "dashboard_run": run.to_json() if run else None,
        "holds": holds.to_json(),
        "specs": [entry.as_json() for entry in summary.entries],
    }
