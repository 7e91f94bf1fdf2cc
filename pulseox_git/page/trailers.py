"""Commit messages that record what a post wrote: one trailer per page.

`git log` alone then tells every page's history, without reading old blobs.
"""

from __future__ import annotations

import json

from pulseox_git.errors import BadInputError
from pulseox_git.page.footer import Page

TRAILER = "Pulseox-Page"


def trailer_line(page: Page) -> str:
    """A git trailer that records one posted page, read back by `parse_trailers`."""
    record = {"path": page.path, "report": page.report}
    if page.note:
        record["note"] = page.note
    return f"{TRAILER}: {json.dumps(record, ensure_ascii=False, separators=(',', ':'))}"


def parse_trailers(message: str) -> list[Page]:
    """The pages (without content) that a commit message says it posted."""
    pages = []
    for line in message.splitlines():
        if line.startswith(TRAILER + ": "):
            try:
                record = json.loads(line[len(TRAILER) + 2 :])
                pages.append(Page(record["path"], "", record["report"], record.get("note", "")))
            except (ValueError, KeyError, TypeError):
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
            subject = f"pulseox: post {len(pages)} pages ({len(pages) - bad} GOOD, {bad} BAD)"
    if "\n" in subject or not subject.strip():
        raise BadInputError(f"commit message {subject!r} must be one non-empty line")
    return subject + "\n\n" + "\n".join(trailer_line(p) for p in pages) + "\n"
