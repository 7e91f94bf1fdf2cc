"""Queued posts: inbox refs, and folding them into the branch.

A post that keeps losing its race pushes its commit (built on the tip it saw,
with its own time and trailers) to a ref no one else writes,
`refs/pulseox/inbox/<time>-<random>`, so it cannot conflict. Whoever next wins
the branch folds the inbox refs it fetched: ONE merge commit whose parents are
the tip and the queued commits (each post keeps its own commit in history), its
tree the tip's plus each queued commit's pages (the newest post of a path
wins), pushed together with leased deletions of those refs in one atomic push.

Readers see the same fold before it lands: a `View` is the branch tip with the
inbox folded in locally, so pages, history and trends count a queued report
from the moment it was pushed.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pulseox_git import settings
from pulseox_git.store.git.command import Git
from pulseox_git.store.git.fastimport import quote
from pulseox_git.store.git.log import LOG_FORMAT, log_records

INBOX = "refs/pulseox/inbox"
REFSPEC = f"+{INBOX}/*:{INBOX}/*"
FOLD_REF = "refs/pulseox/fold"
BUSY_WINDOW = 30.0  # seconds: posts queued this recently mean others queue now
_FORMAT = "--format=%(refname) %(objectname) %(committerdate:unix)"


@dataclass(frozen=True)
class Queued:
    """One inbox ref and the commit it holds."""

    ref: str
    sha: str
    stamp: int  # the commit time: the post's own time


@dataclass(frozen=True)
class View:
    """What readers read and writers build on: `head`, the branch `tip` with the
    `folded` inbox commits merged in (or the tip itself when there are none).
    `merged` inbox refs hold commits already on the branch: they only go."""

    tip: str | None
    head: str | None
    folded: tuple[Queued, ...] = ()
    merged: tuple[Queued, ...] = ()

    @property
    def leftovers(self) -> tuple[Queued, ...]:
        """Every inbox ref a push from this view deletes."""
        return self.folded + self.merged


def new_ref(when: datetime) -> str:
    """A name no other writer picks: the post's time and 8 random hex digits."""
    return f"{INBOX}/{when:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def _maybe_any(path: Path) -> bool:
    """Whether the cache may hold inbox refs, without starting git (the common
    answer, on every post, is no)."""
    if (path / INBOX).is_dir():
        return True
    try:
        return f" {INBOX}/".encode() in (path / "packed-refs").read_bytes()
    except OSError:
        return False


def _listed(git: Git, *args: str) -> list[Queued]:
    out = git("for-each-ref", _FORMAT, *args, INBOX).stdout.decode()
    rows = [line.split() for line in out.splitlines()]
    return [Queued(ref, sha, int(stamp)) for ref, sha, stamp in rows]


def queued(git: Git, tip: str | None) -> tuple[list[Queued], list[Queued]]:
    """The fetched inbox refs: (commits not on the branch yet, commits already on it)."""
    if not _maybe_any(git.path):
        return [], []
    every = _listed(git)
    if not every or tip is None:
        return every, []
    merged = _listed(git, f"--merged={tip}")
    on_branch = {q.ref for q in merged}
    return [q for q in every if q.ref not in on_branch], merged


def busy(stamps: Iterable[float], now: float | None = None) -> bool:
    """Whether others are queueing right now: a post queued in the last
    `BUSY_WINDOW` seconds (by this machine's clock) says the branch is being fought
    over, so trying it again would most likely lose again."""
    since = (time.time() if now is None else now) - BUSY_WINDOW
    return any(stamp >= since for stamp in stamps)


def others_queueing(git: Git, now: float | None = None) -> bool:
    """`busy`, asked of the remote from its inbox ref names alone (each names its
    post's time): one request, no objects, where a fetch would bring every queued
    commit, and in a burst hundreds of writers would each fetch all of them. Git's
    protocol v0 lists the refs in the one request that v2 spends on capabilities.
    When the remote does not answer, no: the post goes on to fetch, as before."""
    args = ("-c", "protocol.version=0", "ls-remote", "--refs", "origin", f"{INBOX}/*")
    proc = git(*args, remote=True, check=False)
    out = proc.stdout.decode() if proc.returncode == 0 else ""
    return busy(filter(None, map(_named_time, out.split())), now)


