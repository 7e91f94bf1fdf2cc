"""Pauses and maintenance windows: times when a failing spec is PAUSED, not ERROR
or MISSING, and nobody is told.

Both live in `pulseox.toml`, so each is a commit with an author, a time and a
reason. A `[[pause]]` (from `spec pause`) holds the specs its path glob
matches until its `until` time, or until `spec resume`; an expired one simply
stops counting. A `[[maintenance]]` window starts at each time of its cron
string (read in its own zone) and lasts its duration of real time, so a
window over midnight or over a DST change ends when the clock says it should.
A glob matches a spec's path (`jobs/*`) or its key (`acme/db:jobs/*`);
`fnmatch` rules, so `*` also matches `/`.

Pure. `Holds` works out the active windows once per refresh, so holding
10,000 specs costs one glob match per failing spec and active hold.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any
from zoneinfo import ZoneInfo

from pulseox_git.dashboard.schedule import check_cron, check_cron_runs, describe
from pulseox_git.durations import parse_positive
from pulseox_git.errors import BadInputError
from pulseox_git.page import format_time, parse_time

_PAUSE_KEYS = {"path", "until", "reason", "by", "since"}
_WINDOW_KEYS = {"start", "duration", "tz", "paths", "reason"}


def check_glob(glob: object) -> str:
    """A path glob: not empty, no control characters or edge spaces, brackets closed."""
    bad = not isinstance(glob, str) or not glob or glob != glob.strip()
    if isinstance(glob, str) and not bad:
        bad = any(ord(c) < 32 or ord(c) == 127 or c in "\u2028\u2029\x85" for c in glob)
        bad = bad or glob.startswith("/") or not _brackets_closed(glob)
    if bad:
        raise BadInputError(
            f"bad path glob {glob!r}: use a page path or a pattern such as 'jobs/*' "
            "or 'acme/db:jobs/*.md' (brackets closed, no leading /)"
        )
    assert isinstance(glob, str)
    return glob


def _brackets_closed(glob: str) -> bool:
    i = 0
    while i < len(glob):
        if glob[i] == "[":
            close = glob.find("]", i + 2 if glob[i + 1 : i + 2] in ("!", "]") else i + 1)
            if close < 0:
                return False
            i = close
        i += 1
    return True


def matches(glob: str, path: str, key: str) -> bool:
    return fnmatchcase(path, glob) or fnmatchcase(key, glob)


def check_reason(reason: object, what: str) -> str:
    if not isinstance(reason, str) or any(c in reason for c in "\r\n\x00\u2028\u2029\x85"):
        raise BadInputError(f"bad {what} reason {reason!r}: give one line of text")
    return reason


def _time(value: object, what: str) -> datetime:
    moment = parse_time(value) if isinstance(value, str) else None
    if moment is None:
        raise BadInputError(f"bad {what} {value!r}: use an ISO 8601 time such as 2026-05-01T18:00Z")
    return moment


@dataclass(frozen=True)
class Hold:
    """Why a failing spec is PAUSED: a pause or a window, its reason and end."""

    kind: str  # "pause" or "maintenance"
    reason: str
    until: datetime | None  # None: until `spec resume`
    by: str = ""
    would_be: str = ""  # the status it would have: ERROR or MISSING

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "reason": self.reason,
            "until": format_time(self.until) if self.until else None,
            "by": self.by or None,
            "would_be": self.would_be,
        }


@dataclass(frozen=True)
class Pause:
    """`spec pause`: specs matching `path` are held until `until` (None: until resumed)."""

    path: str
    until: datetime | None = None
    reason: str = ""
    by: str = ""
    since: datetime | None = None  # when it was made

    def __post_init__(self) -> None:
        check_glob(self.path)
        check_reason(self.reason, "pause")
        check_reason(self.by, "pause 'by'")

    def active(self, now: datetime) -> bool:
        return self.until is None or now < self.until

    def describe(self, show: Any = format_time) -> str:
        """`jobs/* until 2026-05-01 18:00:00 UTC by alice: deploy`, for `spec list`."""
        until = f" until {show(self.until)}" if self.until else " until resumed"
        by = f" by {self.by}" if self.by else ""
        return f"{self.path}{until}{by}" + (f": {self.reason}" if self.reason else "")

    def to_table(self) -> dict[str, str]:
        table = {"path": self.path}
        if self.until is not None:
            table["until"] = format_time(self.until)
        table.update((k, v) for k, v in (("reason", self.reason), ("by", self.by)) if v)
        if self.since is not None:
            table["since"] = format_time(self.since)
        return table

    @classmethod
    def from_table(cls, table: object, where: str) -> Pause:
        fields = _fields(table, where, _PAUSE_KEYS, {"path"})
        try:
            return cls(
                fields["path"],
                _time(fields["until"], "until") if "until" in fields else None,
                fields.get("reason", ""),
                fields.get("by", ""),
                _time(fields["since"], "since") if "since" in fields else None,
            )
        except BadInputError as err:
            raise BadInputError(f"{where}: {err}") from None


@dataclass(frozen=True)
class Window:
    """`[[maintenance]]`: from each `start` (cron, in `tz`) for `duration`."""

    start: str
    duration: timedelta
    tz: str = "UTC"
    paths: tuple[str, ...] = ()  # globs; none: every spec
    reason: str = ""

    def __post_init__(self) -> None:
        from pulseox_git.dashboard.specs import check_zone

        object.__setattr__(self, "start", check_cron_runs(check_cron(self.start)))
        object.__setattr__(self, "duration", parse_positive(self.duration, "maintenance duration"))
        check_zone(self.tz)
        object.__setattr__(self, "paths", tuple(check_glob(g) for g in self.paths))
        check_reason(self.reason, "maintenance")

    def end(self, now: datetime) -> datetime | None:
        """The end of the window `now` is in, or None. A window is in force from its
        start (inclusive) for `duration` of real time."""
        from croniter import croniter

        zone = ZoneInfo(self.tz)
        since = (now - self.duration).astimezone(zone)
        begin: datetime = croniter(self.start, since).get_next(datetime)
        if begin > now:
            return None
        # in UTC: aware arithmetic in a zone is wall-clock time, wrong over a DST change
        return begin.astimezone(UTC) + self.duration

    def describe(self) -> str:
        """`0 2 * * 0 for 2h Europe/Paris on jobs/db*: upgrade`, for `spec list`."""
        on = f" on {', '.join(self.paths)}" if self.paths else ""
        why = f": {self.reason}" if self.reason else ""
        return f"{self.start} for {describe(self.duration)} {self.tz}{on}{why}"

    def to_table(self) -> dict[str, Any]:
        table: dict[str, Any] = {
            "start": self.start,
            "duration": describe(self.duration),
            "tz": self.tz,
        }
        if self.paths:
            table["paths"] = list(self.paths)
        if self.reason:
            table["reason"] = self.reason
        return table

    @classmethod
    def from_table(cls, table: object, where: str) -> Window:
        fields = _fields(table, where, _WINDOW_KEYS, {"start", "duration"}, lists={"paths"})
        try:
            return cls(
                fields["start"],
                fields["duration"],
                fields.get("tz", "UTC"),
                tuple(fields.get("paths", ())),
                fields.get("reason", ""),
            )
        except BadInputError as err:
            raise BadInputError(f"{where}: {err}") from None


def _fields(
    table: object, where: str, keys: Set[str], needed: Set[str], lists: Set[str] = frozenset()
) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise BadInputError(f"{where}: not a table")
    unknown = set(table) - keys
    if unknown:
        raise BadInputError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    missing = needed - set(table)
    if missing:
        raise BadInputError(f"{where}: no {sorted(missing)[0]}")
    for key, value in table.items():
        ok = isinstance(value, list) if key in lists else isinstance(value, str)
        if not ok:
            kind = "a list of globs" if key in lists else "a string"
            raise BadInputError(f"{where}: {key} must be {kind}, not {value!r}")
    return dict(table)


@dataclass
class Holds:
    """The pauses and windows in force at `now`, worked out once per refresh."""

    pauses: Sequence[Pause]
    windows: Sequence[Window]
    now: datetime
    _active: list[tuple[Window, datetime]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pauses = [p for p in self.pauses if p.active(self.now)]
        for window in self.windows:
            end = window.end(self.now)
            if end is not None:
                self._active.append((window, end))

    def __bool__(self) -> bool:
        return bool(self.pauses or self._active)

    def to_json(self) -> list[dict[str, Any]]:
        """The pauses and windows in force, for `--json` (whether or not they hold a
        failing spec)."""
        found: list[dict[str, Any]] = [
            {
                "kind": "pause",
                "paths": [p.path],
                "reason": p.reason,
                "by": p.by or None,
                "until": format_time(p.until) if p.until else None,
            }
            for p in self.pauses
        ]
        found += [
            {
                "kind": "maintenance",
                "paths": list(w.paths),
                "reason": w.reason,
                "by": None,
                "until": format_time(end),
            }
            for w, end in self._active
        ]
        return found

    def find(self, path: str, key: str, would_be: str) -> Hold | None:
        """The first pause, else window, that holds the spec; None if none does."""
        for pause in self.pauses:
            if matches(pause.path, path, key):
                return Hold("pause", pause.reason, pause.until, pause.by, would_be)
        for window, end in self._active:
            if not window.paths or any(matches(g, path, key) for g in window.paths):
                return Hold("maintenance", window.reason, end, "", would_be)
        return None


def parse_until(value: str | None, now: datetime) -> datetime | None:
    """`--until`: a duration from now (`2h`) or a time (`2026-05-01T18:00Z`), in the
    future; None for a pause until `spec resume`."""
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else ""
    moment: datetime | None
    try:
        moment = now + parse_positive(text, "--until")
    except BadInputError:
        moment = parse_time(text) if text[:1].isdigit() and len(text) > 8 else None
    if moment is None or moment <= now:
        raise BadInputError(
            f"bad --until {value!r}: use a time to come, such as 2026-05-01T18:00Z, "
            "or a duration such as 2h"
        )
    return moment.replace(microsecond=0)
