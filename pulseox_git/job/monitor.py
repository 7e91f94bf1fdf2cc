"""Watching a job from the inside: post that it started, run it, post how it went.

`run_job` wraps a command (`pulseox-git run`, `PulseOxClient.run`); `Monitor`
wraps a block of Python (`with client.monitor(...)`). Both check everything
before the job starts (bad input never runs it), and neither lets monitoring
hide, stop or delay the job: the start marker is posted in the background
while the job runs, and a post that fails is a warning (logged, and kept in
the result), never an exception over the job's own outcome.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from pulseox_git.durations import brief, parse_limit, parse_positive
from pulseox_git.errors import BadInputError, RemoteError
from pulseox_git.job import record
from pulseox_git.job.run import Outcome, RunOptions, Timer, execute
from pulseox_git.page import Page, check_content, check_note, check_path, check_postable
from pulseox_git.page.trailers import commit_message
from pulseox_git.store import auth
from pulseox_git.store.names import check_name

if TYPE_CHECKING:  # the client calls us; we only need its type
    from pulseox_git.client import PostResult, PulseOxClient

log = logging.getLogger("pulseox_git")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RECORD_ROOM = 8192  # bytes of a page the run record may take, besides the output
DEFAULT_KILL_AFTER = timedelta(seconds=10)


@dataclass(frozen=True)
class Reporting:
    """How a job reports itself: a start marker or not, the text above the run
    record, a note instead of the one made up, what to hide, the commit subject."""

    start: bool = True
    content: str = ""
    note: str | None = None
    redact_env: Sequence[str] = ()
    message: str | None = None

    def __post_init__(self) -> None:
        if self.note is not None:
            check_note(self.note)
        if isinstance(self.redact_env, (str, bytes)) or not isinstance(self.redact_env, Sequence):
            raise BadInputError(
                f"redact_env must be a list of environment variable names, not {self.redact_env!r}"
            )
        for name in self.redact_env:
            if not isinstance(name, str) or not _ENV_NAME.match(name):
                raise BadInputError(
                    f"bad redact_env name {name!r}: give the name of an environment variable, "
                    "like API_KEY"
                )
        object.__setattr__(self, "redact_env", tuple(self.redact_env))

    def check(self, client: PulseOxClient, owner: str, repo: str, path: str, room: int) -> str:
        """Everything a post will need, checked before the job starts; the path."""
        check_name("owner", owner)
        check_name("repo", repo)
        check_postable(check_path(path))
        client.store(owner, repo)  # the remote URL, branch and settings
        commit_message([Page(path, "")], self.message)
        record_bytes = client.max_page_bytes - room
        if room <= 0:
            raise BadInputError(
                f"a page limit of {client.max_page_bytes} bytes leaves no room for the run record "
                f"({record_bytes} bytes with the output shown): raise the page limit "
                "(--max-page-bytes) or show less output (--tail-bytes)"
            )
        try:
            check_content(self.content, room)
        except BadInputError as err:
            raise BadInputError(
                f"{err}: a run page keeps {record_bytes} of its {client.max_page_bytes} bytes "
                "for the run record"
            ) from None
        return path

    def subject(self, redact: record.Redact) -> str | None:
        """The commit subject, with no secret in it."""
        return redact(self.message) if self.message else self.message

    def secrets(self) -> list[str]:
        """The values of the `redact_env` variables (an unset one is a warning)."""
        values = []
        for name in self.redact_env:
            value = os.environ.get(name)
            if value:
                values.append(value)
            else:
                log.warning("warning: --redact-env %s: the variable is not set", name)
        return values


@dataclass(frozen=True)
class Job(Reporting):
    """A command to run and how: its timeout (SIGTERM, then SIGKILL `kill_after`
    later) and how much of the end of its output the page shows."""

    argv: Sequence[str] = ()
    timeout: timedelta | str | None = None
    kill_after: timedelta | str = DEFAULT_KILL_AFTER
    tail_lines: int = 20
    tail_bytes: int = 4096

    def __post_init__(self) -> None:
        super().__post_init__()
        argv = self.argv
        if isinstance(argv, str) or not argv or not all(isinstance(a, str) for a in argv):
            raise BadInputError(
                f"nothing to run: argv {argv!r} must be the command and its arguments, "
                "a list of strings such as ['backup.sh', '--full']"
            )
        if any("\0" in a for a in argv):
            raise BadInputError(f"command {argv!r} holds a NUL byte")
        object.__setattr__(self, "argv", tuple(argv))
        object.__setattr__(self, "timeout", parse_limit(self.timeout, "timeout"))
        object.__setattr__(self, "kill_after", parse_positive(self.kill_after, "kill_after"))
        for name, least in (("tail_lines", 0), ("tail_bytes", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise BadInputError(
                    f"bad {name} {value!r}: give a whole number of at least {least}"
                )

    def options(self, secrets: Sequence[str]) -> RunOptions:
        """How to run it; the output kept is a little more than shown, so a secret
        at the edge is redacted whole before the end is cut."""
        timeout = self.timeout.total_seconds() if isinstance(self.timeout, timedelta) else None
        grace = self.kill_after.total_seconds() if isinstance(self.kill_after, timedelta) else 10
        longest = max((len(v.encode()) for v in secrets), default=0)
        return RunOptions(timeout, grace, self.tail_bytes + max(4096, 2 * longest))


@dataclass(frozen=True)
class RunResult:
    """What `run_job` did: the command's outcome, the page posted for it, the two
    posts (None when skipped or failed) and why any post failed."""

    outcome: Outcome
    page: Page
    start: PostResult | None
    finish: PostResult | None
    post_errors: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        """What `pulseox-git run` exits with: the command's own status (128+N after
        signal N, 127 not found, 126 not runnable), 124 after a timeout."""
        return self.outcome.exit_code

    @property
    def report(self) -> str:
        return self.page.report

    @property
    def note(self) -> str:
        return self.page.note


@dataclass
class _Posts:
    """The posts of one job: the start marker goes in the background, so a slow or
    unreachable remote never delays the job; the outcome waits for it, so the two
    land in order. Each failure is logged and kept."""

    client: PulseOxClient
    owner: str
    repo: str
    message: str | None
    errors: list[str] = field(default_factory=list)
    _start: threading.Thread | None = None
    _started: list[PostResult | None] = field(default_factory=list)

    def begin(self, page: Page, what: str) -> None:
        def post() -> None:
            self._started.append(self.post(page, what))

        self._start = threading.Thread(target=post, name="pulseox-start", daemon=True)
        self._start.start()

    def started(self) -> PostResult | None:
        """The start marker's post, once it is done (None: skipped or failed)."""
        if self._start is not None:
            self._start.join()
        return self._started[0] if self._started else None

    def post(self, page: Page, what: str) -> PostResult | None:
        try:
            return self.client.post_many(self.owner, self.repo, [page], self.message)
        except Exception as error:  # monitoring never hides, nor stops, the job
            where = f"{self.owner}/{self.repo}:{page.path}"
            text = auth.redact(
                f"could not post the {what} to {where}: {error or type(error).__name__}"
            )
            text = text.splitlines()[0] if text else what
            log.warning("warning: %s", text)
            self.errors.append(text)
            return None


