"""(h) The dashboard at scale, measured side by side in one run (scripts/bench --only h).

- h1: a warm refresh watching pages in K other repositories at RTT 150 ms (a
  latency proxy in front of a smart-HTTP server), K = 1 against K = 20, with
  the HTTP requests each made;
- h2: 10 refreshes in a row with no posts and no heartbeat due: commits made;
- h3: a cold refresh of a dashboard with many specs before and after 400
  dashboard commits (each rewriting the summary, the state file, the status
  page and a badge, as a refresh with a status change does);
- h4: a simulated year of `*/15` refreshes with no posts: the refresh's own
  decision (`heartbeat.choose`) on a simulated clock says which of the 35,040
  refreshes commit, and those commits are generated with fast-import from the
  files a real heartbeat commit wrote; commits and packed bytes added, against
  what a commit per refresh added (h3's full commits, per commit, x 35,040),
  and a cold refresh before and after.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pulseox_git.client import PulseOxClient
from pulseox_git.dashboard import PulseOxDashboard
from pulseox_git.dashboard.heartbeat import choose
from pulseox_git.dashboard.outputs import Record
from pulseox_git.dashboard.specs import DEFAULT_HEARTBEAT
from pulseox_git.store.base import Change

COMMITTER = "pulseox-git <pulseox-git@users.noreply.github.com>"
YEAR = 365 * 24 * 4  # refreshes a year at */15
TODAY_YEAR = {"commits": 35040, "packed_bytes": 270 << 20}  # issue 13, measured before


@dataclass(frozen=True)
class ScaleSizes:
    others: tuple[int, int]  # K for g1: the small and the large
    rtt: float  # seconds
    reps: int
    specs: int  # g3 and g4
    commits: int  # page commits in h3's repository
    dashboard_commits: int  # g3


FULL_SCALE = ScaleSizes((1, 20), 0.150, 7, 1000, 1000, 400)
QUICK_SCALE = ScaleSizes((1, 8), 0.150, 2, 200, 400, 100)
TINY_SCALE = ScaleSizes((1, 3), 0.010, 1, 20, 40, 10)


def git(*args: str, cwd: Path | None = None, input: bytes | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, check=True)
    return proc.stdout.decode()


def tip_files(remote: Path, paths: list[str]) -> dict[str, bytes]:
    out = {}
    for path in paths:
        proc = subprocess.run(
            ["git", "show", f"main:{path}"], cwd=remote, capture_output=True, check=False
        )
        if proc.returncode == 0:
            out[path] = proc.stdout
    return out


def retimed(data: bytes, old: datetime, new: datetime) -> bytes:
    """`data` with every way a refresh prints its time moved from `old` to `new`."""
    for fmt in (
        "%Y-%m-%dT%H:%M:%S+00:00",
        "%Y-%m-%dT%H:%M:%SZ",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ):
        data = data.replace(old.strftime(fmt).encode(), new.strftime(fmt).encode())
    return data


Commit = tuple[int, dict[str, bytes], str]  # time, files, message


def commit_input(commit: Commit, parent: str | None) -> bytes:
    """fast-import input for one commit on main (after `parent`, else after the last)."""
    when, files, message = commit
    msg = message.encode()
    chunks = [
        b"commit refs/heads/main\n",
        f"committer {COMMITTER} {when} +0000\n".encode(),
        f"data {len(msg)}\n".encode(),
        msg,
        b"\n",
    ]
    if parent:
        chunks.append(f"from {parent}\n".encode())
    for path, data in files.items():
        chunks += [f"M 100644 inline {path}\ndata {len(data)}\n".encode(), data, b"\n"]
    return b"".join(chunks) + b"\n"


def append_commits(remote: Path, commits: Iterable[Commit]) -> int:
    """Add `commits` on top of main with one fast-import process, streamed (a year
    of them would not fit in memory at once); how many."""
    parent: str | None = git("rev-parse", "main", cwd=remote).strip()
    proc = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=remote, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    count = 0
    for commit in commits:
        proc.stdin.write(commit_input(commit, parent))
        parent = None
        count += 1
    proc.stdin.close()
    if proc.wait():
        raise RuntimeError("git fast-import failed")
    return count


def packed_bytes(remote: Path) -> int:
    """The repository's size once packed as a server would keep it: deltas found
    afresh (`-f`), not fast-import's chains of one version after another."""
    git("repack", "-a", "-d", "-f", "-q", cwd=remote)
    pack = remote / "objects" / "pack"
    return sum(f.stat().st_size for f in pack.iterdir() if f.suffix == ".pack")


