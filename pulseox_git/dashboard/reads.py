"""Reading many repositories at once, with a bounded pool.

A refresh watching pages in K repositories waits on K fetches; one after
another that is K round trips of latency. They run in a pool of
$PULSEOX_FETCH_CONCURRENCY threads (each a git process or API requests, so
the GIL is no bottleneck). The results come back keyed and ordered by the
jobs given, never by which fetch finished first, and a repository that
cannot be read fails alone: its `RemoteError` is its result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from pulseox_git import settings
from pulseox_git.errors import RemoteError

K = TypeVar("K")
T = TypeVar("T")


def gather(
    jobs: Mapping[K, Callable[[], T]], workers: int | None = None
) -> dict[K, T | RemoteError]:
    """Run every job, at most `workers` at a time; each job's result (or the
    RemoteError it raised), in the order of `jobs`. Any other error is raised
    once all have finished (the first in that order)."""
    size = settings.FETCH_CONCURRENCY.get_int(workers)
    if len(jobs) <= 1 or size == 1:  # no thread for a single fetch
        return {key: _attempt(job) for key, job in jobs.items()}
    with ThreadPoolExecutor(max_workers=min(size, len(jobs)), thread_name_prefix="read") as pool:
        futures = {key: pool.submit(_attempt, job) for key, job in jobs.items()}
        return {key: future.result() for key, future in futures.items()}


def _attempt(job: Callable[[], T]) -> T | RemoteError:
    try:
        return job()
    except RemoteError as err:
        return err
