"""What a post may write: checked paths, reports, notes and content.

Everything a job hands us is checked before any git runs, so a bad page
never reaches a commit; each refusal names the bad value.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from pulseox_git.errors import BadInputError
from pulseox_git.page.footer import REPORTS, Page, RunFields

DEFAULT_MAX_PAGE_BYTES = 1024 * 1024
# Characters git ignores in a path on HFS+, so ".git\u200c" is ".git" there.
_HFS_IGNORED = re.compile("[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]")
# Line breaks that str.splitlines honours besides \n and \r.
_LINE_BREAKS = "\x85\u2028\u2029"


def _check_text(what: str, value: object) -> str:
    """A str that encodes as UTF-8 (no lone surrogates), else BadInputError."""
    if not isinstance(value, str):
        raise BadInputError(f"{what} must be text, not {type(value).__name__} {value!r}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInputError(
            f"{what} {value!r} is not valid Unicode text (lone surrogate)"
        ) from None
    return value


def check_report(report: str) -> str:
    if report not in REPORTS:
        raise BadInputError(
            f"unknown report {report!r}: use GOOD or BAD (or START as a run begins)"
        )
    return report


def check_run(run: object) -> RunFields | None:
    """None, or RunFields with an aware start time, a duration of zero or more and a
    whole exit status."""
    if run is None:
        return None
    if not isinstance(run, RunFields):
        raise BadInputError(f"run must be RunFields, not {run!r}")
    if run.started is not None and (
        not isinstance(run.started, datetime) or run.started.tzinfo is None
    ):
        raise BadInputError(f"run start {run.started!r} must be a datetime with a time zone")
    if run.duration is not None and (
        not isinstance(run.duration, timedelta) or run.duration < timedelta(0)
    ):
        raise BadInputError(f"run duration {run.duration!r} must be a timedelta of zero or more")
    if run.exit is not None and (isinstance(run.exit, bool) or not isinstance(run.exit, int)):
        raise BadInputError(f"run exit status {run.exit!r} must be a whole number")
    return run


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
DASHBOARD_FILES = ("pulseox.toml", "pulseox-state.json", "summary.md", "summary.org", "index.html")
DASHBOARD_FOLDERS = ("badges/",)


def check_postable(path: str) -> str:
    """A page path that is not one of the dashboard's own files."""
    if path in DASHBOARD_FILES or path.startswith(DASHBOARD_FOLDERS):
        raise BadInputError(
            f"page path {path!r} is written by the dashboard; post the page under another name"
        )
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
    return Page(
        path, content, check_report(page.report), check_note(page.note), check_run(page.run)
    )