class Scale:
    """(h): each part returns its figures; `Bench` keeps them in results['scale']."""

    def __init__(
        self,
        work: Path,
        sizes: ScaleSizes,
        measured: Callable[..., tuple[float, int]],
        stats: Callable[[list[float]], dict[str, Any]],
        history_stream: Callable[[int, int, str], bytes],
        make_remote: Callable[..., Path],
        cli: str,
        log: Callable[[str], None],
    ) -> None:
        self.work, self.sizes, self.measured, self.stats = work, sizes, measured, stats
        self.history_stream, self.make_remote, self.cli = history_stream, make_remote, cli
        self.log = log
        self.remotes = work / "scale-remotes"

    def run(self) -> dict[str, Any]:
        return {
            "others": self.many_repositories(),
            "idle": self.idle_refreshes(),
            "after_commits": self.after_dashboard_commits(),
            "year": self.year(),
        }

    # -- h3, h4: cold refreshes and the dashboard's own commits ------------------

    def cold(self, names: list[str]) -> list[dict[str, Any]]:
        """Cold `dashboard refresh --no-write` processes, one per name in turn, each
        repeated; the stats of each."""
        env = {
            **os.environ,
            "PULSEOX_GIT_REMOTE": f"file://{self.remotes}/{{owner}}/{{repo}}.git",
        }
        samples: list[list[float]] = [[] for _ in names]
        for rep in range(self.sizes.reps):
            for i, name in enumerate(names):
                cmd = [self.cli, "dashboard", "refresh", "--owner", "bench", "--repo", name]
                cache = self.work / f"scale-cache-{name}-{rep}"
                run_env = {**env, "PULSEOX_GIT_CACHE": str(cache)}
                samples[i].append(self.measured([*cmd, "--no-write"], run_env)[0])
        return [self.stats(s) for s in samples]

    def dashboard_repo(self, name: str) -> tuple[Path, datetime]:
        """A dashboard of `specs` pages with `commits` page commits and one real
        refresh commit on top (written in-process with a fixed clock)."""
        remote = self.make_remote(
            self.remotes / "bench" / f"{name}.git",
            self.history_stream(self.sizes.specs, self.sizes.commits, name),
        )
        git("config", "uploadpack.allowFilter", "true", cwd=remote)  # as GitHub does
        at = datetime.now(UTC).replace(microsecond=0)
        client = PulseOxClient(remote=f"file://{remote}", cache_dir=self.work / f"w-{name}")
        PulseOxDashboard(owner="bench", repo=name, client=client, clock=lambda: at).write_summary()
        return remote, at

    def full_commits(self, remote: Path, at: datetime, count: int) -> list[Commit]:
        """`count` commits as refreshes with a status change write them: summary,
        state, status page and one badge, 15 minutes apart."""
        names = git("ls-tree", "-r", "--name-only", "main", cwd=remote).split()
        badges = [n for n in names if n.startswith("badges/") and n != "badges/status.svg"]
        base = tip_files(remote, ["summary.md", "pulseox-state.json", "index.html", *badges[:50]])
        commits = []
        for k in range(1, count + 1):
            when = at + k * timedelta(minutes=15)
            files = {
                p: retimed(base[p], at, when)
                for p in ("summary.md", "pulseox-state.json", "index.html")
            }
            badge = badges[k % min(len(badges), 50)]
            files[badge] = base[badge].replace(b"#2e7d32", b"#c62828") if k % 2 else base[badge]
            commits.append((int(when.timestamp()), files, "pulseox: dashboard (1 changed)\n"))
        return commits

    def after_dashboard_commits(self) -> dict[str, Any]:
        """g3: cold refresh before and after `dashboard_commits` full commits."""
        size = self.sizes
        name = f"g3-{size.specs}"
        packed_bytes(self.dashboard_repo(name + "-before")[0])  # the same, without them
        remote, at = self.dashboard_repo(name)
        before_bytes = packed_bytes(remote)
        append_commits(remote, self.full_commits(remote, at, size.dashboard_commits))
        grown = packed_bytes(remote) - before_bytes
        before, after = self.cold([name + "-before", name])
        out = {
            "specs": size.specs,
            "page_commits": size.commits,
            "dashboard_commits": size.dashboard_commits,
            "before": before,
            "after": after,
            "packed_bytes_per_full_commit": grown / size.dashboard_commits,
        }
        self.log(
            f"  (h3) cold refresh of {size.specs} specs: {before['median']:.3f}s, after "
            f"{size.dashboard_commits} dashboard commits {after['median']:.3f}s "
            f"({grown / size.dashboard_commits / 1024:.1f} KiB packed per commit)"
        )
        return out

    # -- h1: many repositories at a network's latency ------------------------------

    def many_repositories(self) -> dict[str, Any]:
        """A warm refresh watching one page in each of K other repositories, through
        a latency proxy; before each, a post to the first of them (so the refresh
        has something to commit, as when a job ran)."""
        from fixtures.git_http import GitHttpServer
        from fixtures.latency_proxy import LatencyProxy

        size = self.sizes
        root = self.work / "g1-http"
        out: dict[str, Any] = {"rtt_ms": size.rtt * 1000}
        with GitHttpServer(root) as server, LatencyProxy(server.port, size.rtt / 2) as proxy:
            boards = {k: self._watching(root, proxy.template, k) for k in size.others}
            samples: dict[int, list[float]] = {k: [] for k in size.others}
            requests: dict[int, list[int]] = {k: [] for k in size.others}
            for rep in range(size.reps + 1):  # the first warms the caches, not counted
                for k, (run, poster) in boards.items():
                    poster(rep)
                    before = len(server.requests)
                    seconds = _timed(run)
                    if rep:
                        samples[k].append(seconds)
                        requests[k].append(len(server.requests) - before)
        for k in size.others:
            out[str(k)] = {"refresh": self.stats(samples[k]), "http_requests": max(requests[k])}
        small, large = size.others
        self.log(
            f"  (h1) warm refresh at RTT {size.rtt * 1000:.0f} ms: K={small} "
            f"{out[str(small)]['refresh']['median']:.2f}s ({out[str(small)]['http_requests']} "
            f"requests), K={large} {out[str(large)]['refresh']['median']:.2f}s "
            f"({out[str(large)]['http_requests']} requests)"
        )
        return out

    def _watching(
        self, root: Path, template: str, k: int
    ) -> tuple[Callable[[], object], Callable[[int], None]]:
        """A dashboard `own-K` watching `jobs/run.md` in `K` other repositories: the
        refresh to time, and a post (straight to the bare repository) before it."""
        owner = f"k{k}"
        for name in ["own", *(f"r{i}" for i in range(k))]:
            make_served(root / owner / f"{name}.git")
        direct = PulseOxClient(
            remote=f"file://{root}/{{owner}}/{{repo}}.git", cache_dir=self.work / f"g1-post-{k}"
        )
        for i in range(k):
            direct.post(owner, f"r{i}", "jobs/run.md", "first run")
        specs = "".join(
            f'\n[[spec]]\nowner = "{owner}"\nrepo = "r{i}"\npath = "jobs/run.md"\nschedule = "1d"\n'
            for i in range(k)
        )
        toml = ('[dashboard]\nmode = "md"\n' + specs).encode()
        direct.store(owner, "own").publish(lambda _s, _t: Change({"pulseox.toml": toml}, "specs\n"))
        cache = self.work / f"g1-cache-{k}"

        def run() -> object:
            client = PulseOxClient(remote=template, cache_dir=cache)
            return PulseOxDashboard(owner=owner, repo="own", client=client).write_summary()

        def poster(rep: int) -> None:
            direct.post(owner, "r0", "jobs/run.md", f"run {rep}")

        return run, poster

    # -- h2: refreshes with nothing new --------------------------------------------

    def idle_refreshes(self) -> dict[str, Any]:
        """10 refreshes 15 minutes apart (simulated clock) with no posts, then one
        when the heartbeat is due: the commits each part added."""
        remote, at = self.dashboard_repo(f"g2-{self.sizes.specs}")
        client = PulseOxClient(remote=f"file://{remote}", cache_dir=self.work / "g2-cache")

        def refresh(when: datetime) -> None:
            PulseOxDashboard(
                owner="bench", repo=remote.stem, client=client, clock=lambda: when
            ).write_summary()

        before = count(remote)
        for i in range(1, 11):
            refresh(at + i * timedelta(minutes=15))
        idle = count(remote) - before
        refresh(at + DEFAULT_HEARTBEAT)
        beat = git("show", "--name-only", "--format=", "main", cwd=remote).split()
        out = {
            "refreshes": 10,
            "commits": idle,
            "heartbeat_commits": count(remote) - before - idle,
            "heartbeat_files": sorted(beat),
        }
        self.log(
            f"  (h2) 10 refreshes with no posts: {idle} commits; then a heartbeat "
            f"writing {', '.join(sorted(beat))}"
        )
        return out

    # -- h4: a simulated year ------------------------------------------------------

    def year(self) -> dict[str, Any]:
        """A year of */15 refreshes with no posts. The refresh's own rule
        (`heartbeat.choose`, on a simulated clock) says which commit; those commits
        are generated with fast-import from a real heartbeat commit's files."""
        size = self.sizes
        name = f"g4-{size.specs}"
        packed_bytes(self.dashboard_repo(name + "-before")[0])  # packed alike
        remote, at = self.dashboard_repo(name)
        client = PulseOxClient(remote=f"file://{remote}", cache_dir=self.work / "g4-cache")
        first = at + DEFAULT_HEARTBEAT
        board = PulseOxDashboard(owner="bench", repo=name, client=client, clock=lambda: first)
        board.write_summary()  # a real heartbeat commit: the files it writes
        light = git("show", "--name-only", "--format=", "main", cwd=remote).split()
        base = tip_files(remote, light)
        before_bytes = packed_bytes(remote)
        made = append_commits(remote, heartbeats(base, first, light))
        grown = packed_bytes(remote) - before_bytes
        before, after = self.cold([name + "-before", name])
        out = {
            "specs": size.specs,
            "refreshes": YEAR,
            "commits": made,
            "packed_bytes": grown,
            "heartbeat_files": light,
            "before": before,
            "after": after,
        }
        self.log(
            f"  (h4) a year of */15 refreshes, {size.specs} specs, no posts: {made} "
            f"commits, {grown / 2**20:.1f} MiB packed; cold refresh {before['median']:.3f}s -> "
            f"{after['median']:.3f}s"
        )
        return out


