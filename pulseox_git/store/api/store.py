"""GitHub's REST API as a store: the fallback where no clone is possible.

`ApiStore` implements `store.base.Store`, as `GitStore` does, so the client
and the dashboard never ask which one they hold. Reads use the tree of the
tip, the blobs they need, and commits by path. A single changed file is one
Contents API `PUT` guarded by the file's blob sha; several files are ONE
commit through the Git Data API (a tree on the base tree, a commit, a
non-forced ref update). Either way a race is answered by re-reading the tip
and building the change again.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

from pulseox_git import settings
from pulseox_git.errors import BadInputError, PushConflictError, RemoteError
from pulseox_git.page import parse, parse_trailers
from pulseox_git.store.api import inbox
from pulseox_git.store.api.github import GitHubApi, Response
from pulseox_git.store.api.objects import TreeEntry, identity, planned_commit
from pulseox_git.store.base import (
    LEDGER,
    Backoff,
    Change,
    History,
    MakeChange,
    Published,
    Report,
    confine,
    path_prefixes,
)
from pulseox_git.store.git import inbox as git_inbox
from pulseox_git.store.names import check_branch, check_name

log = logging.getLogger("pulseox_git")
T = TypeVar("T")


class ApiStore:
    """One branch of one GitHub repository, read and written through the REST API."""

    def __init__(
        self,
        owner: str,
        repo: str,
        branch: str = "main",
        token: str | None = None,
        api_url: str | None = None,
        push_attempts: int | None = None,
        timeout: float | None = None,
        max_wait: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        check_name("owner", owner)
        check_name("repo", repo)
        self.branch = check_branch(branch)
        self.api = GitHubApi(api_url, owner, repo, token, timeout, max_wait, sleep)
        self.url = self.api.repo_url
        self.push_attempts = settings.PUSH_ATTEMPTS.get_int(push_attempts)
        self.sleep = sleep
        self.empty = False  # the repository has no commits at all (GitHub's 409)
        self._trees: dict[str, tuple[str, dict[str, TreeEntry]]] = {}
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
            return str(response.data["object"]["sha"])
        if response.status == 404:
            self.api.call("GET", "")  # a clear 404 when the repository itself is missing
        return None

    def run(self, work: Callable[[str | None], T]) -> T:
        """Read the tip, then `work(tip)`; no lock is needed, every write is guarded."""
        return work(self.tip())

    def tree(self, rev: str) -> tuple[str, dict[str, TreeEntry]]:
        """The root tree id and every entry below it at `rev` (cached: commits never change)."""
        if rev not in self._trees:
            data = self.api.call("GET", f"/git/trees/{rev}", query={"recursive": "1"}).data
            entries = {e["path"]: (e["mode"], e["type"], e["sha"]) for e in data["tree"]}
            if data.get("truncated"):  # very large trees: walk them folder by folder
                entries = self._walk(data["sha"], "")
            self._trees[rev] = (data["sha"], entries)
        return self._trees[rev]

    def _walk(self, sha: str, prefix: str) -> dict[str, TreeEntry]:
        entries: dict[str, TreeEntry] = {}
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
        return {
            p: self.blob(found[p][2]) for p in paths if p in found and found[p][0].startswith("100")
        }

    def history(self, tip: str | None, paths: Sequence[str]) -> History:
        """Every report of each path reachable from `tip`, newest first: the commits by
        path, reports from their trailers, else from the page's footer at that commit."""
        history: History = {path: [] for path in paths}
        if tip is None:
            return history
        for path in history:
            for item in self.api.pages("/commits", {"sha": tip, "path": path}):
                commit = item["commit"]
                when = datetime.fromisoformat(commit["committer"]["date"]).astimezone(UTC)
                trailers = {page.path: page for page in parse_trailers(commit["message"])}
                page = trailers.get(path)
                if page is not None:
                    history[path].append(
                        Report(item["sha"], when, page.report, page.note, run=page.run)
                    )
                    continue
                text = self._content_at(item["sha"], path)
                if text is None:
                    history[path].append(Report(item["sha"], when, None, problem="deleted"))
                    continue
                footer = parse(text.decode("utf-8", "replace"))
                history[path].append(
                    Report(
                        item["sha"], when, footer.report, footer.note, footer.problem, footer.run
                    )
                )
        return history

    def commit_at(self, tip: str | None, point: datetime | str) -> tuple[str | None, datetime]:
        """Reading as of a past commit or time needs the history walk of a clone."""
        raise BadInputError("--as-of reads the git history: use the git transport")

    def confine(self, tip: str | None, paths: Sequence[str]) -> set[str]:
        """`store.base.confine` on the entries at `tip`: the paths that exist."""
        return confine(self.entries(tip, path_prefixes(paths)), paths)

    def _content_at(self, commit: str, path: str) -> bytes | None:
        response = self.api.call(
            "GET", f"/contents/{quote(path)}", query={"ref": commit}, allow=(404,)
        )
        data = response.data
        if response.status == 404 or not isinstance(data, dict) or data.get("type") != "file":
            return None
        if data.get("encoding") == "base64" and data.get("content") is not None:
            return base64.b64decode(data["content"])
        return self.blob(data["sha"])  # files over 1 MB come without content

    # -- writing -------------------------------------------------------------

    def publish(
        self, make_change: MakeChange, dry_run: bool = False, queue: bool = False
    ) -> Published:
        """Read the tip, build the change on it, write it without force; on a race do it
        all again. `make_change(store, tip)` is called once per attempt."""
        backoff = Backoff(self.sleep)
        for attempt in range(1, self.push_attempts + 1):
            tip = self.tip()
            # a post's first try is one write; a retry, or any other writer, folds
            fold = tip is not None and not dry_run and (not queue or attempt > 1)
            queued = inbox.listed(self) if fold else []
            head = inbox.fold(self, tip, queued) if queued and tip else tip
            change = make_change(self, head)
            if change is None:
                return Published.nothing(tip, attempt, dry_run)
            existing = self.confine(head, change.paths)
            if dry_run:
                sha = planned_commit(change, head, self.tree(head) if head else ("", {}))
                return Published.of(sha, head, change, existing, attempt, True)
            LEDGER.start(self.url)
            if head is None and self.empty:
                done = self._seed(change)
            elif len(change.files) == 1 and head is not None and head == tip and not change.deleted:
                done = self._put(head, change, existing)
            else:
                done = self._commit(head, change, existing, tip)
            if done:
                LEDGER.landed_now(done[0])
                inbox.delete(self, queued)
                sha, parent = done
                return Published.of(sha, parent, change, existing, attempt, False)
            LEDGER.refused()  # the branch moved: GitHub refused the update
            backoff.lost_one()
            if queue and backoff.should_queue():
                return self._queue(make_change, attempt + 1)
            if backoff.exhausted(self.push_attempts):
                break
            log.info("the branch moved while we wrote; retrying (attempt %d)", attempt + 1)
            backoff.wait()
        raise PushConflictError(
            f"gave up writing to {self.url} after {backoff.lost} "
            "attempts: others kept writing first; nothing was lost remotely, "
            "run the command again"
        )

    def _queue(self, make_change: MakeChange, attempt: int) -> Published:
        """The change as a commit on the tip, in an inbox ref of its own (see `inbox`)."""
        tip = self.tip()
        change = make_change(self, tip)
        if change is None:
            return Published.nothing(tip, attempt, False)
        existing = self.confine(tip, change.paths)
        if tip is None:  # an empty repository has no commit to build on: write it
            done = self._seed(change)
            if done:
                return Published.of(done[0], None, change, existing, attempt, False)
            raise PushConflictError(f"could not write to {self.url}: run the command again")
        sha = self._make_commit(tip, change, existing)
        for _ in range(3):  # a taken name (8 random hex digits) is next to impossible
            ref = git_inbox.new_ref(change.when)
            LEDGER.start(self.url, sha)
            if inbox.create(self, sha, ref):
                LEDGER.landed_now(sha)
                log.info("queued %s as %s (attempt %d)", sha[:12], ref, attempt)
                return Published.of(sha, tip, change, existing, attempt, False, queued=True)
        raise PushConflictError(f"could not queue the post in {self.url}: run the command again")

    def _put(
        self, tip: str | None, change: Change, existing: set[str], path: str | None = None
    ) -> tuple[str, str | None] | None:
        """One file as one Contents API commit; None when the file changed under us."""
        path = path or next(iter(change.files))
        body: dict[str, Any] = {
            "message": change.message,
            "branch": self.branch,
            "content": base64.b64encode(change.files[path]).decode(),
            "author": identity(change.when),
            "committer": identity(change.when),
        }
        if path in existing:
            assert tip is not None  # a path exists only on a tip
            body["sha"] = self.tree(tip)[1][path][2]
        response = self.api.call("PUT", f"/contents/{quote(path)}", body, allow=(409, 422))
        if response.status in (409, 422):
            self._check_lost_race(tip, response, f"write {path!r}")
            return None
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
        return self._commit(seeded[0], change, {first}, seeded[0])

    def _make_commit(self, base: str | None, change: Change, existing: set[str]) -> str:
        """Several files as ONE commit on `base`: a tree on its tree (a deleted file
        is an entry with sha null), then the commit."""
        # only files that are there: GitHub refuses to delete a path the tree lacks
        entries: list[dict[str, Any]] = [
            {"path": path, "mode": "100644", "type": "blob", "sha": None}
            for path in change.deleted
            if path in existing
        ]
        for path, data in change.files.items():
            entry = {"path": path, "mode": "100644", "type": "blob"}
            try:  # text goes inline in the tree: one request for the whole batch
                entry["content"] = data.decode("utf-8")
            except UnicodeDecodeError:
                blob = {"content": base64.b64encode(data).decode(), "encoding": "base64"}
                entry["sha"] = self.api.call("POST", "/git/blobs", blob).data["sha"]
            entries.append(entry)
        body: dict[str, Any] = {"tree": entries}
        if base:
            body["base_tree"] = self.tree(base)[0]
        tree = self.api.call("POST", "/git/trees", body).data["sha"]
        return str(
            self.api.call(
                "POST",
                "/git/commits",
                {
                    "message": change.message,
                    "tree": tree,
                    "parents": [base] if base else [],
                    "author": identity(change.when),
                    "committer": identity(change.when),
                },
            ).data["sha"]
        )

    def _commit(
        self, base: str | None, change: Change, existing: set[str], tip: str | None
    ) -> tuple[str, str | None] | None:
        """`_make_commit` on `base` (the tip, or a fold of the inbox onto it), then a
        non-forced ref update. None when the branch moved since `tip`."""
        commit = self._make_commit(base, change, existing)
        if tip:
            ref = f"/git/refs/heads/{quote(self.branch, safe='/')}"
            response = self.api.call("PATCH", ref, {"sha": commit, "force": False}, allow=(422,))
        else:
            response = self.api.call(
                "POST",
                "/git/refs",
                {"ref": f"refs/heads/{self.branch}", "sha": commit},
                allow=(422,),
            )
        if response.status == 422:
            self._check_lost_race(tip, response, f"move {self.branch} to {commit[:12]}")
            return None
        return commit, tip

    def _check_lost_race(self, tip: str | None, response: Response, what: str) -> None:
        """A 409/422 is a lost race when the branch moved (the caller retries);
        otherwise GitHub refused the write (a protected branch, a rule): say so."""
        if self.tip() != tip:
            return None
        said = response.data.get("message", "") if isinstance(response.data, dict) else ""
        raise RemoteError(
            f"the GitHub API refused to {what} on {self.url} "
            f"({response.status} {said.splitlines()[0] if said else ''}); "
            "nothing was written"
        )
