"""GitHub's REST API as a store: the fallback where no clone is possible.

`ApiStore` has the interface the client and the dashboard use on `GitStore`
(`url`, `run`, `read_files`, `history`, `confine`, `publish`), so they never
ask which one they hold. Reads use the tree of the tip, the blobs they need,
and commits by path. A single changed file is one Contents API `PUT` guarded by
the file's blob sha; several files are ONE commit through the Git Data API
(a tree on the base tree, a commit, a non-forced ref update). Either way a
race is answered by re-reading the tip and building the change again.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

from pulseox_git.errors import PushConflictError, RemoteError
from pulseox_git.fastimport import COMMITTER
from pulseox_git.gitcmd import env_number
from pulseox_git.gitstore import FIRST_DELAY, Change, GitStore, Published, pause
from pulseox_git.page import format_time, parse, parse_trailers
from pulseox_git.remote import check_branch
from pulseox_git.rest_http import GitHubApi

log = logging.getLogger("pulseox_git")
T = TypeVar("T")
TREE = "040000"
Entry = tuple[str, str, str]  # mode, type, sha


class ApiStore:
    """One branch of one GitHub repository, read and written through the REST API."""

    confine = GitStore.confine  # the same rules (no writing onto or through folders or
    # symlinks), applied to the entries this store reads from the API

    def __init__(self, owner: str, repo: str, branch: str = "main", token: str | None = None,
                 api_url: str | None = None, push_attempts: int | None = None,
                 timeout: float | None = None, max_wait: float | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        from pulseox_git.remote import remote_url

        remote_url(owner, repo, "{owner}/{repo}")  # the same checks of owner and repo
        self.branch = check_branch(branch)
        self.api = GitHubApi(api_url, owner, repo, token, timeout, max_wait, sleep)
        self.url = self.api.repo_url
        self.push_attempts = push_attempts or int(env_number("PULSEOX_PUSH_ATTEMPTS", "30", True))
        self.sleep = sleep
        self.empty = False  # the repository has no commits at all (GitHub's 409)
        self._trees: dict[str, tuple[str, dict[str, Entry]]] = {}
        self._blobs: dict[str, bytes] = {}

    def __repr__(self) -> str:
        return f"ApiStore({self.url!r}, branch={self.branch!r})"

    # -- reading -------------------------------------------------------------

    def tip(self) -> str | None:
        """The branch's commit, or None when the branch (or the repository) is empty."""
        ref = f"/git/ref/heads/{quote(self.branch, safe='/')}"
        response = self.api.call("GET", ref, allow=(404, 409))
        self.empty = response.status == 409  # "Git Repository is empty."
        if response.status == 200:
            return response.data["object"]["sha"]
        if response.status == 404:
            self.api.call("GET", "")  # a clear 404 when the repository itself is missing
        return None

    def run(self, work: Callable[[str | None], T]) -> T:
        """Read the tip, then `work(tip)`; no lock is needed, every write is guarded."""
        return work(self.tip())

    def tree(self, rev: str) -> tuple[str, dict[str, Entry]]:
        """The root tree id and every entry below it at `rev` (cached: commits never change)."""
        if rev not in self._trees:
            data = self.api.call("GET", f"/git/trees/{rev}", query={"recursive": "1"}).data
            entries = {e["path"]: (e["mode"], e["type"], e["sha"]) for e in data["tree"]}
            if data.get("truncated"):  # very large trees: walk them folder by folder
                entries = self._walk(data["sha"], "")
            self._trees[rev] = (data["sha"], entries)
        return self._trees[rev]

    def _walk(self, sha: str, prefix: str) -> dict[str, Entry]:
        entries: dict[str, Entry] = {}
        for e in self.api.call("GET", f"/git/trees/{sha}").data["tree"]:
            path = prefix + e["path"]
            entries[path] = (e["mode"], e["type"], e["sha"])
            if e["type"] == "tree":
                entries.update(self._walk(e["sha"], path + "/"))
        return entries

    def entries(self, rev: str | None, paths: Sequence[str]) -> dict[str, tuple[str, str]]:
        """Mode and object id of each of `paths` that exists at `rev`."""
        if rev is None:
            return {}
        found = self.tree(rev)[1]
        return {p: (found[p][0], found[p][2]) for p in paths if p in found}

    def blob(self, sha: str) -> bytes:
        if sha not in self._blobs:
            data = self.api.call("GET", f"/git/blobs/{sha}").data
            self._blobs[sha] = base64.b64decode(data["content"])
        return self._blobs[sha]

    def read_files(self, rev: str | None, paths: Sequence[str]) -> dict[str, bytes]:
        """The contents of the regular files among `paths` at `rev`: one tree, one blob each."""
        if rev is None or not paths:
            return {}
        found = self.tree(rev)[1]
        return {p: self.blob(found[p][2]) for p in paths
                if p in found and found[p][0].startswith("100")}

    def history(self, tip: str | None, paths: Sequence[str], cache: bool = True
                ) -> dict[str, list]:
        """Every report of each path reachable from `tip`, newest first: the commits by
        path, reports from their trailers, else from the page's footer at that commit.
        (`cache` is accepted for `GitStore`'s signature; nothing is cached on disk.)"""
        from pulseox_git.history import Report

        history: dict[str, list[Report]] = {path: [] for path in paths}
        if tip is None:
            return history
        for path in history:
            for item in self.api.pages("/commits", {"sha": tip, "path": path}):
                commit = item["commit"]
                when = datetime.fromisoformat(commit["committer"]["date"]).astimezone(UTC)
                trailers = {page.path: page for page in parse_trailers(commit["message"])}
                page = trailers.get(path)
                if page is not None:
                    history[path].append(Report(item["sha"], when, page.report, page.note))
                    continue
                text = self._content_at(item["sha"], path)
                if text is None:
                    history[path].append(Report(item["sha"], when, None, problem="deleted"))
                    continue
                footer = parse(text.decode("utf-8", "replace"))
                history[path].append(Report(item["sha"], when, footer.report, footer.note,
                                            footer.problem))
        return history

    def _content_at(self, commit: str, path: str) -> bytes | None:
        response = self.api.call("GET", f"/contents/{quote(path)}", query={"ref": commit},
                                 allow=(404,))
        data = response.data
        if response.status == 404 or not isinstance(data, dict) or data.get("type") != "file":
            return None
        if data.get("encoding") == "base64" and data.get("content") is not None:
            return base64.b64decode(data["content"])
        return self.blob(data["sha"])  # files over 1 MB come without content

    # -- writing -------------------------------------------------------------

    def publish(self, make_change: Callable[[Any, str | None], Change],
                dry_run: bool = False) -> Published:
        """Read the tip, build the change on it, write it without force; on a race do it
        all again. `make_change(store, tip)` is called once per attempt."""
        delay = FIRST_DELAY
        for attempt in range(1, self.push_attempts + 1):
            tip = self.tip()
            change = make_change(self, tip)
            existing = self.confine(tip, list(change.files))
            if dry_run:
                sha = planned_commit(change, tip, self.tree(tip) if tip else ("", {}))
                return Published.of(sha, tip, change, existing, attempt, True)
            if tip is None and self.empty:
                done = self._seed(change)
            elif len(change.files) == 1 and tip is not None:
                done = self._put(tip, change, existing)
            else:
                done = self._commit(tip, change)
            if done:
                sha, parent = done
                return Published.of(sha, parent, change, existing, attempt, False)
            log.info("the branch moved while we wrote; retrying (attempt %d)", attempt + 1)
            delay = pause(delay, self.sleep)
        raise PushConflictError(f"gave up writing to {self.url} after {self.push_attempts} "
                                "attempts: others kept writing first; nothing was lost remotely, "
                                "run the command again")

    def _put(self, tip: str | None, change: Change, existing: set[str],
             path: str | None = None) -> tuple[str, str | None] | None:
        """One file as one Contents API commit; None when the file changed under us."""
        path = path or next(iter(change.files))
        body: dict[str, Any] = {
            "message": change.message, "branch": self.branch,
            "content": base64.b64encode(change.files[path]).decode(),
            "author": identity(change.when), "committer": identity(change.when),
        }
        if path in existing:
            body["sha"] = self.tree(tip)[1][path][2]
        response = self.api.call("PUT", f"/contents/{quote(path)}", body, allow=(409, 422))
        if response.status in (409, 422):
            return self._lost_race(tip, response, f"write {path!r}")
        commit = response.data["commit"]
        parents = commit.get("parents") or [{}]
        return commit["sha"], parents[0].get("sha")

    def _seed(self, change: Change) -> tuple[str, str | None] | None:
        """An empty repository: GitHub's Git Data API refuses it (409), so the first file
        goes in with the Contents API, and the rest follow as one commit on it."""
        first = next(iter(change.files))
        seeded = self._put(None, change, set(), first)
        if seeded is None or len(change.files) == 1:
            return seeded
        return self._commit(seeded[0], change)

    def _commit(self, tip: str | None, change: Change) -> tuple[str, str | None] | None:
        """Several files as ONE commit: tree on the base tree, commit, non-forced ref
        update. None when the branch moved since `tip`."""
        entries = []
        for path, data in change.files.items():
            entry = {"path": path, "mode": "100644", "type": "blob"}
            try:  # text goes inline in the tree: one request for the whole batch
                entry["content"] = data.decode("utf-8")
            except UnicodeDecodeError:
                blob = {"content": base64.b64encode(data).decode(), "encoding": "base64"}
                entry["sha"] = self.api.call("POST", "/git/blobs", blob).data["sha"]
            entries.append(entry)
        body: dict[str, Any] = {"tree": entries}
        if tip:
            body["base_tree"] = self.tree(tip)[0]
        tree = self.api.call("POST", "/git/trees", body).data["sha"]
        commit = self.api.call("POST", "/git/commits", {
            "message": change.message, "tree": tree, "parents": [tip] if tip else [],
            "author": identity(change.when), "committer": identity(change.when)}).data["sha"]
        if tip:
            ref = f"/git/refs/heads/{quote(self.branch, safe='/')}"
            response = self.api.call("PATCH", ref, {"sha": commit, "force": False}, allow=(422,))
        else:
            response = self.api.call("POST", "/git/refs", {
                "ref": f"refs/heads/{self.branch}", "sha": commit}, allow=(422,))
        if response.status == 422:
            return self._lost_race(tip, response, f"move {self.branch} to {commit[:12]}")
        return commit, tip

    def _lost_race(self, tip: str | None, response: Any, what: str) -> None:
        """A 409/422 is a lost race when the branch moved (the caller retries);
        otherwise GitHub refused the write (a protected branch, a rule): say so."""
        if self.tip() != tip:
            return None
        said = response.data.get("message", "") if isinstance(response.data, dict) else ""
        raise RemoteError(f"the GitHub API refused to {what} on {self.url} "
                          f"({response.status} {said.splitlines()[0] if said else ''}); "
                          "nothing was written")


