"""Render and parse status pages and their metadata footer. Pure; no I/O."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pulseox_git.errors import BadInputError

REPORTS = ("GOOD", "BAD")
DEFAULT_MAX_PAGE_BYTES = 1024 * 1024
_HEADER = re.compile(r"^[#*]+[ \t]+Metadata[ \t]*$", re.MULTILINE)
# The value keeps trailing blanks, so a note round-trips exactly; `parse` strips
# the other fields.
_FIELD = re.compile(r"^[-+][ \t]+([A-Za-z_]+)[ \t]*:[ \t]?(.*)$")
# Characters git ignores in a path on HFS+, so ".git\u200c" is ".git" there.
_HFS_IGNORED = re.compile("[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]")
# Line breaks that str.splitlines honours besides \n and \r.
_LINE_BREAKS = "\x85\u2028\u2029"


@dataclass(frozen=True)
class Page:
    """One page to post: where, what, and how the job went."""

    path: str
    content: str
    report: str = "GOOD"
    note: str = ""


@dataclass(frozen=True)
class Footer:
    """What a page's footer says, or the problem that stopped us reading it."""

    content: str
    report: str | None = None
    updated: datetime | None = None
    note: str = ""
    problem: str | None = None


def is_org(path: str) -> bool:
    return path.lower().endswith(".org")


def header_for(path: str) -> str:
    return "* Metadata" if is_org(path) else "# Metadata"


def format_time(moment: datetime) -> str:
    """ISO-8601 with an explicit UTC offset, to the second."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def render(path: str, content: str, report: str, updated: datetime, note: str = "") -> str:
    """The page text: the content, a blank line, then the footer.

    `parse` takes the *last* footer header, so content that itself holds a
    Metadata section round-trips unchanged.
    """
    lines = [header_for(path), f"- report: {report}", f"- updated: {format_time(updated)}"]
    if note:
        lines.append(f"- note: {note}")
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
    return Footer(content=content, report=report, updated=updated, note=note)


def parse_time(value: str) -> datetime | None:
    """An aware datetime from ISO-8601; naive times are taken as UTC."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _check_text(what: str, value: object) -> str:
    """A str that encodes as UTF-8 (no lone surrogates), else BadInputError."""
    if not isinstance(value, str):
        raise BadInputError(f"{what} must be text, not {type(value).__name__} {value!r}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInputError(f"{what} {value!r} is not valid Unicode text (lone surrogate)"
                            ) from None
    return value


def check_report(report: str) -> str:
    if report not in REPORTS:
        raise BadInputError(f"unknown report {report!r}: use GOOD or BAD")
    return report


def check_note(note: str) -> str:
    _check_text("note", note)
    if any((ord(c) < 32 and c != "\t") or c == "\x7f" or c in _LINE_BREAKS for c in note):
        raise BadInputError(f"note {note!r} has a line break or control character")
    return note


def check_path(path: str) -> str:
    """A relative POSIX path inside the repository's tree, outside `.git`."""
    _check_text("page path", path)
    if not path or not path.strip():
        raise BadInputError(f"empty page path {path!r}")
    if any(ord(c) < 32 or c == "\x7f" or c in _LINE_BREAKS for c in path):
        raise BadInputError(f"page path {path!r} has a control character")
    if path.startswith("/") or "\\" in path:
        raise BadInputError(f"page path {path!r} must be relative, with forward slashes")
    if re.match(r"^[A-Za-z]:", path):
        raise BadInputError(f"page path {path!r} looks like a Windows drive path")
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise BadInputError(f"page path {path!r} must not hold '', '.' or '..' segments")
    if any(part != part.strip() for part in parts):
        raise BadInputError(f"page path {path!r} has a name that starts or ends with a space")
    if any(_is_dotgit(part) for part in parts):
        raise BadInputError(f"page path {path!r} points into .git")
    return path


# What a dashboard writes into its own repository: a post must not overwrite it.
DASHBOARD_FILES = ("pulseox.toml", "pulseox-state.json", "summary.md", "summary.org",
                   "index.html")
DASHBOARD_FOLDERS = ("badges/",)


def check_postable(path: str) -> str:
    """A page path that is not one of the dashboard's own files."""
    if path in DASHBOARD_FILES or path.startswith(DASHBOARD_FOLDERS):
        raise BadInputError(f"page path {path!r} is written by the dashboard; "
                            "post the page under another name")
    return path


def _is_dotgit(part: str) -> bool:
    """`.git` as Windows (`.git.`, `git~1`, `.git:x`) or macOS (`.g\u200cit`) may see it."""
    name = _HFS_IGNORED.sub("", part).split(":", 1)[0].rstrip(". ").lower()
    return name in (".git", "git~1")


def check_content(content: str | bytes, max_bytes: int = DEFAULT_MAX_PAGE_BYTES) -> str:
    """UTF-8 text without NUL, at most `max_bytes` long."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError as err:
            raise BadInputError(f"content is not UTF-8 text (byte {err.start})") from None
    if not isinstance(content, str):
        raise BadInputError(f"content must be text, not {type(content).__name__} {content!r}")
    if "\0" in content:
        raise BadInputError("content is not text: it holds a NUL byte")
    size = len(content.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise BadInputError(f"content is {size} bytes, over the limit of {max_bytes}")
    try:
        content.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInputError("content is not valid Unicode text (lone surrogate)") from None
    return content


def check_page(page: Page, max_bytes: int = DEFAULT_MAX_PAGE_BYTES) -> Page:
    path = check_path(page.path)
    try:  # in a batch of hundreds, say which page
        content = check_content(page.content, max_bytes)
    except BadInputError as err:
        raise BadInputError(f"page {path!r}: {err}") from None
    return Page(path=path, content=content, report=check_report(page.report),
                note=check_note(page.note))


def age_problem(footer_time: datetime, commit_time: datetime, now: datetime,
                tolerance: timedelta) -> str | None:
    """Why a footer time cannot be trusted against its commit time, if it can't."""
    if footer_time > now + tolerance:
        return f"footer time {format_time(footer_time)} is in the future"
    if abs(footer_time - commit_time) > tolerance:
        return (f"footer time {format_time(footer_time)} disagrees with commit time "
                f"{format_time(commit_time)}")
    return None


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