def _named_time(ref: str) -> float | None:
    """The post time in an inbox ref's name (see `new_ref`), or None."""
    if not ref.startswith(f"{INBOX}/"):
        return None
    try:
        when = datetime.strptime(ref[len(INBOX) + 1 :][:16], "%Y%m%dT%H%M%SZ")
    except ValueError:
        return None
    return when.replace(tzinfo=UTC).timestamp()


def view(
    git: Git, tip: str | None, waiting: Sequence[Queued], merged: Sequence[Queued] = ()
) -> View:
    """The branch at `tip` with `waiting` folded in: a local merge commit, or `tip`."""
    if tip is None or not waiting:
        return View(tip, tip, (), tuple(merged))
    return View(tip, fold(git, tip, waiting), tuple(waiting), tuple(merged))


def fold(git: Git, tip: str, waiting: Sequence[Queued]) -> str:
    """ONE merge commit: parents `tip` then `waiting` (oldest first), the tip's tree
    with each queued commit's page changes, the newest post of a path winning
    (also over a newer post of it on the branch). One log, one fast-import."""
    ordered = sorted(waiting, key=lambda q: (q.stamp, q.ref))
    ours = {q.sha for q in ordered}
    since = min(q.stamp for q in ordered)
    args = ["log", "-z", "--raw", "--root", "--no-renames", "--no-abbrev", LOG_FORMAT]
    args += [f"--since={since}", tip, *ours, "--"]
    changes: dict[str, dict[str, tuple[str, str]]] = {}  # queued commit -> path -> change
    branch: dict[str, int] = {}  # path -> the newest branch commit time touching it
    stamp = max(q.stamp for q in ordered)
    for sha, when, _message, touched in log_records(git.stream(*args)):
        if sha in ours:
            changes[sha] = {t.path: (t.status, t.blob) for t in touched}
            continue
        stamp = max(stamp, when)
        for touch in touched:
            branch[touch.path] = max(branch.get(touch.path, 0), when)
    files: dict[str, tuple[str, str]] = {}
    for q in ordered:  # oldest first: a newer post of the same path replaces it
        for path, change in changes.get(q.sha, {}).items():
            if branch.get(path, 0) <= q.stamp:
                files[path] = change
    name, email = settings.committer()
    message = f"pulseox: fold {len(ordered)} queued post{'s' * (len(ordered) != 1)}\n".encode()
    lines = [
        f"commit {FOLD_REF}\nmark :1\n".encode(),
        f"committer {name} <{email}> {stamp} +0000\n".encode(),
        f"data {len(message)}\n".encode() + message + b"\n",
        f"from {tip}\n".encode(),
        *(f"merge {q.sha}\n".encode() for q in ordered),
    ]
    for path, (status, blob) in sorted(files.items()):
        if status == "D":
            lines.append(b"D " + quote(path) + b"\n")
        else:
            lines.append(f"M 100644 {blob} ".encode() + quote(path) + b"\n")
    lines.append(b"\nget-mark :1\ndone\n")
    proc = git("fast-import", "--quiet", "--force", "--done", input=b"".join(lines))
    return proc.stdout.decode().split()[-1]


def push_args(branch: str, sha: str, at: View) -> list[str]:
    """`git push` arguments that move `branch` from exactly `at.tip` to `sha` and,
    in the same atomic push, delete every inbox ref `at` folded, each leased on
    its commit: the fold lands whole or not at all."""
    leases = [f"--force-with-lease=refs/heads/{branch}:{at.tip or ''}"]
    refspecs = [f"{sha}:refs/heads/{branch}"]
    for q in at.leftovers:
        leases.append(f"--force-with-lease={q.ref}:{q.sha}")
        refspecs.append(f":{q.ref}")
    atomic = ["--atomic"] if at.leftovers else []
    return ["push", "--porcelain", "--quiet", *atomic, *leases, "origin", *refspecs]


def forget(git: Git, gone: tuple[Queued, ...]) -> None:
    """Delete the cache's copies of inbox refs a push deleted remotely."""
    if gone:
        git(
            "update-ref",
            "--stdin",
            input="".join(f"delete {q.ref} {q.sha}\n" for q in gone).encode(),
        )