def identity(when: datetime) -> dict[str, str]:
    """Author and committer as `GitStore` writes them, with the change's time."""
    return {"name": os.environ.get("GIT_COMMITTER_NAME", COMMITTER[0]),
            "email": os.environ.get("GIT_COMMITTER_EMAIL", COMMITTER[1]),
            "date": format_time(when)}


def object_id(kind: str, body: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(body)}\0".encode() + body).hexdigest()


def planned_commit(change: Change, tip: str | None,
                   tree: tuple[str, dict[str, Entry]]) -> str:
    """The id of the commit `change` makes on `tip`, computed here without writing
    anything: what a dry run shows (and what git itself would compute)."""
    _root, entries = tree
    folders: dict[str, dict[str, tuple[str, str]]] = {"": {}}
    for path in change.files:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            folders.setdefault("/".join(parts[:depth]), {})
    for path, (mode, _type, sha) in entries.items():
        parent, _, name = path.rpartition("/")
        if parent in folders:
            folders[parent][name] = (mode, sha)
    for path, data in change.files.items():
        parent, _, name = path.rpartition("/")
        folders[parent][name] = ("100644", object_id("blob", data))
    for folder in sorted(folders, key=lambda f: -f.count("/") - bool(f)):
        listing = folders[folder]
        body = b"".join(
            f"{mode.lstrip('0')} {name}\0".encode() + bytes.fromhex(sha)
            for name, (mode, sha) in sorted(
                listing.items(), key=lambda item: item[0] + ("/" if item[1][0] == TREE else "")))
        sha = object_id("tree", body)
        if folder:
            parent, _, name = folder.rpartition("/")
            folders[parent][name] = (TREE, sha)
    who = identity(change.when)
    stamp = f"{who['name']} <{who['email']}> {int(change.when.timestamp())} +0000"
    lines = [f"tree {sha}"] + ([f"parent {tip}"] if tip else [])
    lines += [f"author {stamp}", f"committer {stamp}", "", ""]
    return object_id("commit", "\n".join(lines).encode() + change.message.encode())


__all__ = ["ApiStore", "identity", "planned_commit"]
