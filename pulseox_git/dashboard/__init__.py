"""The dashboard: reads every watched page, judges it, writes the summary back.

`board.PulseOxDashboard` runs a refresh. The rules it applies are pure and
live beside it: `specs` (what is watched, `pulseox.toml`), `schedule`
(durations and cron), `rules` (ERROR, MISSING, OK), `trends` (figures from the
whole history), `summary`, `statuspage` and `badges` (what is written),
`state` (what was published last), `notify` (who is told), `edit` (spec
changes as commits), `asof` (the past), `scaffold` (`init`).
"""

from pulseox_git.dashboard.board import PulseOxDashboard
from pulseox_git.dashboard.rules import STATUSES, Entry, Summary
from pulseox_git.dashboard.state import STATE_FILE

__all__ = ["STATE_FILE", "STATUSES", "Entry", "PulseOxDashboard", "Summary"]
