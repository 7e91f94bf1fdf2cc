"""The store interface: what the client and the dashboard need from a repository.

Two stores implement it: `store.git.GitStore` (a cached clone; the normal
case) and `store.api.ApiStore` (GitHub's REST API, where no clone is
possible). Callers never ask which one they hold. Everything here is shared
by both: the change a commit makes, what publishing it did, one report of a
page's history, the rules that keep a write inside the repository's tree, and
the pause between attempts after a lost race.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from pulseox_git import settings
from pulseox_git.errors import BadInputError
from pulseox_git.page.footer import RunFields, format_time

T = TypeVar("T")
TREE_MODE = "040000"
_KINDS = {"040000": "a folder", "120000": "a symlink"}


@dataclass(frozen=True)
class Change:
    """What one commit should write: files by path, the paths it deletes (those
    that are there; a path also in `files` is written, not deleted), and the
    commit message."""

    files: dict[str, bytes]
    message: str
    when: datetime = field(default_factory=lambda: datetime.now(UTC))
    deleted: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        kept = tuple(dict.fromkeys(p for p in self.deleted if p not in self.files))
        object.__setattr__(self, "deleted", kept)

    @property
    def paths(self) -> list[str]:
        """Every path the commit writes or deletes."""
        return [*self.files, *self.deleted]


@dataclass(frozen=True)
class Published:
    """What `Store.publish` did: the commit, its parent, and which paths it created,
    changed and deleted. `sha` None (and not a dry run): nothing to publish."""

    sha: str | None
    parent: str | None
    created: tuple[str, ...]
    changed: tuple[str, ...]
    attempts: int
    dry_run: bool
    message: str
    deleted: tuple[str, ...] = ()
    queued: bool = False  # pushed to an inbox ref, not the branch: the next winner folds it

    @classmethod
    def of(
        cls,
        sha: str | None,
        parent: str | None,
        change: Change,
        existing: set[str],
        attempt: int,
        dry_run: bool,
        queued: bool = False,
    ) -> Published:
        """The outcome of writing `change`, whose paths in `existing` were there before."""
        created = tuple(p for p in change.files if p not in existing)
        changed = tuple(p for p in change.files if p in existing)
        deleted = tuple(p for p in change.deleted if p in existing)
        return cls(sha, parent, created, changed, attempt, dry_run, change.message, deleted, queued)

    @classmethod
    def nothing(cls, tip: str | None, attempt: int, dry_run: bool) -> Published:
        """`make_change` found nothing to publish: no commit, nothing pushed."""
        return cls(None, tip, (), (), attempt, dry_run, "")


@dataclass(frozen=True, slots=True)  # many of them: keep each small
class Report:
    """One commit that touched a watched page, and what the page said then."""

    commit: str
    time: datetime  # the commit time
    report: str | None  # GOOD, BAD, START, or None when the page had no readable report
    note: str = ""
    problem: str | None = None  # why `report` is None ("deleted", "no metadata footer", ...)
    run: RunFields | None = None  # a wrapped run's start, duration and exit status

    def to_json(self) -> dict[str, Any]:
        run = self.run
        return {
            "time": self.time.isoformat(timespec="seconds"),
            "report": self.report,
            "note": self.note,
            "problem": self.problem,
            "commit": self.commit,
            "run": None
            if run is None
            else {
                "started": format_time(run.started) if run.started else None,
                "duration_s": run.duration.total_seconds() if run.duration is not None else None,
                "exit": run.exit,
            },
        }


History = dict[str, list[Report]]  # reports by page path, newest first
MakeChange = Callable[["Store", str | None], Change | None]  # None: nothing to publish


class Store(Protocol):
    """One branch of one repository."""

    @property
    def url(self) -> str: ...

    @property
    def branch(self) -> str: ...

    def run(self, work: Callable[[str | None], T]) -> T:
        """Bring the branch up to date, then `work(tip)` (tip None: the branch is empty)."""
        ...

    def read_files(self, rev: str | None, paths: Sequence[str]) -> dict[str, bytes]:
        """The contents of the regular files among `paths` at `rev`."""
        ...

    def history(self, tip: str | None, paths: Sequence[str]) -> History:
        """Every report of each path reachable from `tip`, newest first."""
        ...

    def commit_at(self, tip: str | None, point: datetime | str) -> tuple[str | None, datetime]:
        """The commit that stood on the branch at `point` (a time, or a revision such
        as `HEAD~3`), and the time it stands for."""
        ...

    def publish(
        self, make_change: MakeChange, dry_run: bool = False, queue: bool = False
    ) -> Published:
        """Build `make_change(store, tip)` on the tip and write it without force; on a
        lost race build it again on the new tip. When it returns None, nothing is
        written (`Published.nothing`). With `queue` (posts), a write that keeps
        losing goes to an inbox ref of its own instead (`Published.queued`)."""
        ...


def path_prefixes(paths: Sequence[str]) -> list[str]:
    """Every path and each of its parent folders, sorted."""
    return sorted({page.rsplit("/", i)[0] for page in paths for i in range(page.count("/") + 1)})


def confine(entries: Mapping[str, tuple[str, str]], paths: Sequence[str]) -> set[str]:
    """Refuse paths that land on a folder, a symlink or a submodule, or go through
    a file or symlink; return the paths that already exist. `entries` are the
    mode and id of each of `path_prefixes(paths)` that exists."""
    existing = set()
    for page in paths:
        parts = page.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            mode = entries.get(parent, (TREE_MODE,))[0]
            if mode != TREE_MODE:
                kind = "a symlink" if mode == "120000" else "not a folder"
                raise BadInputError(
                    f"page path {page!r} goes through {parent!r}, which is {kind} in the repository"
                )
        if page in entries:
            mode = entries[page][0]
            if mode not in ("100644", "100755"):
                kind = _KINDS.get(mode, "a submodule")
                raise BadInputError(f"page path {page!r} is {kind} in the repository")
            existing.add(page)
    return existing


@dataclass
class Ledger:
    """What this process pushed, so an interrupted run can say whether it landed."""

    landed: list[tuple[str, str]] = field(default_factory=list)  # (remote, commit)
    pushing: tuple[str, str] | None = None  # a push whose fate is unknown: (remote, commit)

    def start(self, url: str, sha: str = "") -> None:
        """A push of `sha` (or an API write) begins; until `landed` or `refused`, its
        fate is unknown (a push killed midway may still have landed whole)."""
        self.pushing = (url, sha)

    def landed_now(self, sha: str | None = None) -> None:
        if self.pushing is not None:
            url, started = self.pushing
            self.landed.append((url, sha or started))
        self.pushing = None

    def refused(self) -> None:
        """The remote answered no (a lost race): nothing landed."""
        self.pushing = None

    def describe(self) -> str:
        """One line: nothing pushed, what landed, or a push whose fate git decides."""
        if self.pushing is not None:
            url, sha = self.pushing
            what = f"pushing {sha[:12]} to" if sha else "writing a commit to"
            return (
                f"while {what} {url}: it landed whole or not at all, never half; "
                "`pulseox-git history` or `git ls-remote` shows which"
            )
        if self.landed:
            done = ", ".join(f"{sha[:12]} to {url}" for url, sha in self.landed)
            return f"after pushing {done}: that landed; anything after it did not run"
        return "before anything was pushed: the remote is unchanged"


LEDGER = Ledger()  # one per process: the CLI reads it when interrupted


class Backoff:
    """Pauses between attempts after a lost race, bounded by a count and a deadline.

    Full jitter (a pause drawn from zero up to a growing cap) spreads racing
    writers out instead of waking them together; no pause runs past the deadline.
    """

    FIRST, MOST = 0.05, 2.0  # seconds: the first cap, and the largest
    QUEUE_AFTER = 2  # lost races before a post goes to the inbox

    def __init__(
        self,
        sleep: Callable[[float], None] = time.sleep,
        deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.sleep = sleep
        self.clock = clock
        self.draw = draw
        self.cap = self.FIRST
        self.lost = 0
        self.end = clock() + (settings.PUSH_DEADLINE.get() if deadline is None else deadline)

    def expired(self) -> bool:
        return self.clock() >= self.end

    def lost_one(self) -> None:
        self.lost += 1

    def exhausted(self, attempts: int) -> bool:
        """Whether `attempts` lost races are used up or the deadline passed."""
        return self.lost >= attempts or self.expired()

    def should_queue(self) -> bool:
        """Whether a post that lost `lost` races should now go to its inbox ref."""
        return settings.inbox() and (self.lost >= self.QUEUE_AFTER or self.expired())

    def wait(self) -> None:
        self.sleep(min(self.cap * self.draw(), max(self.end - self.clock(), 0.0)))
        self.cap = min(self.cap * 2, self.MOST)
