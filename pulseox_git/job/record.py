"""The pages a run posts: a start marker, then the outcome with its run record.

Pure. The record is a code block (the shell-quoted command line, host, start,
duration, exit status and result) followed by the end of the command's
output, cleaned for a page (invalid UTF-8 replaced, terminal escapes
dropped) and bounded in lines and bytes. Every secret is replaced by `***`
before anything is cut, so no piece of one survives at an edge.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pulseox_git.durations import brief, format_duration
from pulseox_git.job.run import Outcome, signal_name
from pulseox_git.page import START, Page, RunFields, format_time
from pulseox_git.page.footer import is_org
from pulseox_git.store import auth

Redact = Callable[[str], str]
COMMAND_CHARS = 1000  # the longest command line a record shows
NOTE_CHARS = 200  # the longest note a run makes up
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x85\u2028\u2029]+")


def redactor(secrets: Iterable[str]) -> Redact:
    """Replace each of `secrets`, the token and URL credentials with ***."""
    values = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(text: str) -> str:
        for value in values:
            text = text.replace(value, "***")
        return auth.redact(text)

    return redact


def one_line(text: str, limit: int = NOTE_CHARS) -> str:
    """Text fit for a note: one line, no control characters, at most `limit` long."""
    flat = _CONTROLS.sub(" ", _LINE_BREAKS.sub(" ", text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def command_line(argv: Iterable[str]) -> str:
    """The command, shell-quoted, cut to `COMMAND_CHARS`."""
    line = shlex.join(argv)
    return line if len(line) <= COMMAND_CHARS else line[: COMMAND_CHARS - 1] + "…"


def seconds(delta: float) -> timedelta:
    """A run's duration in whole seconds, as pages and trailers keep it."""
    return timedelta(seconds=round(max(delta, 0.0)))


def outcome_note(outcome: Outcome, timeout: timedelta | None) -> str:
    """`exit 3 after 4m12s`, `killed by SIGKILL after 10s`, `timed out after 1h`,
    `command not found: backup.sh`; `(got SIGTERM)` when a stop was asked for."""
    took = brief(seconds(outcome.seconds))
    if outcome.not_started is not None:
        return one_line(outcome.not_started)
    if outcome.timed_out:
        limit = brief(timeout) if timeout is not None else took
        note = f"timed out after {limit}"
        if outcome.signal == 9:
            note += " (SIGKILL)"
        return note
    if outcome.signal is not None:
        note = f"killed by {signal_name(outcome.signal)} after {took}"
    else:
        note = f"exit {outcome.returncode} after {took}"
    if outcome.received is not None and outcome.received != outcome.signal:
        note += f" (got {signal_name(outcome.received)})"
    return note


@dataclass(frozen=True)
class Tail:
    """The end of the output as a page shows it."""

    text: str
    lines: int  # lines shown
    cut: bool  # whether lines went before the shown ones


def clean(raw: bytes) -> str:
    """Output as text a page can hold: invalid UTF-8 replaced (U+FFFD), terminal
    escape sequences dropped, a line redrawn with `\\r` shown as it ended up,
    other control characters replaced."""
    text = raw.decode("utf-8", "replace").replace("\r\n", "\n")
    text = _ESCAPES.sub("", text)
    text = "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))
    return _CONTROLS.sub("\ufffd", text.replace("\t", "    "))


def tail(raw: bytes, max_lines: int, max_bytes: int, redact: Redact, whole: bool) -> Tail:
    """The last `max_lines` lines of `raw`, at most `max_bytes` of UTF-8, redacted
    first. `whole` says `raw` is all the output (nothing went before it)."""
    text = redact(clean(raw))
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    cut = not whole
    if not whole and len(lines) > 1:  # the first line kept was likely cut mid-line
        lines.pop(0)
    if len(lines) > max_lines:
        lines, cut = lines[len(lines) - max_lines :], True
    size, keep = 0, 0
    for line in reversed(lines):  # from the end, as many whole lines as fit
        size += len(line.encode()) + (1 if keep else 0)
        if size > max_bytes:
            break
        keep += 1
    if keep < len(lines):
        cut = True
        if keep == 0:  # one line longer than the bound: its end
            lines = [lines[-1].encode()[-max_bytes:].decode("utf-8", "ignore")]
        else:
            lines = lines[len(lines) - keep :]
    return Tail("\n".join(lines), len(lines), cut)


def amount(size: int) -> str:
    """A byte count as people read it: `512 bytes`, `183.1 kB`, `1.2 GB` (SI units)."""
    if size < 1000:
        return f"{size} byte{'' if size == 1 else 's'}"
    value, unit = size / 1000, "kB"
    for bigger in ("MB", "GB"):
        if value < 999.95:
            break
        value, unit = value / 1000, bigger
    return f"{value:.1f} {unit}"


def block(path: str, text: str) -> str:
    """`text` as a code block of the page's markup: a markdown fence longer than any
    run of backticks inside, or an org example block with its lines escaped."""
    if is_org(path):
        escaped = re.sub(r"^(,*(?:\*|#\+))", r",\1", text, flags=re.M)
        return f"#+begin_example\n{escaped}\n#+end_example"
    runs = [len(r) for r in re.findall(r"`+", text)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return f"{fence}\n{text}\n{fence}"


@dataclass(frozen=True)
class Record:
    """The facts about one run a page shows, before redaction."""

    command: str | None  # the shell-quoted command line (None: a Python block)
    host: str
    started: datetime
    duration: timedelta | None = None
    status: int | None = None
    result: str = "running"

    def text(self, redact: Redact) -> str:
        rows = [f"$ {self.command}"] if self.command is not None else []
        rows += [f"host:     {self.host}", f"started:  {format_time(self.started)}"]
        if self.duration is not None:
            rows.append(f"duration: {format_duration(self.duration)}")
        if self.status is not None:
            rows.append(f"exit:     {self.status}")
        rows.append(f"result:   {self.result}")
        return redact(clean("\n".join(rows).encode()))


def compose(path: str, content: str, record: Record, redact: Redact, output: str = "") -> str:
    """The page body: the content, the record, then the output section."""
    parts = [redact(content).rstrip("\n")] if content.strip() else []
    parts.append(block(path, record.text(redact)))
    if output:
        parts.append(output)
    return "\n\n".join(parts)


def output_section(path: str, found: Tail, total_bytes: int, what: str = "output") -> str:
    """`Output, the last 20 lines of 1.2 MB:` and the block, or `No output.`"""
    if not found.lines and not found.text:
        return f"No {what}."
    if found.cut:
        head = f"{what.capitalize()}, the last {found.lines} lines of {amount(total_bytes)}:"
    else:
        head = f"{what.capitalize()} ({found.lines} line{'s' if found.lines != 1 else ''}):"
    return f"{head}\n\n{block(path, found.text)}"


def start_page(
    path: str, command: str | None, started: datetime, content: str, host: str, redact: Redact
) -> Page:
    """The start marker: report START, the record so far, `started` in the footer."""
    record = Record(command, host, started)
    body = compose(path, content, record, redact)
    return Page(path, body, START, one_line(redact(f"started on {host}")), RunFields(started))


def finish_page(
    path: str,
    record: Record,
    good: bool,
    note: str,
    content: str,
    redact: Redact,
    output: str = "",
) -> Page:
    """The outcome: GOOD or BAD, the record and the output; its footer carries the
    start (the run's id: it matches the start marker's), duration and exit status."""
    run = RunFields(record.started, record.duration, record.status)
    body = compose(path, content, record, redact, output)
    return Page(path, body, "GOOD" if good else "BAD", one_line(redact(note)), run)