def heartbeats(base: dict[str, bytes], first: datetime, light: list[str]) -> Iterator[Commit]:
    """The commits a year of */15 refreshes with nothing new makes, after a heartbeat
    at `first` that wrote `base`: the refresh's own rule decides at each step."""
    record = Record(frozenset(), "same", first)
    every = {p: b"" for p in ["index.html", *light]}  # what a refresh renders
    for step in range(1, YEAR + 1):
        now = first + step * timedelta(minutes=15)
        due = choose(every, record, "same", now, DEFAULT_HEARTBEAT, light)
        if due is not None:
            files = {p: retimed(base[p], first, now) for p in due}
            yield int(now.timestamp()), files, "pulseox: dashboard heartbeat\n"
            record = Record(frozenset(), "same", now)


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def count(remote: Path) -> int:
    return int(git("rev-list", "--count", "main", cwd=remote))


def make_served(path: Path) -> Path:
    """An empty bare repository the smart-HTTP server may push to and filter."""
    git("init", "--quiet", "--bare", "--initial-branch=main", str(path))
    git("config", "http.receivepack", "true", cwd=path)
    git("config", "uploadpack.allowFilter", "true", cwd=path)
    return path


# -- reporting: rows and targets for bench.py's tables ---------------------------

Fmt = Callable[[Any], str]


