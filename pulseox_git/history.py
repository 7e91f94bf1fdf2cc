"""Reports over time, read from ONE streaming `git log` pass over the branch.

Posts record each page and its report in commit trailers, so the log alone
tells the history. Commits without trailers (hand edits, other tools) fall back
to the footer of the page's blob at that commit: `--raw` gives the blob ids, and
one `git cat-file --batch` reads them all. Cost grows with commits + pages.

What was read is cached per branch beside the cached clone, keyed by commit id.
The cache is reused only when its tip is an ancestor of the new tip, so a
refresh after a few posts reads only the new commits, and a rewritten branch
(force-push) is read again from scratch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone

from pulseox_git.page import parse, parse_trailers

log = logging.getLogger("pulseox_git")
RECORD = b"\x1e"
_HEAD = re.compile(rb"^[0-9a-f]{40,64} \d+\n")
_SHA = re.compile(r"^[0-9a-f]{40,64}$")
CACHE_VERSION = 1
LOG_FORMAT = "--format=%x1e%H %ct%n%B"


@dataclass(frozen=True, slots=True)  # many of them: keep each small
class Report:
    """One commit that touched a watched page, and what the page said then."""

    commit: str
    time: datetime  # the commit time
    report: str | None  # GOOD, BAD, or None when the page had no readable report
    note: str = ""
    problem: str | None = None  # why `report` is None ("deleted", "no metadata footer", ...)

    def to_json(self) -> dict:
        return {"time": self.time.isoformat(timespec="seconds"), "report": self.report,
                "note": self.note, "problem": self.problem, "commit": self.commit}


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
            touched.append(Touch(name.decode("utf-8", "surrogateescape"),
                                 parts[4][:1].decode(), parts[3].decode()))
    return commit, int(stamp), message.decode("utf-8", "replace"), touched


def read_commits(store, tip: str | None, paths: Iterable[str],
                 since: str | None = None) -> list[Commit]:
    """The commits reachable from `tip` (after `since`) that touched a watched path,
    newest first, with every watched page's report at that commit."""
    watched = set(paths)
    if tip is None or not watched or since == tip:
        return []
    revs = [f"{since}..{tip}"] if since else [tip]
    commits: list[Commit] = []
    untrailed: list[tuple[Commit, Touch]] = []
    args = ["log", "-z", "--no-renames", "--raw", "--no-abbrev", LOG_FORMAT, *revs, "--"]
    for sha, stamp, message, touched in log_records(store.stream(*args)):
        hits = [t for t in touched if t.path in watched]
        if not hits:
            continue
        commit = Commit(sha, stamp)
        when = datetime.fromtimestamp(stamp, timezone.utc)
        trailers = {page.path: page for page in parse_trailers(message)}
        for touch in hits:
            page = trailers.get(touch.path)
            if touch.status == "D":
                commit.reports[touch.path] = Report(sha, when, None, problem="deleted")
            elif page is None:
                untrailed.append((commit, touch))
            else:
                commit.reports[touch.path] = Report(sha, when, page.report, page.note)
        commits.append(commit)
    _fill_from_blobs(store, untrailed)
    return commits


def _fill_from_blobs(store, untrailed: list[tuple[Commit, Touch]]) -> None:
    """Read the footers of trailer-less commits' pages with one cat-file process
    (after one fetch of the blobs a blobless clone lacks)."""
    if not untrailed:
        return
    blobs = list(dict.fromkeys(touch.blob for _, touch in untrailed))
    if getattr(store, "blobless", False):
        store.prefetch(blobs)
    out = store.git("cat-file", "--batch", input="".join(f"{b}\n" for b in blobs).encode()).stdout
    footers = {}
    pos = 0
    for blob in blobs:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        if header[-1] == b"missing":
            footers[blob] = None
            pos = end + 1
            continue
        size = int(header[2])
        footers[blob] = parse(out[end + 1 : end + 1 + size].decode("utf-8", "replace"))
        pos = end + 2 + size
    for commit, touch in untrailed:
        when = datetime.fromtimestamp(commit.stamp, timezone.utc)
        footer = footers[touch.blob]
        commit.reports[touch.path] = (
            Report(commit.sha, when, None, problem="page content unavailable") if footer is None
            else Report(commit.sha, when, footer.report, footer.note, footer.problem))


