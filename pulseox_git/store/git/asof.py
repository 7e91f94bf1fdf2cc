"""The branch as it stood: which commit was the tip at a time or revision, and
which queued posts were waiting in the inbox then.

The branch's states are its first-parent chain (a fold is a merge whose first
parent is the tip it folded onto). At a time T the branch was its last
first-parent commit by T, plus every queued post pushed by T that was not yet
on it: those still in the inbox, and those folded in by a later merge.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pulseox_git.errors import BadInputError
from pulseox_git.store.git.command import Git
from pulseox_git.store.git.history import is_ancestor
from pulseox_git.store.git.inbox import Queued, View


def commit_at(
    git: Git, branch: str, tip: str | None, point: datetime | str
) -> tuple[str | None, datetime]:
    """The commit on the branch that stood at `point`, and the time it stands for.
    A revision means its commit and commit time; a time, the last first-parent
    commit at or before it. `HEAD` and the branch name mean the fetched branch."""
    if tip is None:
        if isinstance(point, datetime):
            return None, point
        raise BadInputError(f"bad --as-of {point!r}: the branch {branch} is empty")
    if isinstance(point, datetime):
        before = f"--before={int(point.timestamp())}"
        out = git("rev-list", "-1", "--first-parent", before, tip).stdout
        return (out.decode().strip() or None), point
    name = point
    for alias in ("HEAD", branch, f"origin/{branch}"):
        if name == alias or name.startswith((f"{alias}~", f"{alias}^")):
            name = tip + name[len(alias) :]
            break
    proc = git(
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        f"{name}^{{commit}}",
        check=False,
    )
    sha = proc.stdout.decode().strip()
    if proc.returncode or not sha or not is_ancestor(git, sha, tip):
        raise BadInputError(f"bad --as-of {point!r}: no such commit on {branch}")
    stamp = git("log", "-1", "--format=%ct", sha).stdout.decode().strip()
    return sha, datetime.fromtimestamp(int(stamp), UTC)


def queued_by(git: Git, base: str, at: View, point: datetime) -> list[Queued]:
    """The posts queued by `point` that `base` (the branch then) lacks: inbox
    commits of the view `at`, and those folded into the branch after `base`."""
    limit = int(point.timestamp())
    out = git("log", "--first-parent", "--merges", "--format=%P", f"{base}..{at.tip}").stdout
    folded = [sha for line in out.decode().splitlines() for sha in line.split()[1:]]
    found = [q for q in at.folded if q.stamp <= limit]
    if folded:
        stamps = git("log", "--no-walk=unsorted", "--format=%H %ct", *folded).stdout.decode()
        for line in stamps.splitlines():
            sha, stamp = line.split()
            if int(stamp) <= limit:
                found.append(Queued(f"folded/{sha}", sha, int(stamp)))
    return found
