"""What a dashboard watches (PulseOxSpec) and how (Settings), kept in the
dashboard repository as `pulseox.toml` (its [notify] tables: notifyconf.py;
[[pause]] and [[maintenance]]: pauses.py).

Everything is checked when it is made, so a bad spec never reaches a commit.
Secrets (webhook URLs, tokens) are never stored: the file names the
environment variable that holds each one (`webhook_url_env = "SLACK_URL"`).
`edit` changes the file in the repository as one commit.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import InitVar, dataclass, field
from datetime import timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomli_w

from pulseox_git.dashboard.depends import check_depends, check_graph, written
from pulseox_git.dashboard.notifyconf import ENV_NAME, check_tags

# moved to notifyconf.py; still importable from here
from pulseox_git.dashboard.notifyconf import ENV_SUFFIX as ENV_SUFFIX
from pulseox_git.dashboard.notifyconf import check_notify as check_notify
from pulseox_git.dashboard.notifyconf import looks_secret as looks_secret
from pulseox_git.dashboard.pauses import Pause, Window
from pulseox_git.dashboard.schedule import (
    Schedule,
    check_cron_runs,
    describe,
    parse_grace,
    parse_schedule,
)
from pulseox_git.dashboard.trends import TrendSettings
from pulseox_git.durations import parse_duration, parse_limit
from pulseox_git.errors import BadInputError
from pulseox_git.page import check_path
from pulseox_git.store.names import check_name

SPEC_FILE = "pulseox.toml"
MODES = ("md", "org")
DEFAULT_TOLERANCE = timedelta(minutes=10)
DEFAULT_HEARTBEAT = timedelta(hours=6)  # README: Commits and the heartbeat
_SPEC_KEYS = {
    *("owner", "repo", "path", "schedule", "grace"),
    *("max_duration", "min_duration", "remind_every", "depends_on", "tags"),
}
_LIST_KEYS = ("depends_on", "tags")  # lists of strings
_COUNT_KEYS = ("fail_after", "missing_after")  # whole numbers, default 1
_DASHBOARD_KEYS = (  # the [dashboard] table
    *("mode", "tz", "tolerance", "summary", "remind_every"),
    *("schedule", "heartbeat_url_env", "heartbeat"),
)


@dataclass(frozen=True)
class PulseOxSpec:
    """One page to watch: where it is and how often it must be updated.

    `schedule` is a timedelta, a duration string (`10m`) or a 5-field cron
    string; `grace_period` (a timedelta or duration string) is extra time
    before a late page counts as MISSING. A cron string that never comes round
    is refused when a spec is made; one already in a spec file (`strict=False`)
    is loaded, and the refresh puts that spec in ERROR instead of failing.
    `max_duration` and `min_duration` (keyword only) bound how long a wrapped
    run may take: a finished run outside them, or a run still going past
    `max_duration`, is ERROR. `fail_after` and `missing_after` (default 1)
    tolerate that many consecutive BAD reports, or missed runs, minus one.
    `remind_every` repeats the notification while the spec stays ERROR or
    MISSING (else the dashboard's `remind_every`, if any). `depends_on` names
    the pages this one needs (paths here, or `owner/repo:path`), kept as keys;
    `tags` route its notifications to the providers that ask for them.
    """

    owner: str
    repo: str
    path: str
    schedule: Schedule
    grace_period: timedelta | None = None
    strict: InitVar[bool] = True
    max_duration: timedelta | None = field(default=None, kw_only=True)
    min_duration: timedelta | None = field(default=None, kw_only=True)
    fail_after: int = field(default=1, kw_only=True)
    missing_after: int = field(default=1, kw_only=True)
    remind_every: timedelta | None = field(default=None, kw_only=True)
    depends_on: tuple[str, ...] = field(default=(), kw_only=True)
    tags: tuple[str, ...] = field(default=(), kw_only=True)

    def __post_init__(self, strict: bool) -> None:
        check_name("owner", self.owner)
        check_name("repo", self.repo)
        check_path(self.path)
        object.__setattr__(self, "schedule", parse_schedule(self.schedule))
        if strict and isinstance(self.schedule, str):
            check_cron_runs(self.schedule)
        object.__setattr__(self, "grace_period", parse_grace(self.grace_period))
        for name in ("max_duration", "min_duration", "remind_every"):
            object.__setattr__(self, name, parse_limit(getattr(self, name), name))
        for name in _COUNT_KEYS:
            check_count(getattr(self, name), name)
        object.__setattr__(
            self, "depends_on", check_depends(self.depends_on, self.owner, self.repo)
        )
        object.__setattr__(self, "tags", check_tags(self.tags, "tags"))
        low, high = self.min_duration, self.max_duration
        if low is not None and high is not None and low >= high:
            raise BadInputError(
                f"bad min_duration {describe(low)!r}: it must be shorter than "
                f"max_duration {describe(high)!r}"
            )

    @property
    def key(self) -> str:
        """Names the spec across repositories: `owner/repo:path`."""
        return f"{self.owner}/{self.repo}:{self.path}"

    def written(self, key: str) -> str:
        """Another spec's key as this one names it (a path when in the same repository)."""
        return written(key, self.owner, self.repo)

    def describe(self) -> str:
        """One line, as `spec list` prints it: `o/r:jobs/a.md every 1d grace 1h`."""
        grace = f" grace {describe(self.grace_period)}" if self.grace_period else ""
        return f"{self.key} every {describe(self.schedule)}{grace}{self.describe_limits()}"

    def describe_limits(self) -> str:
        """` max-duration 2h min-duration 5m fail-after 3`, as the CLI options spell
        them; or ''."""
        limits = "".join(
            f" {name}-duration {describe(value)}"
            for name, value in (("max", self.max_duration), ("min", self.min_duration))
            if value is not None
        )
        if self.remind_every is not None:
            limits += f" remind-every {describe(self.remind_every)}"
        limits += "".join(f" depends-on {self.written(key)}" for key in self.depends_on)
        limits += "".join(f" tag {tag}" for tag in self.tags)
        counts = "".join(
            f" {name.replace('_', '-')} {getattr(self, name)}"
            for name in _COUNT_KEYS
            if getattr(self, name) != 1
        )
        return limits + counts

    def to_table(self) -> dict[str, Any]:
        table: dict[str, Any] = {
            "owner": self.owner,
            "repo": self.repo,
            "path": self.path,
            "schedule": describe(self.schedule),
        }
        if self.grace_period is not None:
            table["grace"] = describe(self.grace_period)
        if self.max_duration is not None:
            table["max_duration"] = describe(self.max_duration)
        if self.min_duration is not None:
            table["min_duration"] = describe(self.min_duration)
        if self.remind_every is not None:
            table["remind_every"] = describe(self.remind_every)
        if self.depends_on:
            table["depends_on"] = [self.written(key) for key in self.depends_on]
        if self.tags:
            table["tags"] = list(self.tags)
        table.update(
            (name, getattr(self, name)) for name in _COUNT_KEYS if getattr(self, name) != 1
        )
        return table

    @classmethod
    def from_table(cls, table: object, where: str) -> PulseOxSpec:
        if not isinstance(table, dict):
            raise BadInputError(f"{where}: not a table")
        unknown = set(table) - _SPEC_KEYS - set(_COUNT_KEYS)
        if unknown:
            raise BadInputError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        missing = {"owner", "repo", "path", "schedule"} - set(table)
        if missing:
            raise BadInputError(f"{where}: no {sorted(missing)[0]}")
        for key, value in table.items():
            if key in _LIST_KEYS:
                if not isinstance(value, list):
                    raise BadInputError(
                        f"{where}: bad {key} {value!r}: give a list such as [{value!r}]"
                    )
                continue
            if key not in _COUNT_KEYS and not isinstance(value, str):
                raise BadInputError(f"{where}: {key} must be a string, not {value!r}")
        try:
            return cls(
                table["owner"],
                table["repo"],
                table["path"],
                table["schedule"],
                table.get("grace"),
                strict=False,
                max_duration=table.get("max_duration"),
                min_duration=table.get("min_duration"),
                remind_every=table.get("remind_every"),
                depends_on=tuple(table.get("depends_on", ())),
                tags=tuple(table.get("tags", ())),
                **{name: table[name] for name in _COUNT_KEYS if name in table},
            )
        except BadInputError as err:
            raise BadInputError(f"{where}: {err}") from None


def check_runs(schedule: Schedule) -> Schedule:
    """A schedule that comes round (a cron string such as `0 0 31 2 *` never does)."""
    return check_cron_runs(schedule) if isinstance(schedule, str) else schedule


def check_count(value: object, name: str) -> int:
    """A whole number of 1 or more (`fail_after`, `missing_after`)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadInputError(f"bad {name} {value!r}: use a whole number of 1 or more")
    return value


def check_zone(name: str) -> str:
    """An IANA time zone name such as `Europe/Paris` or `UTC`."""
    try:
        if not isinstance(name, str) or not name or name.startswith(("/", ".")):
            raise ValueError
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInputError(
            f"unknown time zone {name!r}: use an IANA name such as 'UTC' or 'Europe/Paris'"
        ) from None
    return name


@dataclass(frozen=True)
class Settings:
    """How the dashboard renders and whom it tells. `notify` is the stored form."""

    mode: str = "md"
    tz: str = "UTC"
    tolerance: timedelta = DEFAULT_TOLERANCE
    notify: dict[str, dict[str, Any]] = field(default_factory=dict)
    trends: TrendSettings = field(default_factory=TrendSettings)  # the [trends] table
    summary: str | None = None  # where the summary goes; default summary.md (or .org)
    remind_every: timedelta | None = None  # for specs that do not set their own
    pauses: tuple[Pause, ...] = ()  # [[pause]] tables (`spec pause`)
    maintenance: tuple[Window, ...] = ()  # [[maintenance]] tables
    schedule: Schedule | None = None  # how often the dashboard itself runs (watcher.py)
    heartbeat_url_env: str | None = None  # names the variable with a URL to ping
    heartbeat: timedelta = DEFAULT_HEARTBEAT  # the longest a refresh goes without a commit

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise BadInputError(f"bad mode {self.mode!r}: use md or org")
        if self.summary is not None:
            check_summary_path(self.summary)
        check_zone(self.tz)
        tolerance = self.tolerance
        if isinstance(tolerance, str):
            tolerance = parse_duration(tolerance, "tolerance")
        if not isinstance(tolerance, timedelta) or tolerance < timedelta(0):
            raise BadInputError(f"bad tolerance {self.tolerance!r}: it must not be negative")
        object.__setattr__(self, "tolerance", tolerance)
        object.__setattr__(self, "remind_every", parse_limit(self.remind_every, "remind_every"))
        if self.schedule is not None:
            object.__setattr__(self, "schedule", check_runs(parse_schedule(self.schedule)))
        variable = self.heartbeat_url_env
        if variable is not None and (not isinstance(variable, str) or not ENV_NAME.match(variable)):
            raise BadInputError(
                f"bad heartbeat_url_env {variable!r}: name the environment variable that "
                "holds the URL, such as HEARTBEAT_URL"
            )
        beat = self.heartbeat
        if isinstance(beat, str):
            beat = parse_duration(beat, "heartbeat")
        if not isinstance(beat, timedelta) or beat <= timedelta(0):
            raise BadInputError(f"bad heartbeat {self.heartbeat!r}: use a duration such as 6h")
        object.__setattr__(self, "heartbeat", beat)
        object.__setattr__(self, "notify", check_notify(self.notify, stored=True))

    @property
    def zone(self) -> tzinfo:
        return ZoneInfo(self.tz)

    @property
    def summary_path(self) -> str:
        return self.summary or f"summary.{self.mode}"

    def dashboard_table(self) -> dict[str, str]:
        """The [dashboard] table as the spec file stores it."""
        table = {"mode": self.mode, "tz": self.tz, "tolerance": describe(self.tolerance)}
        if self.summary is not None:
            table["summary"] = self.summary
        if self.remind_every is not None:
            table["remind_every"] = describe(self.remind_every)
        if self.schedule is not None:
            table["schedule"] = describe(self.schedule)
        if self.heartbeat_url_env is not None:
            table["heartbeat_url_env"] = self.heartbeat_url_env
        if self.heartbeat != DEFAULT_HEARTBEAT:
            table["heartbeat"] = describe(self.heartbeat)
        return table


def check_summary_path(path: object, suffixes: tuple[str, ...] = (".md", ".org")) -> str:
    """Where a summary may go: a page path, and not one of the dashboard's other files."""
    if not isinstance(path, str) or not path.lower().endswith(suffixes):
        raise BadInputError(
            f"bad summary path {path!r}: use a path ending in {' or '.join(suffixes)}, "
            "like summary.md"
        )
    check_path(path)
    if path in (SPEC_FILE, "pulseox-state.json", "index.html") or path.startswith("badges/"):
        raise BadInputError(f"bad summary path {path!r}: the dashboard writes that file itself")
    return path


def loads(text: str, where: str = SPEC_FILE) -> tuple[list[PulseOxSpec], Settings]:
    """Specs and settings from the text of a spec file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise BadInputError(f"{where} is not valid TOML: {err}") from None
    unknown = set(data) - {"dashboard", "notify", "spec", "trends", "pause", "maintenance"}
    if unknown:
        raise BadInputError(f"{where}: unknown table {sorted(unknown)[0]!r}")
    board = data.get("dashboard", {})
    if not isinstance(board, dict) or set(board) - set(_DASHBOARD_KEYS):
        extra = sorted(set(board) - set(_DASHBOARD_KEYS)) if isinstance(board, dict) else board
        raise BadInputError(
            f"{where}: [dashboard] may only set {', '.join(_DASHBOARD_KEYS)}, not {extra!r}"
        )
    pauses = tuple(Pause.from_table(t, f"{where}, pause {i}") for i, t in _tables(data, "pause"))
    windows = tuple(
        Window.from_table(t, f"{where}, maintenance {i}") for i, t in _tables(data, "maintenance")
    )
    try:
        settings = Settings(
            **board,
            notify=data.get("notify", {}),
            trends=TrendSettings.from_toml(data.get("trends")),
            pauses=pauses,
            maintenance=windows,
        )
    except BadInputError as err:
        raise BadInputError(f"{where}: {err}") from None
    tables = data.get("spec", [])
    if not isinstance(tables, list):
        raise BadInputError(f"{where}: spec must be an array of [[spec]] tables")
    specs = [PulseOxSpec.from_table(t, f"{where}, spec {i}") for i, t in enumerate(tables, 1)]
    check_unique(specs, where)
    return specs, settings


def dumps(specs: list[PulseOxSpec], settings: Settings) -> str:
    """The spec file's text (tomli-w), read back by `loads`."""
    check_unique(specs)
    data: dict[str, Any] = {"dashboard": settings.dashboard_table()}
    if settings.notify:
        data["notify"] = settings.notify
    if settings.trends != TrendSettings():
        data["trends"] = settings.trends.to_toml()
    header = (
        "# pulseox-git dashboard: what it watches and how it reports.\n"
        "# Written by pulseox-git (spec remove, a changed spec or setting): comments\n"
        "# written by hand are not kept then; `spec add` only appends.\n"
        "# Never put a secret here: name the environment variable that holds it\n"
        '# (webhook_url_env = "VAR").\n\n'
    )
    # one [[spec]] table per spec (tomli-w would pick inline tables for short ones)
    tables = "".join(f"\n[[spec]]\n{tomli_w.dumps(spec.to_table())}" for spec in specs)
    held = [("pause", p.to_table()) for p in settings.pauses]
    held += [("maintenance", w.to_table()) for w in settings.maintenance]
    tables += "".join(f"\n[[{name}]]\n{tomli_w.dumps(table)}" for name, table in held)
    return header + tomli_w.dumps(data) + tables


def _tables(data: dict[str, Any], name: str) -> list[tuple[int, object]]:
    """The [[name]] tables of a spec file, numbered from 1."""
    tables = data.get(name, [])
    if not isinstance(tables, list):
        raise BadInputError(f"{SPEC_FILE}: {name} must be an array of [[{name}]] tables")
    return list(enumerate(tables, 1))


def check_unique(specs: list[PulseOxSpec], where: str = "the spec list") -> None:
    """Each spec once, and their dependencies watched and without cycles."""
    seen: set[str] = set()
    for spec in specs:
        if spec.key in seen:
            raise BadInputError(f"spec {spec.key!r} appears twice in {where}")
        seen.add(spec.key)
    check_graph(specs, where)


def check_specs(specs: object) -> list[PulseOxSpec]:
    """A list of PulseOxSpec, each once; anything else is named and refused."""
    if isinstance(specs, (str, bytes)) or not isinstance(specs, Iterable):
        raise BadInputError(f"spec_list must be a list of PulseOxSpec, not {specs!r}")
    checked = list(specs)
    for spec in checked:
        if not isinstance(spec, PulseOxSpec):
            raise BadInputError(f"spec_list holds {spec!r}, which is not a PulseOxSpec")
    check_unique(checked)
    return checked
