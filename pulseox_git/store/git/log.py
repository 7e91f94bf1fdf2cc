"""Reports over time, read from ONE streaming `git log` pass over the branch.

Posts record each page and its report in commit trailers, so the log alone
tells the history. Commits without trailers (hand edits, other tools) fall back
to the footer of the page's blob at that commit: `--raw` gives the blob ids, and
one `git cat-file --batch` reads them all. Cost grows with commits + pages.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pulseox_git.page import parse, parse_trailers
from pulseox_git.store.base import History, Report
from pulseox_git.store.git import objects
from pulseox_git.store.git.command import Git

RECORD = b"\x1e"
_HEAD = re.compile(rb"^[0-9a-f]{40,64} \d+\n")
LOG_FORMAT = "--format=%x1e%H %ct%n%B"


@dataclass(frozen=True, slots=True)  # many of them: keep each small
class Touch:
    """One path changed by one commit, as `git log --raw` lists it."""

    path: str
    status: str  # A, M, D, T
    blob: str  # the new blob id (zeros when deleted)


@dataclass
class Commit:
    """One commit of the walk and the watched pages it touched, read or still to read."""

    sha: str
    stamp: int
    reports: dict[str, Report] = field(default_factory=dict)


def log_records(chunks: Iterable[bytes]) -> Iterator[tuple[str, int, str, list[Touch]]]:
    """Parse `git log -z --raw --no-abbrev --format=%x1e%H %ct%n%B` as it streams:
    (commit, commit time, message, touched paths) per commit, newest first.

    A piece that does not start like a record is a message that held the
    separator itself (another tool's commit), so it is joined back on."""
    pending = b""
    current = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(RECORD)
        for piece in complete:
            if _HEAD.match(piece):
                if current:
                    yield _record(current)
                current = piece
            elif current:
                current += RECORD + piece
    if pending and _HEAD.match(pending):
        if current:
            yield _record(current)
        current = pending
    elif pending and current:
        current += RECORD + pending
    if current:
        yield _record(current)


def _record(record: bytes) -> tuple[str, int, str, list[Touch]]:
    head, _, raw = record.partition(b"\0")
    first_line, _, message = head.partition(b"\n")
    commit, _, stamp = first_line.decode().partition(" ")
    fields = raw.lstrip(b"\n").split(b"\0")
    touched = []
    for meta, name in zip(fields[0::2], fields[1::2], strict=False):
        if meta.startswith(b":"):  # ":old_mode new_mode old_blob new_blob STATUS"
            parts = meta.split()
            touched.append(
                Touch(
                    name.decode("utf-8", "surrogateescape"),
                    parts[4][:1].decode(),
                    parts[3].decode(),
                )
            )
    return commit, int(stamp), message.decode("utf-8", "replace"), touched


def read_commits(
    git: Git,
    tip: str | None,
    paths: Iterable[str],
    since: str | None = None,
    blobless: bool = False,
) -> list[Commit]:
    """The commits reachable from `tip` (after `since`) that touched a watched path,
    newest first, with every watched page's report at that commit."""
    watched = set(paths)
    if tip is None or not watched or since == tip:
        return []
    revs = [f"{since}..{tip}"] if since else [tip]
    commits: list[Commit] = []
    untrailed: list[tuple[Commit, Touch]] = []
    args = ["log", "-z", "--no-renames", "--raw", "--no-abbrev", LOG_FORMAT, *revs, "--"]
    for sha, stamp, message, touched in log_records(git.stream(*args)):
        hits = [t for t in touched if t.path in watched]
        if not hits:
            continue
        commit = Commit(sha, stamp)
        when = datetime.fromtimestamp(stamp, UTC)
        trailers = {page.path: page for page in parse_trailers(message)}
        for touch in hits:
            page = trailers.get(touch.path)
            if touch.status == "D":
                commit.reports[touch.path] = Report(sha, when, None, problem="deleted")
            elif page is None:
                untrailed.append((commit, touch))
            else:
                commit.reports[touch.path] = Report(sha, when, page.report, page.note, run=page.run)
        commits.append(commit)
    _fill_from_blobs(git, untrailed, blobless)
    return commits


def _fill_from_blobs(git: Git, untrailed: list[tuple[Commit, Touch]], blobless: bool) -> None:
    """Read the footers of trailer-less commits' pages with one cat-file process
    (after one fetch of the blobs a blobless clone lacks)."""
    if not untrailed:
        return
    blobs = list(dict.fromkeys(touch.blob for _, touch in untrailed))
    if blobless:
        objects.prefetch(git, blobs)
    texts = objects.cat_blobs(git, blobs)
    footers = {
        blob: None if text is None else parse(text.decode("utf-8", "replace"))
        for blob, text in texts.items()
    }
    for commit, touch in untrailed:
        when = datetime.fromtimestamp(commit.stamp, UTC)
        footer = footers[touch.blob]
        commit.reports[touch.path] = (
            Report(commit.sha, when, None, problem="page content unavailable")
            if footer is None
            else Report(commit.sha, when, footer.report, footer.note, footer.problem, footer.run)
        )


def by_path(commits: Iterable[Commit], paths: Iterable[str]) -> History:
    """{path: [Report, ...] newest first} for the watched `paths`."""
    history: History = {path: [] for path in paths}
    for commit in commits:
        for path, report in commit.reports.items():
            reports = history.get(path)
            if reports is not None:
                reports.append(report)
    return history


def read_history(
    git: Git,
    tip: str | None,
    paths: Iterable[str],
    since: str | None = None,
    blobless: bool = False,
) -> History:
    """Every report of each watched path reachable from `tip`, newest first, with no
    cache. With `since` (an ancestor of `tip`), only the commits after it are read."""
    paths = list(paths)
    return by_path(read_commits(git, tip, paths, since, blobless), paths)


def merge_newest(first: list[Report], second: list[Report]) -> list[Report]:
    """Two newest-first lists of reports as one, newest first (on a tie, `first`'s)."""
    if not first:
        return second
    return list(heapq.merge(first, second, key=lambda r: -r.time.timestamp()))