def run_job(
    client: PulseOxClient,
    owner: str,
    repo: str,
    path: str,
    job: Job,
    *,
    stdout: IO[Any] | None = None,
    stderr: IO[Any] | None = None,
    timer: Timer = time.monotonic,
) -> RunResult:
    """Post START (unless `job.start` is false), run the command, post GOOD on exit 0
    and BAD otherwise, with the run record and the end of the output."""
    job.check(client, owner, repo, path, client.max_page_bytes - RECORD_ROOM - job.tail_bytes)
    secrets = job.secrets()
    redact = record.redactor(secrets)
    posts = _Posts(client, owner, repo, job.subject(redact))
    host = socket.gethostname()
    command = record.command_line(job.argv)
    started = client.clock().replace(microsecond=0)
    if job.start:
        posts.begin(record.start_page(path, command, started, job.content, host, redact), "start")
    outcome = execute(
        job.argv, job.options(secrets), started, stdout=stdout, stderr=stderr, timer=timer
    )
    timeout = job.timeout if isinstance(job.timeout, timedelta) else None
    auto = record.outcome_note(outcome, timeout)
    facts = record.Record(
        command, host, started, record.seconds(outcome.seconds), outcome.status, auto
    )
    output = ""
    if job.tail_lines:
        whole = outcome.output_bytes <= len(outcome.output)
        found = record.tail(outcome.output, job.tail_lines, job.tail_bytes, redact, whole)
        output = record.output_section(path, found, outcome.output_bytes)
    note = job.note if job.note is not None else auto
    page = record.finish_page(path, facts, outcome.ok, note, job.content, redact, output)
    first = posts.started()
    last = posts.post(page, "outcome")
    return RunResult(outcome, page, first, last, tuple(posts.errors))


class Monitor:
    """`with client.monitor(owner, repo, path) as run:` posts START on entry, then
    GOOD when the block ends, or BAD with the exception's type and message (and
    the end of its traceback) when it raises; the exception goes on. Set
    `run.note` inside the block to choose the GOOD note. A failed post is a
    warning; with `strict`, one after a block that succeeded raises RemoteError."""

    def __init__(
        self,
        client: PulseOxClient,
        owner: str,
        repo: str,
        path: str,
        reporting: Reporting,
        *,
        strict: bool = False,
        timer: Timer = time.monotonic,
    ) -> None:
        self.path = reporting.check(client, owner, repo, path, client.max_page_bytes - RECORD_ROOM)
        self.reporting = reporting
        self.strict = strict
        self.timer = timer
        self._note = reporting.note
        self._posts = _Posts(client, owner, repo, reporting.message)
        self._redact: record.Redact = record.redactor([])
        self._host = ""
        self._started = client.clock()
        self._begin = 0.0
        self.result: PostResult | None = None  # the outcome's post

    @property
    def note(self) -> str | None:
        return self._note

    @note.setter
    def note(self, value: str | None) -> None:
        self._note = value if value is None else check_note(value)

    def __enter__(self) -> Monitor:
        self._redact = record.redactor(self.reporting.secrets())
        self._posts.message = self.reporting.subject(self._redact)
        self._host = socket.gethostname()
        self._started = self._posts.client.clock().replace(microsecond=0)
        self._begin = self.timer()
        if self.reporting.start:
            page = record.start_page(
                self.path, None, self._started, self.reporting.content, self._host, self._redact
            )
            self._posts.begin(page, "start")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        took = record.seconds(self.timer() - self._begin)
        good = error is None or (isinstance(error, SystemExit) and error.code in (None, 0))
        output = ""
        if good:
            auto = f"done after {brief(took)}"
        else:
            assert error is not None
            auto = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            raw = "".join(traceback.format_exception(kind, error, trace)).encode()
            found = record.tail(raw, 20, 4096, self._redact, whole=True)
            output = record.output_section(self.path, found, len(raw), "traceback")
        facts = record.Record(None, self._host, self._started, took, None, record.one_line(auto))
        note = self._note if self._note is not None else auto
        content = self.reporting.content
        page = record.finish_page(self.path, facts, good, note, content, self._redact, output)
        self._posts.started()
        self.result = self._posts.post(page, "outcome")
        if self.strict and good and self._posts.errors:
            raise RemoteError(self._posts.errors[-1])