def by_path(commits: Iterable[Commit], paths: Iterable[str]) -> dict[str, list[Report]]:
    """{path: [Report, ...] newest first} for the watched `paths`."""
    history: dict[str, list[Report]] = {path: [] for path in paths}
    for commit in commits:
        for path, report in commit.reports.items():
            reports = history.get(path)
            if reports is not None:
                reports.append(report)
    return history


def read_history(store, tip: str | None, paths: Iterable[str],
                 since: str | None = None) -> dict[str, list[Report]]:
    """Every report of each watched path reachable from `tip`, newest first, with no
    cache. With `since` (an ancestor of `tip`), only the commits after it are read."""
    paths = list(paths)
    return by_path(read_commits(store, tip, paths, since), paths)


# -- the cache ---------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """How a cached read went, for logs, tests and benchmarks."""

    mode: str  # "hit" (nothing new), "incremental", "cold" (no cache), "rewritten", "past"
    commits_read: int  # commits that touched a watched path, read by this call


def cache_file(store):
    """Beside the cached clone, one file per branch; it goes when the clone is rebuilt."""
    digest = hashlib.sha256(store.branch.encode()).hexdigest()[:12]
    return store.path / f"pulseox-history-{digest}.json"


def _load(store) -> dict | None:
    try:
        data = json.loads(cache_file(store).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION \
            or data.get("url") != store.url or data.get("branch") != store.branch \
            or not _SHA.match(str(data.get("tip"))) or not isinstance(data.get("paths"), list) \
            or not all(isinstance(p, str) for p in data["paths"]):
        return None
    try:  # a damaged cache is no cache, never an error
        data["commits"] = _decode(data["commits"])
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    return data


def _decode(rows: list) -> list[Commit]:
    commits = []
    for sha, stamp, pages in rows:
        when = datetime.fromtimestamp(stamp, timezone.utc)
        reports = {path: Report(sha, when, report, note, problem)
                   for path, report, note, problem in pages}
        commits.append(Commit(sha, stamp, reports))
    return commits


def _save(store, tip: str, paths: set[str], commits: list[Commit]) -> None:
    """Write the cache atomically (temp file, then rename); a failure only costs speed."""
    rows = [[c.sha, c.stamp, [[p, r.report, r.note, r.problem] for p, r in c.reports.items()]]
            for c in commits]
    data = {"version": CACHE_VERSION, "url": store.url, "branch": store.branch, "tip": tip,
            "paths": sorted(paths), "commits": rows}
    target = cache_file(store)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".history-", dir=target.parent)
        with os.fdopen(fd, "w") as handle:
            # dumps, not dump: json.dump streams through the pure-Python encoder
            handle.write(json.dumps(data, separators=(",", ":")))
        os.replace(tmp, target)
    except OSError as err:
        log.debug("could not write the history cache %s: %s", target, err)


def _is_ancestor(store, old: str, new: str) -> bool:
    proc = store.git("merge-base", "--is-ancestor", old, new, check=False)
    return proc.returncode == 0


def cached_history(store, tip: str | None, paths: Iterable[str], save: bool = True
                   ) -> tuple[dict[str, list[Report]], Outcome]:
    """`read_history`, reading only what the cache does not already hold.

    Call with the store's lock held (inside `GitStore.run`). `save=False` reads
    without writing, for looking at an older revision.
    """
    wanted = set(paths)
    if tip is None or not wanted:
        return by_path([], wanted), Outcome("cold", 0)
    cached = _load(store)
    mode = "cold"
    if cached is not None:
        known = set(cached["paths"])
        if cached["tip"] == tip or _is_ancestor(store, cached["tip"], tip):
            if wanted <= known:
                new = read_commits(store, tip, known, since=cached["tip"])
                commits = new + cached["commits"]
                if save and new:
                    _save(store, tip, known, commits)
                return by_path(commits, wanted), Outcome("incremental" if new else "hit",
                                                         len(new))
            wanted |= known  # keep what others watch; one pass reads them all
        elif _is_ancestor(store, tip, cached["tip"]):  # an older revision: leave the cache
            commits = read_commits(store, tip, wanted)
            return by_path(commits, wanted), Outcome("past", len(commits))
        elif save:
            mode = "rewritten"
            log.info("the branch %s was rewritten; reading its history again", store.branch)
    commits = read_commits(store, tip, wanted)
    if save:
        _save(store, tip, wanted, commits)
    return by_path(commits, set(paths)), Outcome(mode, len(commits))


