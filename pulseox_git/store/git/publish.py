"""Publishing: the retry policy over `GitStore`'s commit and push.

A lost race is answered by fetching and building again, with full-jitter
backoff, bounded by PULSEOX_PUSH_ATTEMPTS and PULSEOX_PUSH_DEADLINE. A post
(`queue`) that keeps losing goes to an inbox ref of its own instead (see
`inbox`), and so does one that loses at the remote or finds others queueing
right now: in a burst, trying the branch again would only lose again.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING

from pulseox_git import settings
from pulseox_git.errors import PushConflictError
from pulseox_git.store.base import LEDGER, Backoff, Change, MakeChange, Published
from pulseox_git.store.git import inbox

if TYPE_CHECKING:
    from pulseox_git.store.git.store import GitStore

log = logging.getLogger("pulseox_git")


def publish(
    self: GitStore, make_change: MakeChange, dry_run: bool = False, queue: bool = False
) -> Published:
    """Fetch, build a commit on the tip (folding the inbox), push; on a race do
    it again, with full-jitter backoff, up to PULSEOX_PUSH_ATTEMPTS times and
    PULSEOX_PUSH_DEADLINE seconds. With `queue`, after `Backoff.QUEUE_AFTER`
    lost races (or at the deadline) the commit goes to an inbox ref instead,
    and at once after one lost race when the remote or the fetch shows others
    queueing now (a burst: trying the branch again would only lose again).

    `make_change(store, tip)` is called once per attempt, so what it
    writes always reflects the tip it is committed on.
    """
    backoff = Backoff()
    for attempt in range(1, self.push_attempts + 1):

        def build_and_push(tip: str | None, attempt: int = attempt) -> Published | None:
            waiting, merged = inbox.queued(self.git, tip)
            stamps = (q.stamp for q in waiting)
            if queue and attempt > 1 and settings.inbox() and inbox.busy(stamps):
                return queue_post(self, make_change, attempt, tip)  # others queue right now
            at = self.fold(tip, waiting, merged)
            change = make_change(self, at.head)
            if change is None:
                return Published.nothing(tip, attempt, dry_run)
            sha, existing = self.confine_and_commit(at.head, change)
            result = Published.of(sha, tip, change, existing, attempt, dry_run)
            if dry_run or self.push(sha, tip, at):
                return result
            if queue and settings.inbox() and burst(self, attempt):
                built = (sha, change, existing) if at.head == tip else None
                return queue_post(self, make_change, attempt + 1, tip, built)
            return None

        # The first attempt builds on the cached tip without fetching: when the
        # cache is current (the usual case) that saves a round trip; when it is
        # behind, the push says so and the next attempt fetches.
        optimistic = attempt == 1 and not dry_run
        result = self.run(build_and_push, fetch=not optimistic, fold=False)
        if result:
            return result
        backoff.lost_one()
        if queue and backoff.should_queue():
            return self.run(partial(queue_post, self, make_change, attempt + 1), False, False)
        if backoff.exhausted(self.push_attempts):
            break
        if optimistic:
            continue
        log.info("the remote moved while we pushed; retrying (attempt %d)", attempt + 1)
        backoff.wait()
    raise PushConflictError(
        f"gave up pushing to {self.url} after {backoff.lost} attempts: others kept "
        "pushing first; nothing was lost remotely, run the command again"
    )


def burst(self: GitStore, attempt: int) -> bool:
    """After a lost push: whether others are posting at this very moment, so the
    commit that lost goes to the inbox now instead of being built again. Yes when
    the push lost at the remote (our lease held when we connected); after a first,
    optimistic push found the branch moved, when the remote's inbox names a post
    from the last few seconds (`inbox.others_queueing`): one small request where a
    fetch of the burst's queued commits would cost every writer more than a post."""
    if self.lost_at_remote:
        return True
    return attempt == 1 and inbox.others_queueing(self.git)


def queue_post(
    self: GitStore,
    make_change: MakeChange,
    attempt: int,
    tip: str | None,
    built: tuple[str, Change, set[str]] | None = None,
) -> Published:
    """Push the change, built on the branch tip we saw (`built`: the commit that
    just lost, when it was built on that tip), to an inbox ref of its own: no
    one else writes that ref, so this cannot lose a race."""
    if built is None:
        change = make_change(self, tip)
        if change is None:
            return Published.nothing(tip, attempt, False)
        sha, existing = self.confine_and_commit(tip, change)
    else:
        sha, change, existing = built
    for _ in range(3):  # a taken name (8 random hex digits) is next to impossible
        ref = inbox.new_ref(change.when)
        LEDGER.start(self.url, sha)
        proc = self.git(
            "push",
            "--porcelain",
            "--quiet",
            f"--force-with-lease={ref}:",
            "origin",
            f"{sha}:{ref}",
            check=False,
            remote=True,
        )
        if self.answered(proc):
            log.info(
                "queued %s as %s (attempt %d): the next winner folds it", sha[:12], ref, attempt
            )
            return Published.of(sha, tip, change, existing, attempt, False, queued=True)
    raise PushConflictError(f"could not queue the post in {self.url}: run the command again")
