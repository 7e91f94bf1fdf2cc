"""The dashboard: classify every watched page, write the summary back as one commit.

Each watched repository is read through its store in ONE `run` (all of them at
once, `reads`): the pages at the tip and their history from one `git log`
pass. A page's `updated` time is
the commit time of the last commit that touched it; the footer is only the
cross-check. The summary, the spec file, a small state file (the statuses it
published, for the next Changes), the status page and the badges are
committed together, built from the tip each push attempt lands on, so a race
recomputes Changes correctly; files no longer written are deleted (`outputs`),
and a refresh with nothing new commits nothing but a heartbeat (`heartbeat`).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pulseox_git import settings
from pulseox_git.client import PulseOxClient, format_response_error, utc_now
from pulseox_git.dashboard import (
    alerting,
    heartbeat,
    notify,
    outputs,
    reads,
    render,
    verdicts,
    watcher,
)
from pulseox_git.dashboard.asof import AsOf
from pulseox_git.dashboard.envelope import envelope
from pulseox_git.dashboard.notifyconf import check_notify
from pulseox_git.dashboard.rules import Summary
from pulseox_git.dashboard.specs import (
    SPEC_FILE,
    PulseOxSpec,
    Settings,
    check_specs,
    check_summary_path,
)
from pulseox_git.dashboard.specs import dumps as dump_specs
from pulseox_git.dashboard.specs import loads as load_specs
from pulseox_git.dashboard.state import (
    STATE_FILE,
    load_state,
    statuses,
    written_time,
)
from pulseox_git.dashboard.summary import WEB_LINK, Links, read_written, render_summary
from pulseox_git.errors import BadInputError, RemoteError
from pulseox_git.store.auth import redact
from pulseox_git.store.base import Change, History, Published, Store
from pulseox_git.store.names import check_name

log = logging.getLogger("pulseox_git")
Repo = tuple[str, str]  # owner, repo
Read = tuple[str | None, dict[str, bytes], History]  # tip, pages, history


class PulseOxDashboard:
    """Watches specs' pages and writes `summary.md` (or `.org`) to owner/repo.

    Settings not given here (mode, tz, tolerance, notify, the summary's path)
    come from the repository's `pulseox.toml`; those given are saved there on
    write. `extra_text` is added to this refresh's summary before its footer.
    `as_of` (a commit of the dashboard's branch, or a time) reads everything as
    it stood then, and never writes.
    """

    def __init__(
        self,
        token: str | None = None,
        owner: str = "",
        repo: str = "",
        spec_list: list[PulseOxSpec] | None = None,
        mode: str | None = None,
        notify: dict[str, dict[str, Any]] | None = None,
        *,
        tz: str | None = None,
        tolerance: timedelta | str | None = None,
        client: PulseOxClient | None = None,
        remote: str | None = None,
        branch: str = "main",
        cache_dir: str | os.PathLike[str] | None = None,
        clock: Callable[[], datetime] | None = None,
        dry_run: bool = False,
        web_link: str = WEB_LINK,
        notify_timeout: float | None = None,
        as_of: str | None = None,
        summary: str | None = None,
        extra_text: str | None = None,
    ) -> None:
        self.owner, self.repo = check_name("owner", owner), check_name("repo", repo)
        self.client = client or PulseOxClient(
            token, remote=remote, branch=branch, cache_dir=cache_dir, clock=clock or utc_now
        )
        self.clock = clock or self.client.clock
        self.dry_run = dry_run
        self.links = Links(self.own, self.client.branch, web_link)
        self.notify_timeout = settings.NOTIFY_TIMEOUT.get(notify_timeout)
        self.as_of = AsOf(as_of) if as_of is not None else None
        self.spec_list = check_specs(spec_list) if spec_list is not None else None
        self._given_specs = spec_list is not None
        self._overrides: dict[str, Any] = {}
        self._stored = Settings()
        summary = check_summary_path(summary) if summary is not None else None
        self.settings = self._override(mode=mode, tz=tz, tolerance=tolerance, summary=summary)
        self.extra_text = extra_text  # added before the summary's footer, this run only
        self.notify = check_notify(notify, stored=False) if notify else None
        self.previous: dict[str, dict[str, Any]] = {}
        self._record = outputs.Record()  # what the state file at the tip says it wrote
        self.digest = ""  # of the last outputs rendered (see `heartbeat`)
        self.summary: Summary | None = None
        self.published: Published | None = None
        self.notify_failures: list[str] = []
        self.notify_warnings: list[str] = []
        self._notify_checked: dict[str, dict[str, Any]] | None = None
        self._reads: dict[Repo, Read] = {}
        self.read_failures: dict[Repo, str] = {}  # other repositories we could not read
        self._config_text: str | None = None
        self._parsed: tuple[str, list[PulseOxSpec], Settings] | None = None
        self._loaded = False
        self.last_run: datetime | None = None  # the state file's time: the last refresh written
        self.run: watcher.RunRecord | None = None  # this refresh against [dashboard] schedule
        self.heartbeat_failure: str | None = None

    def __repr__(self) -> str:
        return f"PulseOxDashboard(owner={self.owner!r}, repo={self.repo!r})"

    @property
    def own(self) -> Repo:
        return (self.owner, self.repo)

    def store(self, owner: str | None = None, repo: str | None = None) -> Store:
        return self.client.store(owner or self.owner, repo or self.repo)

    def now(self) -> datetime:
        """The time the verdicts are for: the clock's, or the `as_of` time."""
        if self.as_of is not None and self.as_of.time is not None:
            return self.as_of.time
        return self.clock()

    # -- reading -------------------------------------------------------------

    def get_remote_data(self) -> PulseOxDashboard:
        """Load specs, settings and the last published statuses from the repository,
        and read the dashboard's own watched pages, in one fetch."""
        store = self.store()

        def own() -> None:
            store.run(lambda tip: self._load_at(store, self._pin(store, tip, own=True)))

        if self._given_specs and self.as_of is None:
            self._read_others(first=own)  # the others are known: read them meanwhile
        else:
            own()
        return self

    def _pin(self, store: Store, tip: str | None, own: bool) -> str | None:
        return tip if self.as_of is None else self.as_of.pin(store, tip, own)

    def _load_at(self, store: Store, tip: str | None) -> None:
        files = store.read_files(tip, [SPEC_FILE, STATE_FILE])
        text = files[SPEC_FILE].decode("utf-8", "replace") if SPEC_FILE in files else None
        self._config_text = text
        specs, stored = (
            self._specs_of(text, f"{SPEC_FILE} in {self.owner}/{self.repo}")
            if text
            else ([], Settings())
        )
        if not self._given_specs:
            self.spec_list = specs
        self._stored = stored
        self.settings = self._override()
        self.previous = load_state(files.get(STATE_FILE))
        self.last_run = written_time(files.get(STATE_FILE))
        self._record = outputs.load_record(files.get(STATE_FILE), self.own)
        self._reads[self.own] = (tip, *self._read(store, tip, self.own))
        self._loaded = True

    def _specs_of(self, text: str, where: str = SPEC_FILE) -> tuple[list[PulseOxSpec], Settings]:
        """The spec file's specs and settings, parsed once per text (10,000 specs take
        a second); a new list each time, so changing one never changes the memo."""
        if self._parsed is None or self._parsed[0] != text:
            self._parsed = (text, *load_specs(text, where))
        return list(self._parsed[1]), self._parsed[2]

    def _override(self, **given: Any) -> Settings:
        """The stored settings with those given here (and before) on top."""
        self._overrides.update({k: v for k, v in given.items() if v is not None})
        summary = self._overrides.get("summary")
        if summary is not None and "mode" not in given and summary.endswith((".md", ".org")):
            self._overrides["mode"] = summary.rsplit(".", 1)[1]  # the path says which markup
        self.settings = replace(self._stored, **self._overrides)
        return self.settings

    def _paths(self, repo: Repo) -> list[str]:
        return [s.path for s in self.spec_list or [] if (s.owner, s.repo) == repo]

    def _read(self, store: Store, tip: str | None, repo: Repo) -> tuple[dict[str, bytes], History]:
        paths = self._paths(repo)
        if not paths:
            return {}, {}
        return store.read_files(tip, paths), store.history(tip, paths)

    def _read_others(self, first: Callable[[], None] | None = None) -> None:
        """One `run` per watched repository not read yet (pages and history), all at
        once in a bounded pool (`reads`), with `first` (the read of our own).

        Another repository that cannot be read (gone, unreachable, no access)
        puts only its own specs in ERROR; the dashboard's own repository failing
        still fails the refresh.
        """
        jobs: dict[Repo, Callable[[], Read | None]] = {self.own: first} if first else {}
        for repo in dict.fromkeys((s.owner, s.repo) for s in self.spec_list or []):
            if repo not in self._reads and repo not in jobs:
                jobs[repo] = self._reader(repo)
        for repo, read in reads.gather(jobs).items():
            if first and repo == self.own:
                if isinstance(read, RemoteError):
                    raise read
            elif isinstance(read, RemoteError):
                detail = redact(str(read)).splitlines()[0] if str(read) else type(read).__name__
                self.read_failures[repo] = f"cannot read {repo[0]}/{repo[1]}: {detail}"
                self._reads[repo] = (None, {}, {})
                log.warning("warning: %s; its specs are in ERROR", self.read_failures[repo])
            elif read is not None:
                self._reads[repo] = read

    def _reader(self, repo: Repo) -> Callable[[], Read]:
        store = self.store(*repo)  # made here, not in a thread: the client keeps one

        def read(tip: str | None) -> Read:
            pinned = self._pin(store, tip, own=False)
            return (pinned, *self._read(store, pinned, repo))

        return lambda: store.run(read)

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
        self.summary = self.summarize(self.now())
        return self

    fill_summary = refresh  # the original's name

    def compute_summary(
        self, mode: str | None = None, extra_text: str | None = None, show_tz: str | None = None
    ) -> PulseOxDashboard:
        """The original's refresh: `mode` (md or org), `show_tz` (the zone times are
        shown in) and `extra_text` (added to the summary before its footer)."""
        self._override(mode=mode, tz=show_tz)
        self.extra_text = extra_text
        return self.refresh(force_refresh=False)

    def format_response_error(self, response: object = None) -> str | None:
        """The original's check of its last write: None when it landed. Here a failed
        write raises instead, so only a response handed in (a `PostResult`) can fail."""
        return format_response_error(response)

    def _need_specs(self) -> None:
        """An empty spec list passed in Python is a mistake; one read from a new status
        repository is normal: its summary says how to add a spec."""
        if self._given_specs and not self.spec_list:
            raise BadInputError(
                f"spec_list is empty: the dashboard {self.owner}/{self.repo} would watch "
                "nothing; pass at least one PulseOxSpec, or leave spec_list out to use "
                "pulseox.toml"
            )

    def summarize(self, now: datetime) -> Summary:
        """Judge every spec from what was read, and render the summary text."""
        entries = verdicts.judge(
            self.spec_list or [], self._reads, self.read_failures, self.previous, now, self.settings
        )
        self.run = watcher.run_record(
            self.settings.schedule, now, self.last_run, self.settings.zone
        )
        ran = self.run.line(self.settings.tz) if self.run else None
        extra = "\n\n".join(part for part in (ran, self.extra_text) if part)
        text = render_summary(entries, now, self.settings, self.links, extra)
        return Summary(entries, text, now)

    # -- writing -------------------------------------------------------------

    def output_files(
        self, summary: Summary, config: bytes | None = None, *extra: str
    ) -> dict[str, bytes]:
        """Every file one refresh commits, besides the spec file (`render`)."""
        config = self._config_bytes() if config is None else config
        ran = self.run.line(self.settings.tz) if self.run else ""
        files, self.digest = render.render_files(
            summary, self.links, self.settings, ran, config, extra
        )
        return files

    def _config_bytes(self) -> bytes:
        """The spec file as it is in the repository when nothing changed (keeping
        its comments), else freshly written."""
        if self._config_text is not None:
            try:
                if self._specs_of(self._config_text) == (self.spec_list, self.settings):
                    return self._config_text.encode()
            except BadInputError:
                pass
        return dump_specs(self.spec_list or [], self.settings).encode()

    def write_summary(
        self,
        path_to_summary: str | None = None,
        path_to_summary_json: str | None = None,
        force_refresh: bool = True,
        allow_notify_change: bool = True,
        *,
        dry_run: bool | None = None,
    ) -> PulseOxDashboard:
        """Refresh, then commit summary, spec file and state in ONE commit; then
        notify when some status changed. Returns self, as the original, and takes
        its arguments: `path_to_summary` (saved in pulseox.toml, like --mode),
        `path_to_summary_json` (also commit the `--json` report there) and
        `allow_notify_change=False` (write without notifying)."""
        if path_to_summary is not None:
            self._override(summary=check_summary_path(path_to_summary))
        if path_to_summary_json is not None:
            check_summary_path(path_to_summary_json, (".json",))
        if self.as_of is not None:
            raise BadInputError(
                f"--as-of {self.as_of.value!r} shows the past and never writes: add --no-write"
            )
        if not self._loaded:
            self.get_remote_data()
        elif force_refresh:
            self._forget_reads(keep_own=True)
        self._need_specs()
        self.check_notifiers()
        self._read_others()
        dry = self.dry_run if dry_run is None else dry_run

        def make_change(store: Store, tip: str | None) -> Change | None:
            if self.own not in self._reads or self._reads[self.own][0] != tip:
                self._load_at(store, tip)  # someone pushed: recompute from their tip
                self._need_specs()
                self._read_others()
            now = self.now().replace(microsecond=0)
            summary = self.summary = self.summarize(now)
            config = self._config_bytes()
            extra = [self.extra_text or "", path_to_summary_json or ""]
            files = self.output_files(summary, config, *extra)
            files[SPEC_FILE] = config
            if path_to_summary_json is not None:
                report = {**self.report(), "commit": None, "dry_run": dry}  # this very commit
                files[path_to_summary_json] = (json.dumps(report, indent=2) + "\n").encode()
            message = f"pulseox: dashboard {summary.counts()} ({len(summary.changes)} changed)\n"
            gone = outputs.stale(self._record, files, self._paths(self.own))
            light = [self.settings.summary_path, path_to_summary_json or ""]
            due = heartbeat.choose(
                files, self._record, self.digest, now, self.settings.heartbeat, light
            )
            if due is None:
                return None  # nothing changed, and the heartbeat is not due
            if len(due) < len(files):
                message = f"pulseox: dashboard heartbeat, {summary.counts()} as before\n"
            return Change(due, message, now, deleted=gone)

        self.published = self.store().publish(make_change, dry_run=dry)
        if not dry and self.summary is not None:
            self.previous = statuses(self.summary.entries)
            self._config_text = self._config_bytes().decode()
            if allow_notify_change:
                self.notify_changes()
            self.last_run = self.summary.generated
            self.heartbeat_failure = watcher.ping(
                self.settings.heartbeat_url_env, self.notify_timeout
            )
        return self

    def _providers(self) -> dict[str, dict[str, Any]]:
        return self.notify if self.notify is not None else self.settings.notify

    def check_notifiers(self) -> list[str]:
        """Check the notify settings before anything is written: an unknown provider
        is refused (BadInputError); an unset environment variable is a warning,
        logged and returned (once per settings)."""
        providers = self._providers()
        if providers != self._notify_checked:
            self.notify_warnings = notify.check_providers(providers)
            self._notify_checked = providers
            for warning in self.notify_warnings:
                log.warning("warning: %s", warning)
        return self.notify_warnings

    def notify_changes(self) -> list[str]:
        """Send the Changes and the reminders due to every provider; the failures."""
        self.notify_failures = []
        if self.summary is not None:
            self.notify_failures = alerting.send(
                self._providers(),
                f"{self.owner}/{self.repo}",
                self.summary.entries,
                self.notify_timeout,
            )
        return self.notify_failures

    def report(self) -> dict[str, Any]:
        """The `--json` envelope of the last refresh: every spec, and the commit."""
        if self.summary is None:
            raise BadInputError("nothing to report: refresh the dashboard first")
        return envelope(
            f"{self.owner}/{self.repo}", self.summary, self.published, self.run, self.settings
        )

    def read_summary(self) -> str | None:
        """The last written summary text, without refreshing."""
        return read_written(self.store())
