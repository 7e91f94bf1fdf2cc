"""Reports over time, read from ONE streaming `git log` pass over the branch.

Posts record each page and its report in commit trailers, so the log alone
tells the history. Commits without trailers (hand edits, other tools) fall back
to the footer of the page's blob at that commit, read for all such commits at
once by one `git cat-file --batch`. Cost grows with commits + pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

from pulseox_git.page import parse, parse_trailers

RECORD = b"\x1e"


@dataclass(frozen=True)
class Report:
    """One commit that touched a watched page, and what the page said then."""

    commit: str
    time: datetime  # the commit time
    report: str | None  # GOOD, BAD, or None when the page had no readable report
    note: str = ""
    problem: str | None = None  # why `report` is None ("deleted", "no metadata footer", ...)


def log_records(chunks: Iterable[bytes]) -> Iterator[tuple[str, int, str, list[str]]]:
    """Parse `git log -z --name-only --format=%x1e%H %ct%n%B` output as it streams:
    (commit, commit time, message, touched paths) per commit, newest first."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(RECORD)
        for record in complete:
            if record:
                yield _record(record)
    if pending:
        yield _record(pending)


def _record(record: bytes) -> tuple[str, int, str, list[str]]:
    head, _, names = record.partition(b"\0")
    first_line, _, message = head.partition(b"\n")
    commit, _, stamp = first_line.decode().partition(" ")
    paths = [n.decode("utf-8", "surrogateescape") for n in names.lstrip(b"\n").split(b"\0") if n]
    return commit, int(stamp), message.decode("utf-8", "replace"), paths


def read_history(store, tip: str | None, paths: Iterable[str],
                 since: str | None = None) -> dict[str, list[Report]]:
    """Every report of each watched path reachable from `tip`, newest first.

    With `since` (an ancestor of `tip`), only the commits after it are read.
    """
    watched = set(paths)
    history: dict[str, list[Report]] = {path: [] for path in watched}
    if tip is None or not watched:
        return history
    revs = [f"{since}..{tip}"] if since else [tip]
    untrailed: list[tuple[str, str, datetime]] = []
    args = ["log", "-z", "--no-renames", "--name-only", "--format=%x1e%H %ct%n%B", *revs, "--"]
    for commit, stamp, message, touched in log_records(store.stream(*args)):
        hits = [p for p in touched if p in watched]
        if not hits:
            continue
        when = datetime.fromtimestamp(stamp, timezone.utc)
        trailers = {page.path: page for page in parse_trailers(message)}
        for path in hits:
            page = trailers.get(path)
            if page is None:
                untrailed.append((commit, path, when))
                history[path].append(Report(commit, when, None))  # filled in below
            else:
                history[path].append(Report(commit, when, page.report, page.note))
    _fill_from_blobs(store, history, untrailed)
    return history


def _fill_from_blobs(store, history: dict[str, list[Report]],
                     untrailed: list[tuple[str, str, datetime]]) -> None:
    """Read the footers of trailer-less commits' pages with one cat-file process."""
    if not untrailed:
        return
    request = b"".join(f"{commit}:{path}\n".encode() for commit, path, _ in untrailed)
    out = store.git("cat-file", "--batch", input=request).stdout
    found: dict[tuple[str, str], Report] = {}
    pos = 0
    for commit, path, when in untrailed:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        if header[-1] == b"missing":
            found[(commit, path)] = Report(commit, when, None, problem="deleted")
            pos = end + 1
            continue
        size = int(header[2])
        footer = parse(out[end + 1 : end + 1 + size].decode("utf-8", "replace"))
        found[(commit, path)] = Report(commit, when, footer.report, footer.note, footer.problem)
        pos = end + 2 + size
    for path, reports in history.items():
        reports[:] = [found.get((r.commit, path), r) if r.report is None else r for r in reports]