def scale_rows(scale: dict[str, Any], secs: Fmt, times: Fmt) -> list[list[str]]:
    """The (h) rows of the comparison table (measure, ours, raw, ratio, -, -)."""
    table = []
    others = scale.get("others")
    if others:
        ks = [k for k in others if k != "rtt_ms"]
        small = others[ks[0]]
        for k in ks:
            entry = others[k]
            r = entry["refresh"]["median"] / small["refresh"]["median"]
            table.append(
                [
                    f"(h1) warm refresh, pages in K = {k} other repositories, RTT "
                    f"{others['rtt_ms']:.0f} ms ({entry['http_requests']} HTTP requests)",
                    secs(entry["refresh"]),
                    "-",
                    f"{times(r)} of K = {ks[0]}",
                    "-",
                    "-",
                ]
            )
    idle = scale.get("idle")
    if idle:
        table.append(
            [
                f"(h2) {idle['refreshes']} refreshes in a row, no posts, heartbeat not due",
                f"{idle['commits']} commits",
                "-",
                f"then a heartbeat: {', '.join(idle['heartbeat_files'])}",
                "-",
                "-",
            ]
        )
    after = scale.get("after_commits")
    if after:
        r = after["after"]["median"] / after["before"]["median"]
        table.append(
            [
                f"(h3) cold refresh, {after['specs']} specs x {after['page_commits']} commits, "
                f"after {after['dashboard_commits']} full dashboard commits (before)",
                secs(after["after"]),
                secs(after["before"]),
                f"{times(r)} of before",
                "-",
                "-",
            ]
        )
    year = scale.get("year")
    if year:
        today = year_today(scale)
        r = year["after"]["median"] / year["before"]["median"]
        table.append(
            [
                f"(h4) a simulated year of */15 refreshes, {year['specs']} specs, no posts: "
                f"{year['commits']} commits (a commit per refresh: {YEAR}), "
                f"{year['packed_bytes'] / 2**20:.1f} MiB packed (then: "
                f"{today / 2**20:.0f} MiB); cold refresh after it (before)",
                secs(year["after"]),
                secs(year["before"]),
                f"{times(r)} of before",
                "-",
                "-",
            ]
        )
    return table


