"""The git store: a cached bare clone per remote, commits by fast-import, pushes
with a lease. `GitStore` is its front; the modules beside it each own one part
(running git, the cache on disk, commit input, object reads, the history walk
and its cache, the remote URL)."""

from pulseox_git.store.git.store import GitStore

__all__ = ["GitStore"]
