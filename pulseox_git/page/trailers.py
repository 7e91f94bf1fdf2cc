"""Commit messages that record what a post wrote: one trailer per page.

`git log` alone then tells every page's history, without reading old blobs.
A wrapped run's fields ride along as optional keys (`started`, `duration` in
whole seconds, `exit`); a key that cannot be read is dropped, not the trailer.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from pulseox_git.errors import BadInputError
from pulseox_git.page.footer import START, Page, RunFields, format_time, parse_time

TRAILER = "Pulseox-Page"


def trailer_line(page: Page) -> str:
    """A git trailer that records one posted page, read back by `parse_trailers`."""
    record: dict[str, Any] = {"path": page.path, "report": page.report}
    if page.note:
        record["note"] = page.note
    run = page.run
    if run is not None:
        if run.started is not None:
            record["started"] = format_time(run.started)
        if run.duration is not None:
            record["duration"] = int(run.duration.total_seconds())
        if run.exit is not None:
            record["exit"] = run.exit
    return f"{TRAILER}: {json.dumps(record, ensure_ascii=False, separators=(',', ':'))}"


def _run(record: dict[str, Any]) -> RunFields | None:
    started = record.get("started")
    duration = record.get("duration")
    code = record.get("exit")
    run = RunFields(
        parse_time(started) if isinstance(started, str) else None,
        timedelta(seconds=duration)
        if isinstance(duration, int) and not isinstance(duration, bool) and duration >= 0
        else None,
        code if isinstance(code, int) and not isinstance(code, bool) else None,
    )
    return None if run == RunFields() else run


def parse_trailers(message: str) -> list[Page]:
    """The pages (without content) that a commit message says it posted."""
    pages = []
    for line in message.splitlines():
        if line.startswith(TRAILER + ": "):
            try:
                record = json.loads(line[len(TRAILER) + 2 :])
                report, note = record["report"], record.get("note", "")
                pages.append(Page(record["path"], "", report, note, _run(record)))
            except (ValueError, KeyError, TypeError, AttributeError, OverflowError):
                continue
    return pages


def commit_message(pages: list[Page], subject: str | None = None) -> str:
    """Subject line, then one trailer per page so `git log` alone tells the history."""
    if subject is not None and not isinstance(subject, str):
        raise BadInputError(f"commit message {subject!r} must be text")
    if not subject:
        if len(pages) == 1:
            subject = f"pulseox: {pages[0].path} {pages[0].report}"
        else:
            bad = sum(p.report == "BAD" for p in pages)
            started = sum(p.report == START for p in pages)
            counts = f"{len(pages) - bad - started} GOOD, {bad} BAD"
            counts += f", {started} {START}" if started else ""
            subject = f"pulseox: post {len(pages)} pages ({counts})"
    if "\n" in subject or not subject.strip():
        raise BadInputError(f"commit message {subject!r} must be one non-empty line")
    return subject + "\n\n" + "\n".join(trailer_line(p) for p in pages) + "\n"