def page_reports(store, path: str) -> list[Report]:
    """One page's reports, newest first: fetch, then read through the cache
    (`store.history`, so the REST API store works too)."""
    return store.run(lambda tip: store.history(tip, [path])[path])


# -- as of an earlier revision or time ---------------------------------------


def parse_as_of(value: str) -> datetime | str:
    """An aware time (ISO-8601; naive means UTC) or a revision name to resolve."""
    from pulseox_git.errors import BadInputError
    from pulseox_git.page import parse_time

    text = value.strip()
    if not text or text.startswith("-") or any(ord(c) < 32 for c in text):
        raise BadInputError(f"bad --as-of {value!r}: use a commit (abc1234, HEAD~3) or a time "
                            "(2026-05-01T12:00Z)")
    moment = parse_time(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    return moment or text


def resolve_as_of(store, tip: str | None, point: datetime | str) -> tuple[str | None, datetime]:
    """The commit on the branch that stood at `point`, and the time it stands for.
    A revision means its commit and commit time; a time, the last commit at or
    before it. `HEAD` and the branch name mean the fetched branch."""
    from pulseox_git.errors import BadInputError

    if tip is None:
        if isinstance(point, datetime):
            return None, point
        raise BadInputError(f"bad --as-of {point!r}: the branch {store.branch} is empty")
    if isinstance(point, datetime):
        out = store.git("rev-list", "-1", f"--before={int(point.timestamp())}", tip).stdout
        return (out.decode().strip() or None), point
    name = point
    for alias in ("HEAD", store.branch, f"origin/{store.branch}"):
        if name == alias or name.startswith((f"{alias}~", f"{alias}^")):
            name = tip + name[len(alias):]
            break
    proc = store.git("rev-parse", "--verify", "--quiet", "--end-of-options",
                     f"{name}^{{commit}}", check=False)
    sha = proc.stdout.decode().strip()
    if proc.returncode or not sha or not _is_ancestor(store, sha, tip):
        raise BadInputError(f"bad --as-of {point!r}: no such commit on {store.branch}")
    stamp = store.git("log", "-1", "--format=%ct", sha).stdout.decode().strip()
    return sha, datetime.fromtimestamp(int(stamp), timezone.utc)


class PinnedStore:
    """A store that reads as of `point`: `run(work)` fetches as usual, then hands
    `work` the commit that stood at `point` instead of the tip."""

    def __init__(self, store, point: datetime | str) -> None:
        self.store = store
        self.point = point

    def __getattr__(self, name: str):
        if name.startswith("__") or name in ("store", "point"):
            raise AttributeError(name)  # not set yet (copy, pickle): never recurse
        return getattr(self.store, name)

    def git_store(self):
        from pulseox_git.errors import BadInputError
        from pulseox_git.gitstore import GitStore

        store = self.store
        if not isinstance(store, GitStore):  # AutoStore: git unless it fell back
            store = getattr(store, "chosen", None) or getattr(store, "git_store", None)
        if not isinstance(store, GitStore):
            raise BadInputError("--as-of reads the git history: use the git transport")
        return store

    def run(self, work):
        return self.store.run(
            lambda tip: work(resolve_as_of(self.git_store(), tip, self.point)[0]))


def pinned_client(client, point: datetime, exact: dict[tuple[str, str], str] | None = None):
    """A copy of `client` whose stores all read as they stood at `point` (or at the
    commit `exact` names for a repository)."""
    import copy

    pinned = copy.copy(client)
    exact = exact or {}
    pinned.store = lambda owner, repo: PinnedStore(client.store(owner, repo),
                                                   exact.get((owner, repo), point))
    return pinned


def as_of_client(client, owner: str, repo: str, value: str):
    """(client reading as of `value`, the time that stands for) for the dashboard in
    owner/repo: a commit of its branch, or a time."""
    point = parse_as_of(value)
    if isinstance(point, datetime):
        return pinned_client(client, point), point
    store = PinnedStore(client.store(owner, repo), point)
    sha, when = store.store.run(lambda tip: resolve_as_of(store.git_store(), tip, point))
    return pinned_client(client, when, {(owner, repo): sha}), when
