"""PulseOxClient: the library's front door for posting and reading pages.

Compatible with the original pulseox client (`post(owner, repo, path,
content, report, note)`); it keeps one store per repository (see
`store.select.open_store`), so a fallback to the API is decided once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from pulseox_git.errors import BadInputError
from pulseox_git.job.monitor import DEFAULT_KILL_AFTER, Job, Monitor, Reporting, RunResult, run_job
from pulseox_git.page import (
    DEFAULT_MAX_PAGE_BYTES,
    Page,
    check_page,
    check_path,
    check_postable,
    commit_message,
    render,
)
from pulseox_git.store import auth
from pulseox_git.store.base import Change, Report, Store
from pulseox_git.store.select import check_transport, open_store

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PostResult:
    """What a post did. `status_code` is 201 when a page was created, else 200."""

    status_code: int
    sha: str | None
    created: tuple[str, ...]
    changed: tuple[str, ...]
    attempts: int
    dry_run: bool
    message: str
    url: str
    queued: bool = False  # in an inbox ref: on the branch once the next write folds it


def format_response_error(response: object = None) -> str | None:
    """The original's check of a response: None when it is a success (200 or 201) or
    there is none, else a short description. pulseox-git raises on failures, so
    this only ever finds fault with a response built by hand."""
    code = getattr(response, "status_code", None)
    if not response or code in (200, 201):
        return None
    shown = "unknown" if code is None else code
    reason = getattr(response, "reason", "unknown")
    return f"Bad response:\n  - code: {shown}\n  - reason: {reason}"


def as_page(page: Page | Mapping[str, str]) -> Page:
    if isinstance(page, Page):
        return page
    if not isinstance(page, Mapping):
        raise BadInputError(f"a page must be a dict or Page, not {page!r}")
    unknown = set(page) - {"path", "content", "report", "note"}
    if unknown or "path" not in page or "content" not in page:
        raise BadInputError(
            f"a page needs path and content (and may have report, note); got keys {sorted(page)}"
        )
    return Page(page["path"], page["content"], page.get("report", "GOOD"), page.get("note", ""))


class PulseOxClient:
    """Posts pages as git commits through a cached clone of each repository."""

    def __init__(
        self,
        token: str | None = None,
        *,
        remote: str | None = None,
        branch: str = "main",
        cache_dir: str | os.PathLike[str] | None = None,
        dry_run: bool = False,
        max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES,
        clock: Clock = utc_now,
        transport: str = "auto",
        api_url: str | None = None,
    ) -> None:
        self.token = auth.resolve_token(token)
        self.remote = remote
        self.branch = branch
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.dry_run = dry_run
        if (
            isinstance(max_page_bytes, bool)
            or not isinstance(max_page_bytes, int)
            or max_page_bytes < 1
        ):
            raise BadInputError(
                f"bad page size limit {max_page_bytes!r} (max_page_bytes): "
                "give a number of bytes above 0"
            )
        self.max_page_bytes = max_page_bytes
        self.clock = clock
        self.transport = check_transport(transport)
        self.api_url = api_url
        self._stores: dict[tuple[str, str], Store] = {}

    def __repr__(self) -> str:
        return f"PulseOxClient(remote={self.remote!r}, branch={self.branch!r})"

    def store(self, owner: str, repo: str) -> Store:
        """The store for owner/repo, by `transport`: the cached clone (`GitStore`),
        GitHub's REST API (`ApiStore`), or git falling back to the API (auto).
        Kept per client, so a fallback is decided once."""
        if (owner, repo) not in self._stores:
            self._stores[owner, repo] = open_store(
                owner,
                repo,
                transport=self.transport,
                remote=self.remote,
                branch=self.branch,
                token=self.token,
                cache_dir=self.cache_dir,
                api_url=self.api_url,
            )
        return self._stores[owner, repo]

    def post(
        self,
        owner: str,
        repo: str,
        path: str,
        content: str,
        report: str = "GOOD",
        note: str = "",
        message: str | None = None,
    ) -> PostResult:
        """Replace the page at `path` with `content` and a footer, in one commit."""
        return self.post_many(owner, repo, [Page(path, content, report, note)], message)

    def post_many(
        self,
        owner: str,
        repo: str,
        pages: Iterable[Page | Mapping[str, str]],
        message: str | None = None,
    ) -> PostResult:
        """Post many pages, any mix of reports, in ONE commit."""
        if isinstance(pages, (str, bytes, Mapping)) or not isinstance(pages, Iterable):
            raise BadInputError(f"pages must be a list of pages (dicts or Page), not {pages!r}")
        checked = [check_page(as_page(p), self.max_page_bytes) for p in pages]
        for page in checked:
            check_postable(page.path)
        if not checked:
            raise BadInputError("nothing to post: the batch is empty")
        seen: set[str] = set()
        for page in checked:
            if page.path in seen:
                raise BadInputError(f"page path {page.path!r} appears twice in one batch")
            seen.add(page.path)
        text = commit_message(checked, message)

        def make_change(_store: Store, _tip: str | None) -> Change:
            when = self.clock().replace(microsecond=0)
            files = {
                p.path: render(p.path, p.content, p.report, when, p.note, p.run).encode()
                for p in checked
            }
            return Change(files, text, when)

        store = self.store(owner, repo)
        done = store.publish(make_change, dry_run=self.dry_run, queue=True)
        return PostResult(
            201 if done.created else 200,
            done.sha,
            done.created,
            done.changed,
            done.attempts,
            done.dry_run,
            done.message,
            store.url,
            done.queued,
        )

    def history(self, owner: str, repo: str, path: str) -> list[Report]:
        """A page's reports, newest first, read through the cache (one fetch)."""
        check_path(path)
        store = self.store(owner, repo)
        return store.run(lambda tip: store.history(tip, [path])[path])

    def run(
        self,
        owner: str,
        repo: str,
        path: str,
        argv: Sequence[str],
        *,
        start: bool = True,
        timeout: timedelta | str | None = None,
        kill_after: timedelta | str = DEFAULT_KILL_AFTER,
        content: str = "",
        note: str | None = None,
        redact_env: Sequence[str] = (),
        tail_lines: int = 20,
        tail_bytes: int = 4096,
        message: str | None = None,
        stdout: IO[Any] | None = None,
        stderr: IO[Any] | None = None,
    ) -> RunResult:
        """Run `argv` as a monitored job: post START, run it (its output passed on
        to `stdout`/`stderr`, default ours), then post GOOD on exit 0, else BAD,
        with the run record and the end of its output. A failed post is logged
        and kept in `result.post_errors`, never raised over the command's result;
        `result.exit_code` is what `pulseox-git run` would exit with."""
        job = Job(
            start,
            content,
            note,
            redact_env,
            message,
            argv=argv,
            timeout=timeout,
            kill_after=kill_after,
            tail_lines=tail_lines,
            tail_bytes=tail_bytes,
        )
        return run_job(self, owner, repo, path, job, stdout=stdout, stderr=stderr)

    def monitor(
        self,
        owner: str,
        repo: str,
        path: str,
        *,
        start: bool = True,
        content: str = "",
        note: str | None = None,
        redact_env: Sequence[str] = (),
        message: str | None = None,
        strict: bool = False,
        timer: Callable[[], float] = time.monotonic,
    ) -> Monitor:
        """`with client.monitor(owner, repo, path) as run:` posts START, then GOOD,
        or BAD with the exception's type and message (see `job.monitor.Monitor`)."""
        reporting = Reporting(start, content, note, redact_env, message)
        return Monitor(self, owner, repo, path, reporting, strict=strict, timer=timer)
