"""The dashboard: classify every watched page, write the summary back as one commit.

Each watched repository is read through its store in ONE `run`: the pages at
the tip and their history from one `git log` pass. A page's `updated` time is
the commit time of the last commit that touched it; the footer is only the
cross-check. The summary, the spec file and a small state file (the statuses
it published, for the next Changes) are committed together, built from the tip
each push attempt lands on, so a race recomputes Changes correctly.

The status rules are in `status`, spec-file editing in `specs`; their public
names are re-exported here, where they used to live.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from pulseox_git.errors import BadInputError
from pulseox_git.history import Report
from pulseox_git.page import format_time, render
from pulseox_git.specs import (
    SPEC_FILE,
    PulseOxSpec,
    Settings,
    check_name,
    check_notify,
    check_unique,
    edit_specs,
)
from pulseox_git.specs import dumps as dump_specs
from pulseox_git.specs import loads as load_specs
from pulseox_git.status import STATUSES, Entry, Summary, classify, format_when
from pulseox_git.trends import trend, trend_note

log = logging.getLogger("pulseox_git")
STATE_FILE = "pulseox-state.json"
WEB_LINK = "https://github.com/{owner}/{repo}/blob/{branch}/{path}"
Read = tuple[str | None, dict[str, bytes], dict[str, list[Report]]]  # tip, pages, history


class PulseOxDashboard:
    """Watches specs' pages and writes `summary.md` (or `.org`) to owner/repo.

    Settings not given here (mode, tz, tolerance, notify) come from the
    repository's `pulseox.toml`; those given are saved there on write.
    """

    def __init__(self, token: str | None = None, owner: str = "", repo: str = "",
                 spec_list: list[PulseOxSpec] | None = None, mode: str | None = None,
                 notify: dict[str, dict[str, Any]] | None = None, *, tz: str | None = None,
                 tolerance: timedelta | str | None = None, client=None,
                 remote: str | None = None, branch: str = "main", cache_dir=None,
                 clock: Callable[[], datetime] | None = None, dry_run: bool = False,
                 web_link: str = WEB_LINK, notify_timeout: float | None = None) -> None:
        from pulseox_git.client import PulseOxClient, utc_now

        self.owner, self.repo = check_name("owner", owner), check_name("repo", repo)
        self.client = client or PulseOxClient(token, remote=remote, branch=branch,
                                              cache_dir=cache_dir, clock=clock or utc_now)
        self.clock = clock or self.client.clock
        self.dry_run = dry_run
        self.web_link = web_link
        self.notify_timeout = check_timeout(notify_timeout)
        self.spec_list = check_specs(spec_list) if spec_list is not None else None
        self._given_specs = spec_list is not None
        self._overrides = {k: v for k, v in (("mode", mode), ("tz", tz),
                                             ("tolerance", tolerance)) if v is not None}
        self.settings = Settings(**self._overrides)
        self.notify = check_notify(notify, stored=False) if notify else None
        self.previous: dict[str, dict[str, Any]] = {}
        self.summary: Summary | None = None
        self.published = None
        self.notify_failures: list[str] = []
        self.notify_warnings: list[str] = []
        self._notify_checked: dict[str, dict[str, Any]] | None = None
        self._reads: dict[tuple[str, str], Read] = {}
        self.read_failures: dict[tuple[str, str], str] = {}  # other repositories we could not read
        self._config_text: str | None = None
        self._loaded = False

    def __repr__(self) -> str:
        return f"PulseOxDashboard(owner={self.owner!r}, repo={self.repo!r})"

    @property
    def own(self) -> tuple[str, str]:
        return (self.owner, self.repo)

    def store(self, owner: str | None = None, repo: str | None = None):
        return self.client.store(owner or self.owner, repo or self.repo)

    # -- reading -------------------------------------------------------------

    def get_remote_data(self) -> PulseOxDashboard:
        """Load specs, settings and the last published statuses from the repository,
        and read the dashboard's own watched pages, in one fetch."""
        store = self.store()
        store.run(lambda tip: self._load_at(store, tip))
        return self

    def _load_at(self, store, tip: str | None) -> None:
        files = store.read_files(tip, [SPEC_FILE, STATE_FILE])
        text = files[SPEC_FILE].decode("utf-8", "replace") if SPEC_FILE in files else None
        self._config_text = text
        specs, stored = load_specs(text, f"{SPEC_FILE} in {self.owner}/{self.repo}") if text \
            else ([], Settings())
        if not self._given_specs:
            self.spec_list = specs
        merged = {"mode": stored.mode, "tz": stored.tz, "tolerance": stored.tolerance,
                  **self._overrides}
        self.settings = Settings(**merged, notify=stored.notify, trends=stored.trends)
        self.previous = _load_state(files.get(STATE_FILE))
        self._reads[self.own] = (tip, *self._read(store, tip, self.own))
        self._loaded = True

    def _paths(self, repo: tuple[str, str]) -> list[str]:
        return [s.path for s in self.spec_list or [] if (s.owner, s.repo) == repo]

    def _read(self, store, tip: str | None, repo: tuple[str, str]):
        paths = self._paths(repo)
        if not paths:
            return {}, {}
        return store.read_files(tip, paths), store.history(tip, paths)

    def _read_others(self) -> None:
        """One `run` per watched repository not read yet: pages and history.

        Another repository that cannot be read (gone, unreachable, no access)
        puts only its own specs in ERROR; the dashboard's own repository failing
        still fails the refresh.
        """
        from pulseox_git.auth import redact
        from pulseox_git.errors import RemoteError

        for repo in dict.fromkeys((s.owner, s.repo) for s in self.spec_list or []):
            if repo not in self._reads:
                store = self.store(*repo)
                try:
                    self._reads[repo] = store.run(
                        lambda tip, store=store, repo=repo: (tip, *self._read(store, tip, repo)))
                except RemoteError as err:
                    detail = redact(str(err)).splitlines()[0] if str(err) else type(err).__name__
                    self.read_failures[repo] = f"cannot read {repo[0]}/{repo[1]}: {detail}"
                    self._reads[repo] = (None, {}, {})
                    log.warning("warning: %s; its specs are in ERROR",
                                self.read_failures[repo])

    def _forget_reads(self, keep_own: bool) -> None:
        """Read again on the next refresh (every repository, or all but our own)."""
        own = self._reads.get(self.own)
        self._reads = {self.own: own} if keep_own and own is not None else {}
        self.read_failures = {}

    def refresh(self, force_refresh: bool = True) -> PulseOxDashboard:
        """Read and classify every spec without writing anything."""
        if not self._loaded or force_refresh:
            self._forget_reads(keep_own=False)
            self.get_remote_data()
        self._need_specs()
        self._read_others()
        self.summary = self.summarize(self.clock())
        return self

    fill_summary = refresh  # the original's name

    def _need_specs(self) -> None:
        if not self.spec_list:
            raise BadInputError(f"the dashboard {self.owner}/{self.repo} watches nothing yet: "
                                "add a spec with `pulseox-git spec add` or pass spec_list")

    def summarize(self, now: datetime) -> Summary:
        """Classify every spec from what was read, and render the summary text."""
        entries = []
        for spec in self.spec_list or []:
            _tip, pages, history = self._reads[(spec.owner, spec.repo)]
            failure = self.read_failures.get((spec.owner, spec.repo))
            if failure:
                entry = Entry(spec, "ERROR", failure, problem="unreadable")
            else:
                entry = classify(spec, pages.get(spec.path), history.get(spec.path, []), now,
                                 self.settings)
            entry.previous = self.previous.get(spec.key, {}).get("status")
            try:
                entry.trend = trend(entry.history, spec.schedule, now, self.settings.trends,
                                    spec.grace_period, self.settings.zone)
            except BadInputError:  # a cron with no next time: classify said so already
                entry.trend = None
            entries.append(entry)
        return Summary(entries, self.render(entries, now), now)

    # -- rendering -----------------------------------------------------------

    def target(self, spec: PulseOxSpec) -> tuple[str, str]:
        """A page's label and link: relative for pages in this repository, an
        absolute web link elsewhere."""
        if (spec.owner, spec.repo) == self.own:
            return spec.path, quote(spec.path, safe="/")
        link = self.web_link.format(owner=spec.owner, repo=spec.repo, branch=self.client.branch,
                                    path=quote(spec.path, safe="/"))
        return f"{spec.owner}/{spec.repo}/{spec.path}", link

    def link(self, spec: PulseOxSpec) -> str:
        """The page's link in the summary's markup (md or org)."""
        label, target = self.target(spec)
        return f"[[{target}][{label}]]" if self.settings.mode == "org" else f"[{label}]({target})"

    def render(self, entries: list[Entry], now: datetime) -> str:
        """Changes, ERROR, MISSING, OK (empty ones left out), then a footer."""
        mark = "*" if self.settings.mode == "org" else "#"
        tz = self.settings.tz
        sections = []
        changes = [f"- {self.link(e.spec)} {e.previous} --> {e.status} "
                   f"{format_when(e.updated, tz)}" for e in entries if e.changed]
        if changes:
            sections.append((f"{mark} Changes", changes))
        for name in STATUSES:
            lines = [" ".join(part for part in (f"- {self.link(e.spec)}", e.note,
                                                trend_note(e.trend, self.settings.zone),
                                                format_when(e.updated, tz)) if part)
                     for e in entries if e.status == name]
            if lines:
                sections.append((f"{mark} {name}", lines))
        body = "\n\n".join("\n".join([title, *lines]) for title, lines in sections)
        bad = [e for e in entries if e.status != "OK"]
        counts = Summary(entries, "", now).counts()
        path = self.settings.summary_path
        return render(path, body, "BAD" if bad else "GOOD", now.replace(microsecond=0), counts)

    # -- writing -------------------------------------------------------------

    def output_files(self, summary: Summary) -> dict[str, bytes]:
        """Every file one refresh commits, besides the spec file (add more here)."""
        state = {"version": 1, "written": format_time(summary.generated),
                 "statuses": {e.spec.key: {"status": e.status, "report": e.report,
                                           "updated": format_time(e.updated) if e.updated
                                           else None} for e in summary.entries}}
        from pulseox_git.statuspage import status_files

        return {self.settings.summary_path: summary.text.encode(),
                STATE_FILE: (json.dumps(state, indent=1, sort_keys=True) + "\n").encode(),
                **status_files(self, summary)}  # index.html and badges/

    def _config_bytes(self) -> bytes:
        """The spec file as it is in the repository when nothing changed (keeping
        its comments), else freshly written."""
        if self._config_text is not None:
            try:
                if load_specs(self._config_text) == (self.spec_list, self.settings):
                    return self._config_text.encode()
            except BadInputError:
                pass
        return dump_specs(self.spec_list or [], self.settings).encode()

    def write_summary(self, force_refresh: bool = True,
                      dry_run: bool | None = None) -> PulseOxDashboard:
        """Refresh, then commit summary, spec file and state in ONE commit; then
        notify when some status changed. Returns self, as the original."""
        from pulseox_git.gitstore import Change

        if not self._loaded:
            self.get_remote_data()
        elif force_refresh:
            self._forget_reads(keep_own=True)
        self._need_specs()
        self.check_notifiers()
        self._read_others()
        dry = self.dry_run if dry_run is None else dry_run

        def make_change(store, tip: str | None) -> Change:
            if self._reads.get(self.own, (None,))[0] != tip or self.own not in self._reads:
                self._load_at(store, tip)  # someone pushed: recompute from their tip
                self._need_specs()
                self._read_others()
            now = self.clock().replace(microsecond=0)
            self.summary = self.summarize(now)
            files = self.output_files(self.summary)
            files[SPEC_FILE] = self._config_bytes()
            changed = len(self.summary.changes)
            message = f"pulseox: dashboard {self.summary.counts()} ({changed} changed)\n"
            return Change(files, message, now)

        self.published = self.store().publish(make_change, dry_run=dry)
        if not dry:
            self.previous = {e.spec.key: {"status": e.status} for e in self.summary.entries}
            self._config_text = self._config_bytes().decode()
            self.notify_changes()
        return self

    def check_notifiers(self) -> list[str]:
        """Check the notify settings before anything is written: an unknown provider
        is refused (BadInputError); an unset environment variable is a warning,
        logged and returned (once per settings)."""
        providers = self.notify if self.notify is not None else self.settings.notify
        if providers != self._notify_checked:
            from pulseox_git.notify import check_providers

            self.notify_warnings = check_providers(providers)
            self._notify_checked = providers
            for warning in self.notify_warnings:
                log.warning("warning: %s", warning)
        return self.notify_warnings

    def notify_changes(self) -> list[str]:
        """Send the Changes to every provider, if any status changed; the failures."""
        self.notify_failures = []
        providers = self.notify if self.notify is not None else self.settings.notify
        if not self.summary or not self.summary.changes or not providers:
            return []
        from pulseox_git import notify

        lines = [f"pulseox-git {self.owner}/{self.repo}: {len(self.summary.changes)} "
                 "status change(s)"]
        lines += [f"- {e.spec.key} {e.previous} --> {e.status} {e.note}".rstrip()
                  for e in self.summary.changes]
        timeout = self.notify_timeout or notify.DEFAULT_TIMEOUT
        self.notify_failures = notify.send(providers, "\n".join(lines), timeout)
        return self.notify_failures

    def read_summary(self) -> str | None:
        """The last written summary text, without refreshing."""
        store = self.store()
        paths = [SPEC_FILE, "summary.md", "summary.org"]
        files = store.run(lambda tip: store.read_files(tip, paths))
        if SPEC_FILE in files:
            _specs, settings = load_specs(files[SPEC_FILE].decode("utf-8", "replace"))
            first = settings.summary_path
        else:
            first = "summary.md"
        for path in (first, "summary.md", "summary.org"):
            if path in files:
                return files[path].decode("utf-8", "replace")
        return None