def year_today(scale: dict[str, Any]) -> float:
    """What a year of a commit per refresh packs to: h3's full commits, per
    commit, x 35,040 (issue 13 measured about 270 MB at 1,000 specs)."""
    after = scale.get("after_commits")
    if after:
        return float(after["packed_bytes_per_full_commit"] * YEAR)
    return float(TODAY_YEAR["packed_bytes"])


def scale_targets(scale: dict[str, Any], times: Fmt) -> list[tuple[str, str, bool | None]]:
    """(what, measured, met) for issue 13's targets; met None for a smaller run."""
    found: list[tuple[str, str, bool | None]] = []
    others = scale.get("others")
    if others:
        ks = [k for k in others if k != "rtt_ms"]
        r = others[ks[-1]]["refresh"]["median"] / others[ks[0]]["refresh"]["median"]
        full = ks == ["1", "20"] and others["rtt_ms"] >= 150
        found.append(
            (
                f"(h1) K = {ks[-1]} warm refresh within 2x of K = {ks[0]}",
                times(r),
                _at(r <= 2, full),
            )
        )
    idle = scale.get("idle")
    if idle:
        found.append(
            (
                "(h2) 10 refreshes with no posts: 0 commits",
                str(idle["commits"]),
                idle["commits"] == 0,
            )
        )
    after = scale.get("after_commits")
    if after:
        r = after["after"]["median"] / after["before"]["median"]
        full = after["specs"] >= 1000 and after["dashboard_commits"] >= 400
        found.append(
            (
                f"(h3) cold refresh after {after['dashboard_commits']} dashboard commits "
                "within 1.2x of before",
                times(r),
                _at(r <= 1.2, full),
            )
        )
    year = scale.get("year")
    if year:
        full = year["specs"] >= 1000
        share = year["commits"] / YEAR
        found.append(
            ("(h4) commits a year at most 10% of one per refresh", f"{share:.1%}", share <= 0.1)
        )
        packed = year["packed_bytes"] / year_today(scale)
        found.append(
            (
                "(h4) packed growth a year at most 10% of a commit per refresh",
                f"{packed:.1%}",
                _at(packed <= 0.1, full),
            )
        )
        r = year["after"]["median"] / year["before"]["median"]
        found.append(
            (
                "(h4) cold refresh after the year within 1.2x of before",
                times(r),
                _at(r <= 1.2, full),
            )
        )
    return found


def _at(ok: bool, right_size: bool) -> bool | None:
    return ok if right_size else None
