"""A status page: its content, then a metadata footer. Render and parse; pure, no I/O.

`parse` never raises: a page edited by hand or by another tool comes back
with the problem that stopped us reading it, which the dashboard shows.
A wrapped run (`pulseox-git run`) adds optional `started:`, `duration:` and
`exit:` lines; pages without them read as before, and a run field that cannot
be read is left out rather than spoiling the report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pulseox_git.durations import DURATION, format_duration, parse_duration

FINISHED = ("GOOD", "BAD")  # how a job went
START = "START"  # a run began; it never stands for how the job went
REPORTS = (*FINISHED, START)
_HEADER = re.compile(r"^[#*]+[ \t]+Metadata[ \t]*$", re.MULTILINE)
# The value keeps trailing blanks, so a note round-trips exactly; `parse` strips
# the other fields.
_FIELD = re.compile(r"^[-+][ \t]+([A-Za-z_]+)[ \t]*:[ \t]?(.*)$")


@dataclass(frozen=True, slots=True)  # one per report in a history: keep it small
class RunFields:
    """What a wrapped run adds to its page: when it started, how long it ran (whole
    seconds) and the exit status (128+N for a death by signal N, as shells say).
    Each may be missing: a start marker has only `started`."""

    started: datetime | None = None
    duration: timedelta | None = None
    exit: int | None = None

    def lines(self) -> list[str]:
        """The footer lines, in the order `render` writes them."""
        lines = []
        if self.started is not None:
            lines.append(f"- started: {format_time(self.started)}")
        if self.duration is not None:
            lines.append(f"- duration: {format_duration(self.duration)}")
        if self.exit is not None:
            lines.append(f"- exit: {self.exit}")
        return lines

    @classmethod
    def read(cls, fields: dict[str, str]) -> RunFields | None:
        """The run fields of a parsed footer; None when it has none it can read."""
        started = parse_time(fields["started"]) if "started" in fields else None
        raw = fields.get("duration", "").strip().lower()
        duration = parse_duration(raw) if DURATION.match(raw) else None
        code = fields.get("exit", "").strip()
        exit_code = int(code) if re.fullmatch(r"-?\d{1,9}", code) else None
        run = cls(started, duration, exit_code)
        return None if run == cls() else run


@dataclass(frozen=True)
class Page:
    """One page to post: where, what, how the job went, and (for a wrapped run) the run."""

    path: str
    content: str
    report: str = "GOOD"
    note: str = ""
    run: RunFields | None = None


@dataclass(frozen=True)
class Footer:
    """What a page's footer says, or the problem that stopped us reading it."""

    content: str
    report: str | None = None
    updated: datetime | None = None
    note: str = ""
    problem: str | None = None
    run: RunFields | None = None


def is_org(path: str) -> bool:
    return path.lower().endswith(".org")


def header_for(path: str) -> str:
    return "* Metadata" if is_org(path) else "# Metadata"


def format_time(moment: datetime) -> str:
    """ISO-8601 with an explicit UTC offset, to the second."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def render(
    path: str,
    content: str,
    report: str,
    updated: datetime,
    note: str = "",
    run: RunFields | None = None,
) -> str:
    """The page text: the content, a blank line, then the footer.

    `parse` takes the *last* footer header, so content that itself holds a
    Metadata section round-trips unchanged.
    """
    lines = [header_for(path), f"- report: {report}", f"- updated: {format_time(updated)}"]
    if note:
        lines.append(f"- note: {note}")
    if run is not None:
        lines += run.lines()
    return f"{content}\n\n" + "\n".join(lines) + "\n"


def parse(text: str) -> Footer:
    """Split a page into content and footer; never raises on odd pages."""
    headers = list(_HEADER.finditer(text))
    if not headers:
        return Footer(content=text, problem="no metadata footer")
    start = headers[-1]
    content = text[: start.start()]
    content = content[:-2] if content.endswith("\n\n") else content.rstrip("\n")
    fields: dict[str, str] = {}
    for line in text[start.end() :].splitlines():
        if not line.strip():
            continue
        match = _FIELD.match(line)
        if not match:
            return Footer(content=content, problem=f"unparseable footer line {line.strip()!r}")
        fields[match.group(1).lower()] = match.group(2)
    note = fields.get("note", "")
    report = fields["report"].strip() if "report" in fields else None
    if report is None:
        return Footer(content=content, note=note, problem="footer has no report")
    if report not in REPORTS:
        return Footer(content=content, note=note, problem=f"unknown report value {report!r}")
    updated = parse_time(fields.get("updated", ""))
    if updated is None:
        problem = f"unparseable footer time {fields.get('updated', '')!r}"
        return Footer(content=content, report=report, note=note, problem=problem)
    return Footer(content, report, updated, note, run=RunFields.read(fields))


def parse_time(value: str) -> datetime | None:
    """An aware datetime from ISO-8601; naive times are taken as UTC."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def age_problem(
    footer_time: datetime, commit_time: datetime, now: datetime, tolerance: timedelta
) -> str | None:
    """Why a footer time cannot be trusted against its commit time, if it can't."""
    if footer_time > now + tolerance:
        return f"footer time {format_time(footer_time)} is in the future"
    if abs(footer_time - commit_time) > tolerance:
        return (
            f"footer time {format_time(footer_time)} disagrees with commit time "
            f"{format_time(commit_time)}"
        )
    return None
