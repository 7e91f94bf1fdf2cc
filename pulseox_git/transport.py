"""Which store talks to the remote: git (the cached clone) or GitHub's REST API.

`auto` uses git, and falls back to the API only when git cannot clone or
fetch for a transport reason: no git executable, or the git endpoint
unreachable. A wrong token, a refused push or anything after the first
successful fetch is reported as it is; falling back then would hide it.
The fallback is announced on stderr with its reason.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pulseox_git.errors import BadInputError

log = logging.getLogger("pulseox_git")
T = TypeVar("T")
TRANSPORTS = ("auto", "git", "api")


def check_transport(transport: str) -> str:
    if transport not in TRANSPORTS:
        raise BadInputError(f"unknown transport {transport!r}: use auto, git or api")
    return transport


def open_store(owner: str, repo: str, *, transport: str = "auto", remote: str | None = None,
               branch: str = "main", token: str | None = None, cache_dir: Any = None,
               api_url: str | None = None) -> Any:
    """A `GitStore`, an `ApiStore`, or (auto) git that may fall back to the API."""
    from pulseox_git.gitstore import GitStore
    from pulseox_git.remote import remote_url

    def api_store() -> Any:
        from pulseox_git.rest import ApiStore

        return ApiStore(owner, repo, branch, token, api_url)

    if check_transport(transport) == "api":
        configured = remote or os.environ.get("PULSEOX_GIT_REMOTE")
        if configured and not _api_is_the_same_place(remote_url(owner, repo, remote), None):
            log.warning("warning: --transport api does not use the git remote %s; it talks "
                        "to the GitHub API for %s/%s", configured, owner, repo)
        return api_store()
    git = GitStore(remote_url(owner, repo, remote), branch, token, cache_dir)
    if transport == "git" or not _api_is_the_same_place(git.url, api_url):
        return git
    return AutoStore(git, api_store)


def _api_is_the_same_place(git_url: str, api_url: str | None) -> bool:
    """Fall back only to an API that was asked for, or to api.github.com for a
    github.com remote: never quietly write to another host than the remote."""
    if api_url or os.environ.get("PULSEOX_API_URL"):
        return True
    return urlsplit(git_url).hostname in ("github.com", "www.github.com")


class AutoStore:
    """git first; the API when the first clone or fetch fails for a transport reason.

    Everything else is delegated to whichever store was chosen (git until then).
    """

    def __init__(self, git: Any, make_api: Callable[[], Any]) -> None:
        # not `self.git`: callers use `store.git(...)`, GitStore's method, through us
        self.git_store = git
        self._make_api = make_api
        self.chosen: Any = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("chosen", "git_store", "_make_api"):
            raise AttributeError(name)  # not set yet (copy, pickle): never recurse
        return getattr(self.chosen or self.git_store, name)

    def __repr__(self) -> str:
        return f"AutoStore({self.chosen or self.git_store!r})"

    @property
    def url(self) -> str:
        return (self.chosen or self.git_store).url

    def run(self, work: Callable[[Any], T]) -> T:
        if self.chosen is not None:
            return self.chosen.run(work)

        def first(tip: Any) -> T:
            self.chosen = self.git_store  # git fetched: from here on, errors are git's to report
            return work(tip)

        return self._try_git(lambda: self.git_store.run(first), lambda api: api.run(work))

    def publish(self, make_change: Callable[[Any, Any], Any], dry_run: bool = False) -> Any:
        if self.chosen is not None:
            return self.chosen.publish(make_change, dry_run)

        def first(store: Any, tip: Any) -> Any:
            # a post's first attempt may build on the cached tip before git reached
            # the remote (GitStore.publish): only a fetch or push that got an answer
            # makes git the chosen store
            if getattr(self.git_store, "reached", True):
                self.chosen = self.git_store
            return make_change(store, tip)

        def with_git() -> Any:
            done = self.git_store.publish(first, dry_run)
            self.chosen = self.git_store
            return done

        return self._try_git(with_git, lambda api: api.publish(make_change, dry_run))

    def _try_git(self, with_git: Callable[[], T], with_api: Callable[[Any], T]) -> T:
        from pulseox_git.gitcmd import GitMissingError, UnreachableError

        try:
            if shutil.which("git") is None:  # say so plainly, before any git process fails
                raise GitMissingError("git is not installed or not on PATH")
            return with_git()
        except UnreachableError as err:  # includes GitMissingError
            if self.chosen is not None:
                raise
            self.chosen = self._make_api()
            log.warning("warning: falling back to the GitHub API at %s: %s",
                        self.chosen.api.api_url, err)
            return with_api(self.chosen)