def check_specs(specs: object) -> list[PulseOxSpec]:
    """A list of PulseOxSpec, each once; anything else is named and refused."""
    if isinstance(specs, (str, bytes)) or not hasattr(specs, "__iter__"):
        raise BadInputError(f"spec_list must be a list of PulseOxSpec, not {specs!r}")
    specs = list(specs)  # type: ignore[call-overload]
    for spec in specs:
        if not isinstance(spec, PulseOxSpec):
            raise BadInputError(f"spec_list holds {spec!r}, which is not a PulseOxSpec")
    check_unique(specs)
    return specs


def check_timeout(value: float | None) -> float | None:
    """The notifier timeout: the argument, else $PULSEOX_NOTIFY_TIMEOUT; positive seconds."""
    if value is None and os.environ.get("PULSEOX_NOTIFY_TIMEOUT"):
        try:
            value = float(os.environ["PULSEOX_NOTIFY_TIMEOUT"])
        except ValueError:
            raise BadInputError("PULSEOX_NOTIFY_TIMEOUT "
                                f"{os.environ['PULSEOX_NOTIFY_TIMEOUT']!r} is not a number "
                                "of seconds") from None
    if value is not None and not (isinstance(value, (int, float)) and 0 < value < 86400):
        raise BadInputError(f"notify timeout {value!r} must be a number of seconds above 0")
    return value


def _load_state(data: bytes | None) -> dict[str, dict[str, Any]]:
    """The statuses the last summary published; a damaged file counts as none."""
    if not data:
        return {}
    try:
        statuses = json.loads(data)["statuses"]
        return {k: v for k, v in statuses.items() if isinstance(v, dict)}
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("warning: %s is damaged; every status counts as new", STATE_FILE)
        return {}


__all__ = ["STATE_FILE", "STATUSES", "Entry", "PulseOxDashboard", "Summary", "classify",
           "edit_specs", "format_when"]
