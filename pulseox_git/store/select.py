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
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from pulseox_git import settings
from pulseox_git.errors import BadInputError, GitMissingError, UnreachableError
from pulseox_git.store.base import Change, History, MakeChange, Published, Store
from pulseox_git.store.git import GitStore
from pulseox_git.store.git.remote import remote_url

if TYPE_CHECKING:
    from pulseox_git.store.api import ApiStore

log = logging.getLogger("pulseox_git")
T = TypeVar("T")
TRANSPORTS = ("auto", "git", "api")


def check_transport(transport: str) -> str:
    if transport not in TRANSPORTS:
        raise BadInputError(f"unknown transport {transport!r}: use auto, git or api")
    return transport


def open_store(
    owner: str,
    repo: str,
    *,
    transport: str = "auto",
    remote: str | None = None,
    branch: str = "main",
    token: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    api_url: str | None = None,
) -> Store:
    """A `GitStore`, an `ApiStore`, or (auto) git that may fall back to the API."""

    def api_store() -> ApiStore:
        # imported only when used: urllib, http and ssl cost a git-only run ~30 ms
        from pulseox_git.store.api import ApiStore

        return ApiStore(owner, repo, branch, token, api_url)

    if check_transport(transport) == "api":
        configured = remote or settings.remote_template()
        if configured and not _api_is_the_same_place(remote_url(owner, repo, remote), None):
            log.warning(
                "warning: --transport api does not use the git remote %s; it talks "
                "to the GitHub API for %s/%s",
                configured,
                owner,
                repo,
            )
        return api_store()
    git = GitStore(remote_url(owner, repo, remote), branch, token, cache_dir)
    if transport == "git" or not _api_is_the_same_place(git.url, api_url):
        return git
    return AutoStore(git, api_store)


def _api_is_the_same_place(git_url: str, api_url: str | None) -> bool:
    """Fall back only to an API that was asked for, or to api.github.com for a
    github.com remote: never quietly write to another host than the remote."""
    if api_url or settings.api_url():
        return True
    return urlsplit(git_url).hostname in ("github.com", "www.github.com")


class AutoStore:
    """git first; the API when the first clone or fetch fails for a transport reason.

    Everything is done by whichever store was chosen (git until then).
    """

    def __init__(self, git: GitStore, make_api: Callable[[], ApiStore]) -> None:
        self.git_store = git
        self._make_api = make_api
        self.chosen: GitStore | ApiStore | None = None

    def __repr__(self) -> str:
        return f"AutoStore({self.current!r})"

    @property
    def current(self) -> GitStore | ApiStore:
        return self.chosen or self.git_store

    @property
    def url(self) -> str:
        return self.current.url

    @property
    def branch(self) -> str:
        return self.current.branch

    def read_files(self, rev: str | None, paths: Sequence[str]) -> dict[str, bytes]:
        return self.current.read_files(rev, paths)

    def history(self, tip: str | None, paths: Sequence[str]) -> History:
        return self.current.history(tip, paths)

    def commit_at(self, tip: str | None, point: datetime | str) -> tuple[str | None, datetime]:
        return self.current.commit_at(tip, point)

    def run(self, work: Callable[[str | None], T]) -> T:
        if self.chosen is not None:
            return self.chosen.run(work)

        def first(tip: str | None) -> T:
            self.chosen = self.git_store  # git fetched: from here on, errors are git's to report
            return work(tip)

        return self._try_git(lambda: self.git_store.run(first), lambda api: api.run(work))

    def publish(
        self, make_change: MakeChange, dry_run: bool = False, queue: bool = False
    ) -> Published:
        if self.chosen is not None:
            return self.chosen.publish(make_change, dry_run, queue)

        def first(store: Store, tip: str | None) -> Change | None:
            # a post's first attempt may build on the cached tip before git reached
            # the remote (GitStore.publish): only a fetch or push that got an answer
            # makes git the chosen store
            if self.git_store.reached:
                self.chosen = self.git_store
            return make_change(store, tip)

        def with_git() -> Published:
            done = self.git_store.publish(first, dry_run, queue)
            self.chosen = self.git_store
            return done

        return self._try_git(with_git, lambda api: api.publish(make_change, dry_run, queue))

    def _try_git(self, with_git: Callable[[], T], with_api: Callable[[ApiStore], T]) -> T:
        try:
            if shutil.which("git") is None:  # say so plainly, before any git process fails
                raise GitMissingError("git is not installed or not on PATH")
            return with_git()
        except UnreachableError as err:  # includes GitMissingError
            if self.chosen is not None:
                raise
            api = self.chosen = self._make_api()
            log.warning("warning: falling back to the GitHub API at %s: %s", api.api.api_url, err)
            return with_api(api)
