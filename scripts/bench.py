#!/usr/bin/env python3
"""Measure pulseox-git against raw git and the original pulseox, in one run.

Everything happens on bare repositories in a temporary folder. Each measure is
repeated and reported as median and spread (the median absolute deviation);
the two sides of a comparison are interleaved, so a noisy machine slows both
alike. Run through `scripts/bench` (which sets up .venv); see --help.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import burst  # noqa: E402

from fixtures.git_http import GitHttpServer  # noqa: E402
from pulseox_git.client import PulseOxClient  # noqa: E402
from pulseox_git.job.run import RunOptions, execute  # noqa: E402
from pulseox_git.page import Page, commit_message, render  # noqa: E402
from scripts.bench_scale import (  # noqa: E402
    FULL_SCALE,
    QUICK_SCALE,
    TINY_SCALE,
    Scale,
    scale_rows,
    scale_targets,
)

ORIGINAL = "pulseox==0.1.5"
ORIGINAL_EXTRA = "pytz"  # imported by pulseox.specs but not declared by 0.1.5
ORIGINAL_VENV = ROOT / ".bench" / "pulseox-venv"
IDENTITY = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}
TRACK = "+refs/heads/main:refs/remotes/origin/main"
BEFORE_QUEUED = "5afa4ec"  # (g) the last commit before queued posts (issue 12)
# Posts with PulseOxClient, one per line read (the post number); prints its seconds.
POST_DRIVER = (
    "import sys, time\n"
    "from pulseox_git.client import PulseOxClient\n"
    "client = PulseOxClient(remote=sys.argv[1], cache_dir=sys.argv[2])\n"
    "for line in sys.stdin:\n"
    "    i = int(line)\n"
    "    t = time.perf_counter()\n"
    "    client.post('o', 'r', f'jobs/job-{i % 7}.md', f'run {i}\\n', 'GOOD', f'run {i}')\n"
    "    print(time.perf_counter() - t, flush=True)\n"
)
LOG_FORMAT = "--format=%x1e%H %ct%n%B"
# Runs a command, then prints its wall time and the peak RSS of the process tree.
MEASURED = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
    "t = time.perf_counter() - t\n"
    "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(t, rss, code)\n"
)


@dataclass(frozen=True)
class Sizes:
    """How big each part of the run is."""

    batch: tuple[int, ...]
    batch_reps: int
    posts: int
    dash: tuple[tuple[int, int], ...]  # (specs, commits)
    dash_reps: int
    startup_reps: int
    original_reps: int
    passthrough_mb: int = 200  # (f) output a wrapped command writes
    passthrough_reps: int = 5
    large: tuple[int, int] = (10000, 100000)  # (l) specs, commits
    large_reps: int = 3
    burst: tuple[int, ...] = (8, 64, 256)  # (g) writers posting at one instant
    burst_rtts: tuple[float, ...] = (0, 50)  # (g) round-trip times, ms


FULL = Sizes(
    (10, 100, 1000), 7, 50, ((100, 1000), (100, 10000), (1000, 1000), (1000, 10000)), 5, 15, 3
)
QUICK = Sizes(
    (10, 100, 1000), 3, 20, ((100, 1000), (100, 4000)), 3, 7, 1, 200, 3, (1000, 10000), 2, (8, 32)
)
TINY = Sizes((3, 10), 1, 3, ((5, 20), (5, 40)), 1, 1, 1, 2, 1, (30, 90), 1, (3,), (0,))


# -- small helpers -------------------------------------------------------------


def git(*args: str, cwd: Path | None = None, input: bytes | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True)
    if proc.returncode:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.decode()}")
    return proc.stdout.decode()


def stats(samples: list[float]) -> dict:
    """Median and median absolute deviation, in seconds, with the raw samples."""
    median = statistics.median(samples)
    spread = statistics.median(abs(s - median) for s in samples)
    return {
        "median": median,
        "spread": spread,
        "min": min(samples),
        "max": max(samples),
        "n": len(samples),
        "samples": samples,
    }


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def measured(cmd: list[str], env: dict | None = None) -> tuple[float, int]:
    """Wall time and peak RSS (bytes) of `cmd`, from a fresh parent that reads
    resource.getrusage(RUSAGE_CHILDREN), so no earlier child counts."""
    out = subprocess.run(
        [sys.executable, "-c", MEASURED, *cmd], env=env, check=True, capture_output=True, text=True
    ).stdout.split()
    if out[2] != "0":
        raise RuntimeError(f"{' '.join(cmd)} exited {out[2]}")
    return float(out[0]), int(out[1]) * 1024


def fast_import_commit(
    ref: str, files: dict[str, bytes], message: str, when: int, parent: str | None = None
) -> bytes:
    """One fast-import commit that writes `files` on `ref`."""
    msg = message.encode()
    chunks = [
        f"commit {ref}\n".encode(),
        f"committer Bench <bench@example.invalid> {when} +0000\n".encode(),
        f"data {len(msg)}\n".encode(),
        msg,
        b"\n",
    ]
    if parent:
        chunks.append(f"from {parent}\n".encode())
    for path, data in files.items():
        chunks += [f"M 100644 inline {path}\ndata {len(data)}\n".encode(), data, b"\n"]
    return b"".join(chunks) + b"\n"


def make_remote(path: Path, stream: bytes = b"") -> Path:
    """A bare repository with one first commit, plus whatever `stream` adds."""
    git("init", "--quiet", "--bare", "--initial-branch=main", str(path))
    first = fast_import_commit(
        "refs/heads/main", {"README.md": b"bench\n"}, "start", int(time.time()) - 86400 * 30
    )
    git("fast-import", "--quiet", cwd=path, input=first + stream)
    return path


def raw_clone(remote: Path, path: Path) -> Path:
    """A bare repository that fetches `remote`, as the raw-git side's cache."""
    git("init", "--quiet", "--bare", str(path))
    git("remote", "add", "origin", f"file://{remote}", cwd=path)
    git("fetch", "--quiet", "origin", TRACK, cwd=path)
    return path


def raw_post(work: Path, files: dict[str, bytes], message: str) -> None:
    """What a post costs in plain git: fetch, one fast-import commit, push."""
    git("fetch", "--quiet", "--no-tags", "origin", TRACK, cwd=work)
    stream = fast_import_commit(
        "refs/heads/work", files, message, int(time.time()), parent="refs/remotes/origin/main^0"
    )
    git("fast-import", "--quiet", "--force", cwd=work, input=stream)
    git("push", "--quiet", "origin", "refs/heads/work:refs/heads/main", cwd=work)


def pages(n: int, rep: int, prefix: str = "jobs") -> list[Page]:
    return [
        Page(
            f"{prefix}/team-{i % 10}/job-{i:05d}.md",
            f"job {i} ran, round {rep}\n- rows: {i * 7 + rep}\n",
            "BAD" if i % 17 == 0 else "GOOD",
            f"round {rep}",
        )
        for i in range(n)
    ]


def rendered(batch: list[Page]) -> dict[str, bytes]:
    now = datetime.now(UTC).replace(microsecond=0)
    return {p.path: render(p.path, p.content, p.report, now, p.note).encode() for p in batch}


# -- the measures --------------------------------------------------------------


class Original:
    """pulseox 0.1.5 in its own venv, driven one operation at a time over a pipe,
    so its runs interleave with ours; each reply is the seconds it took in-process."""

    def __init__(self, python: Path, work: Path) -> None:
        self.python, self.work = python, work
        self.proc = subprocess.Popen(
            [str(python), "-c", ORIGINAL_DRIVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def clone(self, name: str, stream: bytes = b"") -> Path:
        """A working-tree clone of a new remote: what the original's git backend uses."""
        remote = make_remote(self.work / "orig-remotes" / f"{name}.git", stream)
        clone = self.work / f"orig-{name}"
        git("clone", "--quiet", f"file://{remote}", str(clone))
        return clone

    def __call__(self, **job) -> float:
        self.proc.stdin.write(json.dumps(job) + "\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]
        reply = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not reply:
            raise RuntimeError(f"the original pulseox failed on {job}")
        return float(reply)

    def dashboard(self, clone: Path, specs: int) -> float:
        """A whole process: start, import, read every spec from the working tree."""
        job = json.dumps({"kind": "dashboard", "clone": str(clone), "n": specs})
        return measured([str(self.python), "-c", ORIGINAL_DRIVER, job])[0]

    def close(self) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait()


class Bench:
    def __init__(self, work: Path, sizes: Sizes, original: Path | None, log=print) -> None:
        self.work, self.sizes, self.log = work, sizes, log
        self.original = Original(original, work) if original else None
        self.results: dict = {}
        self.cli = str(Path(sys.executable).parent / "pulseox-git")

    def client(self, name: str) -> PulseOxClient:
        remote = make_remote(self.work / "remotes" / "bench" / f"{name}.git")
        return PulseOxClient(remote=f"file://{remote}", cache_dir=self.work / f"cache-{name}")

    def batch(self) -> None:
        """(a) N pages in one commit and push, in-process, against raw git and the
        original (its write_tree: one `git add` per file, commit, push)."""
        out = self.results.setdefault("batch", {})
        for n in self.sizes.batch:
            client = self.client(f"batch-{n}")
            raw = raw_clone(
                make_remote(self.work / f"raw-batch-{n}.git"),
                self.work / f"raw-cache-batch-{n}.git",
            )
            orig = self.original.clone(f"batch-{n}") if self.original else None
            orig_reps = self.sizes.original_reps if n >= 1000 else self.sizes.batch_reps
            client.post_many("bench", "status", pages(n, -1))  # warm the cache
            if orig and self.original:
                self.original(kind="batch", clone=str(orig), n=n, rep=-1)  # create the files
            ours, plain, theirs = [], [], []
            for rep in range(self.sizes.batch_reps):
                batch = pages(n, rep)
                ours.append(timed(lambda c=client, b=batch: c.post_many("bench", "status", b)))
                files = rendered(batch)
                plain.append(
                    timed(lambda r=raw, f=files, b=batch: raw_post(r, f, commit_message(b)))
                )
                if orig and self.original and rep < orig_reps:
                    theirs.append(self.original(kind="batch", clone=str(orig), n=n, rep=rep))
            out[str(n)] = {"pulseox_git": stats(ours), "raw_git": stats(plain)}
            if theirs:
                out[str(n)]["original"] = stats(theirs)
            self.log(
                f"  (a) N={n}: {statistics.median(ours):.3f}s vs raw "
                f"{statistics.median(plain):.3f}s"
                + (f" vs original {statistics.median(theirs):.3f}s" if theirs else "")
            )

    def posts(self) -> None:
        """(b) single posts one after another on a warm cache, against raw git
        (fetch, commit, push) and the original (add, commit, push)."""
        client = self.client("posts")
        raw = raw_clone(make_remote(self.work / "raw-posts.git"), self.work / "raw-cache-posts")
        orig = self.original.clone("posts") if self.original else None
        client.post("bench", "status", "warm.md", "warm")
        if orig and self.original:
            self.original(kind="post", clone=str(orig), i=-1)
        ours, plain, theirs = [], [], []
        for i in range(self.sizes.posts):
            page = Page(f"jobs/job-{i % 7}.md", f"run {i}\n", "GOOD", f"run {i}")
            ours.append(
                timed(
                    lambda p=page: client.post(
                        "bench", "status", p.path, p.content, p.report, p.note
                    )
                )
            )
            files = rendered([page])
            plain.append(timed(lambda f=files, p=page: raw_post(raw, f, commit_message([p]))))
            if orig and self.original:
                theirs.append(self.original(kind="post", clone=str(orig), i=i))
        self.results["posts"] = {"pulseox_git": stats(ours), "raw_git": stats(plain)}
        if theirs:
            self.results["posts"]["original"] = stats(theirs)
        self.log(
            f"  (b) per post: {statistics.median(ours) * 1000:.1f} ms vs raw "
            f"{statistics.median(plain) * 1000:.1f} ms"
            + (f" vs original {statistics.median(theirs) * 1000:.1f} ms" if theirs else "")
        )

    def startup(self) -> None:
        """(e) process start-up, against python itself."""
        cases = {
            "pulseox-git --version": [self.cli, "--version"],
            "pulseox-git post --help": [self.cli, "post", "--help"],
            "python3 -c pass": [sys.executable, "-c", "pass"],
            "python3 -c 'import typer'": [sys.executable, "-c", "import typer"],
        }
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(self.sizes.startup_reps + 1):  # the first round only warms the disk cache
            for name, cmd in cases.items():
                samples[name].append(measured(cmd)[0])
        self.results["startup"] = {name: stats(s[1:]) for name, s in samples.items()}
        self.log(
            "  (e) "
            + ", ".join(
                f"{k}: {statistics.median(v[1:]) * 1000:.0f} ms" for k, v in samples.items()
            )
        )

    def burst(self) -> None:
        """(g) N writer processes posting one page each at one instant through the
        latency proxy (scripts/burst.py): with queued posts, with them off
        (PULSEOX_INBOX=0), and each writer to a repository of its own (the floor)."""
        import resource

        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # 4 sockets per writer
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        runs = burst.run_matrix(
            list(self.sizes.burst), list(self.sizes.burst_rtts), log=lambda x: self.log(f"  (g){x}")
        )
        self.results["burst"] = [{k: v for k, v in r.items() if k != "per_writer"} for r in runs]
        self.uncontended()

    def uncontended(self) -> None:
        """(g) one warm post at a time over smart HTTP with a token, this tree against
        the tree before queued posts (BEFORE_QUEUED, from git history), alternating:
        seconds in-process and HTTP requests per post."""
        before = self.work / "before-queued"
        before.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", BEFORE_QUEUED, "pulseox_git"],
            capture_output=True,
        )
        if archive.returncode:
            self.log(f"  (g) uncontended post: skipped, no commit {BEFORE_QUEUED} in git history")
            return
        subprocess.run(["tar", "-x", "-C", str(before)], input=archive.stdout, check=True)
        root = self.work / "uncontended"
        trees = {"pulseox_git": ROOT, "before_queued": before}
        for name in trees:
            git("init", "--quiet", "--bare", "-b", "main", str(root / name / "r.git"))
        seconds: dict[str, list[float]] = {name: [] for name in trees}
        requests: dict[str, list[int]] = {name: [] for name in trees}
        with GitHttpServer(root, token="bench-token") as server:
            caches = {name: str(self.work / f"cache-uncontended-{name}") for name in trees}
            drivers = {
                name: subprocess.Popen(
                    [sys.executable, "-c", POST_DRIVER, server.url(name, "r"), caches[name]],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    env={**os.environ, "PYTHONPATH": str(tree), "PULSEOX_TOKEN": "bench-token"},
                    cwd=tree,  # `-c` puts the current directory first on sys.path
                )
                for name, tree in trees.items()
            }
            try:
                for i in range(-1, self.sizes.posts):  # post -1 makes the branch and the cache
                    for name, driver in drivers.items():
                        sent = len(server.requests)
                        driver.stdin.write(f"{i}\n")  # type: ignore[union-attr]
                        driver.stdin.flush()  # type: ignore[union-attr]
                        reply = driver.stdout.readline()  # type: ignore[union-attr]
                        if not reply:
                            raise RuntimeError(f"the {name} post driver failed")
                        if i >= 0:
                            seconds[name].append(float(reply))
                            requests[name].append(len(server.requests) - sent)
            finally:
                for driver in drivers.values():
                    driver.stdin.close()  # type: ignore[union-attr]
                    driver.wait()
        self.results["uncontended"] = {
            name: {
                **stats(seconds[name]),
                "requests": statistics.median(requests[name]),
                "requests_max": max(requests[name]),
            }
            for name in trees
        }
        ours, then = (statistics.median(seconds[name]) for name in trees)
        self.log(
            f"  (g) uncontended post: {ours * 1000:.1f} ms vs {then * 1000:.1f} ms before "
            f"queued posts, at most {max(requests['pulseox_git'])} HTTP requests"
        )

    def passthrough(self) -> None:
        """(f) `pulseox-git run` passing a command's output on (and keeping its tail),
        against the same bytes through a `| cat` pipe, both to /dev/null."""
        size = self.sizes.passthrough_mb * 1_000_000
        make = ["sh", "-c", f"head -c {size} /dev/zero"]
        piped = ["sh", "-c", f"head -c {size} /dev/zero | cat"]
        ours: list[float] = []
        cat: list[float] = []
        with open(os.devnull, "wb") as null:

            def wrapped() -> None:
                execute(make, RunOptions(), datetime.now(UTC), stdout=null, stderr=null)

            for _ in range(self.sizes.passthrough_reps):
                ours.append(timed(wrapped))
                cat.append(timed(lambda: subprocess.run(piped, stdout=null, check=True)))
        self.results["passthrough"] = {
            "mb": self.sizes.passthrough_mb,
            "pulseox_git": stats(ours),
            "cat_pipe": stats(cat),
        }
        self.log(
            f"  (f) {self.sizes.passthrough_mb} MB through run: "
            f"{statistics.median(ours) * 1000:.0f} ms vs | cat "
            f"{statistics.median(cat) * 1000:.0f} ms"
        )

    # -- (c) the dashboard -----------------------------------------------------

    def history_stream(
        self, specs: int, commits: int, repo: str, folders: int = 10, spacing: int = 30
    ) -> bytes:
        """`commits` commits: the first posts every page and the spec file, each
        later one re-posts one page, with trailers as pulseox-git writes them.
        The pages are spread over `folders` folders (fewer, larger trees make
        fast-import slower: it writes each touched tree again per commit), one
        commit every `spacing` seconds up to a minute ago."""
        paths = [f"jobs/team-{i % folders}/job-{i:05d}.md" for i in range(specs)]
        end = int(time.time()) - 60
        start = end - commits * spacing
        first = [Page(p, f"first run of {p}\n", "GOOD") for p in paths]
        files = rendered(first) | {"pulseox.toml": spec_file("bench", repo, paths).encode()}
        chunks = [fast_import_commit("refs/heads/main", files, commit_message(first), start)]
        for k in range(1, commits):
            when = start + k * spacing
            page = Page(
                paths[k % specs], f"run {k}\n", "BAD" if k % 13 == 0 else "GOOD", f"run {k}"
            )
            text = render(
                page.path, page.content, page.report, datetime.fromtimestamp(when, UTC), page.note
            ).encode()
            chunks.append(
                fast_import_commit(
                    "refs/heads/main", {page.path: text}, commit_message([page]), when
                )
            )
        return b"".join(chunks)

    def dashboard(self) -> None:
        """(c) a cold `dashboard refresh --no-write` process against a raw `git clone`
        plus one log pass, and the original reading the same pages from a working tree."""
        if not dashboard_ready():
            self.results["dashboard"] = {"skipped": "pulseox-git has no dashboard refresh yet"}
            self.log("  (c) skipped: pulseox-git has no `dashboard refresh` yet")
            return
        out = self.results.setdefault("dashboard", {})
        remotes = self.work / "dash-remotes"
        for specs, commits in self.sizes.dash:
            name = f"d{specs}x{commits}"
            stream = self.history_stream(specs, commits, name)
            remote = make_remote(remotes / "bench" / f"{name}.git", stream)
            orig = self.original.clone(name, stream) if self.original else None
            env = {**os.environ, "PULSEOX_GIT_REMOTE": f"file://{remotes}/{{owner}}/{{repo}}.git"}
            cmd = [
                self.cli,
                "dashboard",
                "refresh",
                "--owner",
                "bench",
                "--repo",
                name,
                "--no-write",
            ]
            raw_cmd = [
                "sh",
                "-c",
                'git clone --quiet "$1" "$2" && '
                f'git -C "$2" log -z --name-only "{LOG_FORMAT}" main >/dev/null',
                "sh",
                f"file://{remote}",
            ]
            ours, plain, theirs, rss = [], [], [], []
            for rep in range(self.sizes.dash_reps):
                cache = self.work / f"dash-cache-{name}-{rep}"
                seconds, peak = measured(cmd, {**env, "PULSEOX_GIT_CACHE": str(cache)})
                ours.append(seconds)
                rss.append(peak)
                plain.append(measured([*raw_cmd, str(self.work / f"raw-{name}-{rep}")])[0])
                if orig and self.original:
                    theirs.append(self.original.dashboard(orig, specs))
            entry = {
                "pulseox_git": stats(ours),
                "raw_git": stats(plain),
                "peak_rss_bytes": max(rss),
            }
            if theirs:
                entry["original"] = stats(theirs)
            if (specs, commits) == self.sizes.dash[-1]:
                entry["incremental"] = self.incremental(remote, name, env, cmd)
            out[name] = {"specs": specs, "commits": commits, **entry}
            self.log(
                f"  (c) {specs} specs x {commits} commits: cold {statistics.median(ours):.3f}s"
                f" vs raw {statistics.median(plain):.3f}s, peak {max(rss) >> 20} MB"
                + (f"; original {statistics.median(theirs):.3f}s" if theirs else "")
            )

    def incremental(self, remote: Path, name: str, env: dict, cmd: list[str]) -> dict:
        """A refresh on a warm cache after 10 new posts, each its own commit."""
        samples = []
        poster = PulseOxClient(remote=f"file://{remote}", cache_dir=self.work / "dash-poster")
        for rep in range(self.sizes.dash_reps):
            cache = self.work / f"dash-cache-{name}-{rep}"
            for i in range(10):
                poster.post("bench", name, f"jobs/team-{i}/job-{i:05d}.md", f"later {rep} {i}")
            samples.append(measured(cmd, {**env, "PULSEOX_GIT_CACHE": str(cache)})[0])
        return stats(samples)

    # -- (l) a large dashboard -------------------------------------------------

    def large(self) -> None:
        """(l) a large dashboard, all in one run: a raw bare `git clone` plus one
        `git log -z --raw` pass against cold refreshes (`--no-write`, and writing),
        the peak memory of each process tree, a refresh after 10 new posts on the
        writing refresh's warm cache, and the sizes of what it wrote. Served by
        fixtures/git_http.py (`git http-backend` on 127.0.0.1)."""
        if not dashboard_ready():
            return
        specs, commits = self.sizes.large
        name = f"l{specs}x{commits}"
        folders = max(specs // 100, 1)  # 100 pages a folder: fast-import stays fast
        start = time.perf_counter()
        # a post a second: every page's last post is recent, so most are OK (1d)
        stream = self.history_stream(specs, commits, name, folders, spacing=1)
        remote = make_remote(self.work / "large" / "bench" / f"{name}.git", stream)
        made = time.perf_counter() - start
        samples: dict[str, list[float]] = {k: [] for k in ("raw", "no_write", "write", "after")}
        rss: dict[str, list[int]] = {k: [] for k in ("no_write", "write", "after")}
        sizes: dict[str, int] = {}
        # served over smart HTTP as from a forge, so the serving side's pack-objects
        # (about 290 MB at full size) is not counted in either side's process tree
        with GitHttpServer(self.work / "large") as served:
            url = served.url("bench", name)
            raw_cmd = [
                "sh",
                "-c",
                'git clone --quiet --bare "$1" "$2" && '
                f'git -C "$2" log -z --raw --no-abbrev "{LOG_FORMAT}" main >/dev/null',
                "sh",
                url,
            ]
            cmd = [self.cli, "dashboard", "refresh", "--owner", "bench", "--repo", name]
            for rep in range(self.sizes.large_reps):
                raw = measured([*raw_cmd, str(self.work / f"raw-{name}-{rep}")])[0]
                samples["raw"].append(raw)
                env = {
                    **os.environ,
                    "PULSEOX_GIT_REMOTE": served.template,
                    "PULSEOX_GIT_CACHE": str(self.work / f"large-cache-nw-{rep}"),
                }
                seconds, peak = measured([*cmd, "--no-write"], env)
                samples["no_write"].append(seconds)
                rss["no_write"].append(peak)
                # each writing rep has its own copy of the remote (hard links: instant)
                root = self.work / f"large-{rep}"
                copy = root / "bench" / f"{name}.git"
                git("clone", "--quiet", "--bare", str(remote), str(copy))
                with GitHttpServer(root) as own:
                    env = {
                        **env,
                        "PULSEOX_GIT_REMOTE": own.template,
                        "PULSEOX_GIT_CACHE": str(self.work / f"large-cache-w-{rep}"),
                    }
                    seconds, peak = measured(cmd, env)
                    samples["write"].append(seconds)
                    rss["write"].append(peak)
                    post_ten(copy, specs, folders, rep)
                    seconds, peak = measured(cmd, env)  # on the same cache, warm now
                    samples["after"].append(seconds)
                    rss["after"].append(peak)
                for path in ("index.html", "summary.md"):
                    sizes[path] = int(git("cat-file", "-s", f"main:{path}", cwd=copy))
        self.results["large"] = {
            "specs": specs,
            "commits": commits,
            "generate_seconds": round(made, 1),
            "raw_git": stats(samples["raw"]),
            "pulseox_git": stats(samples["no_write"]),
            "write": stats(samples["write"]),
            "after_posts": stats(samples["after"]),
            "peak_rss_bytes": {k: max(v) for k, v in rss.items()},
            "bytes": sizes,
        }
        self.log(
            f"  (l) {specs} specs x {commits} commits (made in {made:.0f}s): raw clone + log "
            f"{statistics.median(samples['raw']):.2f}s, cold --no-write "
            f"{statistics.median(samples['no_write']):.2f}s, cold write "
            f"{statistics.median(samples['write']):.2f}s, after 10 posts "
            f"{statistics.median(samples['after']):.2f}s, peak "
            f"{max(max(v) for v in rss.values()) >> 20} MB, index.html "
            f"{sizes['index.html'] / 1e6:.2f} MB, summary.md {sizes['summary.md'] / 1e6:.2f} MB"
        )

    def scale(self) -> None:
        """(h) the dashboard at scale: scripts/bench_scale.py."""
        sizes = {id(FULL): FULL_SCALE, id(QUICK): QUICK_SCALE}.get(id(self.sizes), TINY_SCALE)
        scale = Scale(
            self.work, sizes, measured, stats, self.history_stream, make_remote, self.cli, self.log
        )
        self.results["scale"] = scale.run()

    def close(self) -> None:
        if self.original:
            self.original.close()


# The original's own API, read from its source: make_backend(None, 'file://<clone>')
# writes into a working-tree clone (one `git add` per file, commit, push), and
# PulseOxDashboard.compute_summary() reads each spec's file from that working tree.
# Serves one JSON job per line on stdin, answering with the seconds it took.
ORIGINAL_DRIVER = r"""
import json, sys, time
from datetime import timedelta

def batch(clone, n, rep):
    from pulseox.generic_backend import make_backend
    from pulseox.specs import create_metadata
    files = [(f"jobs/team-{i % 10}/job-{i:05d}.md",
              f"job {i} ran, round {rep}\n\n" + create_metadata("x.md", "GOOD", f"r{rep}"))
             for i in range(n)]
    t = time.perf_counter()
    make_backend(None, "file://" + clone).write_tree(files, f"round {rep}")
    return time.perf_counter() - t

def post(clone, i):
    from pulseox.client import PulseOxClient
    t = time.perf_counter()
    PulseOxClient().post(None, "file://" + clone, f"jobs/job-{i % 7}.md", f"run {i}\n",
                         "GOOD", f"run {i}")
    return time.perf_counter() - t

def dashboard(clone, n):
    from pulseox.dashboard import PulseOxDashboard
    from pulseox.specs import PulseOxSpec
    repo = "file://" + clone
    specs = [PulseOxSpec(owner=None, repo=repo, path=f"jobs/team-{i % 10}/job-{i:05d}.md",
                         schedule=timedelta(days=1)) for i in range(n)]
    PulseOxDashboard(owner=None, repo=repo, spec_list=specs).compute_summary()

if len(sys.argv) > 1:
    job = json.loads(sys.argv[1])
    dashboard(job["clone"], job["n"])
else:
    for line in sys.stdin:
        job = json.loads(line)
        kind = job.pop("kind")
        print(batch(**job) if kind == "batch" else post(**job), flush=True)
"""


def post_ten(remote: Path, specs: int, folders: int, rep: int) -> None:
    """10 posts straight into a bare remote, each its own commit with the trailers
    a post writes (fast-import: no clone needed)."""
    chunks = []
    when = int(time.time())
    for i in range(10):
        k = (i * 7919 + rep) % specs  # spread over the folders
        page = Page(f"jobs/team-{k % folders}/job-{k:05d}.md", f"later {rep} {i}\n", "GOOD")
        text = render(page.path, page.content, page.report, datetime.fromtimestamp(when, UTC))
        parent = "refs/heads/main^0" if i == 0 else None
        chunks.append(
            fast_import_commit(
                "refs/heads/main", {page.path: text.encode()}, commit_message([page]), when, parent
            )
        )
    git("fast-import", "--quiet", cwd=remote, input=b"".join(chunks))


def install_original() -> Path | None:
    """The original pulseox in its own venv (made once); None when it cannot be had."""
    python = ORIGINAL_VENV / "bin" / "python"
    stamp = ORIGINAL_VENV / ".installed"
    if stamp.exists() and stamp.read_text() == ORIGINAL:
        return python
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(ORIGINAL_VENV)], check=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                ORIGINAL,
                ORIGINAL_EXTRA,
            ],
            check=True,
        )
    except (subprocess.CalledProcessError, OSError) as err:
        print(f"warning: could not install {ORIGINAL}: {err}", file=sys.stderr)
        return None
    stamp.write_text(ORIGINAL)
    return python


def spec_file(owner: str, repo: str, paths: list[str]) -> str:
    """pulseox.toml watching `paths` daily, in the format pulseox_git.specs reads."""
    tables = "".join(
        f'\n[[spec]]\nowner = "{owner}"\nrepo = "{repo}"\npath = "{path}"\nschedule = "1d"\n'
        for path in paths
    )
    return '[dashboard]\nmode = "md"\ntz = "UTC"\n' + tables


def dashboard_ready() -> bool:
    return importlib.util.find_spec("pulseox_git.dashboard") is not None


# -- reporting -----------------------------------------------------------------


def secs(entry: dict | None) -> str:
    if not entry:
        return "-"
    median, spread = entry["median"], entry["spread"]
    if median < 1:
        return f"{median * 1000:.1f} ms ±{spread * 1000:.1f}"
    return f"{median:.2f} s ±{spread:.2f}"


def ratio(a: dict | None, b: dict | None) -> float | None:
    return a["median"] / b["median"] if a and b and b["median"] else None


def times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def largest(section: dict) -> tuple[str, dict] | tuple[None, None]:
    keys = [k for k in section if isinstance(section[k], dict) and "pulseox_git" in section[k]]
    return (keys[-1], section[keys[-1]]) if keys else (None, None)


def targets(results: dict) -> list[tuple[str, str, bool | None]]:
    """(what, measured, met) for each target of issue 7 that this run measured; met
    is None where the run (--quick, --tiny) is smaller than the size the target is for."""
    found: list[tuple[str, str, bool | None]] = []

    def at(ok: bool, right_size: bool) -> bool | None:
        return ok if right_size else None

    batch = results.get("batch", {})
    if batch:
        n = max(batch, key=int)
        r = ratio(batch[n]["pulseox_git"], batch[n]["raw_git"])
        found.append((f"(a) batch of {n} at most 2x raw git", times(r), at(r <= 2, n == "1000")))
        small = sorted(batch, key=int)
        if len(small) > 1:
            lo, hi = small[-2], small[-1]
            growth = ratio(batch[hi]["pulseox_git"], batch[lo]["pulseox_git"])
            found.append(
                (
                    f"(a) growth {lo} -> {hi} pages no worse than linear "
                    f"(<= {int(hi) // int(lo)}x)",
                    times(growth),
                    growth <= int(hi) / int(lo),
                )
            )
        orig = batch[n].get("original")
        if orig:
            speed = ratio(orig, batch[n]["pulseox_git"])
            found.append(
                (
                    f"(d) batch of {n} at least 10x faster than the original",
                    times(speed),
                    at(speed >= 10, n == "1000"),
                )
            )
    posts = results.get("posts")
    if posts:
        r = ratio(posts["pulseox_git"], posts["raw_git"])
        found.append(("(b) single post at most 1.5x raw git", times(r), r <= 1.5))
        if posts.get("original"):
            speed = ratio(posts["original"], posts["pulseox_git"])
            found.append(("(d) single post faster than the original", times(speed), speed > 1))
    _, dash = largest(results.get("dashboard", {}))
    if dash:
        what = f"{dash['specs']} specs x {dash['commits']} commits"
        full = (dash["specs"], dash["commits"]) == (1000, 10000)
        r = ratio(dash["pulseox_git"], dash["raw_git"])
        found.append(
            (f"(c) cold refresh of {what} at most 2x raw clone + log", times(r), at(r <= 2, full))
        )
        mb = dash["peak_rss_bytes"] / 2**20
        found.append(
            (f"(c) refresh of {what} under 200 MB peak", f"{mb:.0f} MB", at(mb < 200, full))
        )
        if dash.get("incremental"):
            r = ratio(dash["incremental"], dash["pulseox_git"])
            found.append(
                (
                    "(c) refresh after 10 more posts a small fraction of cold (<= 1/3)",
                    times(r),
                    at(r <= 1 / 3, full),
                )
            )
        fewer = [
            d
            for d in results["dashboard"].values()
            if isinstance(d, dict)
            and d.get("specs") == dash["specs"]
            and d["commits"] < dash["commits"]
        ]
        if fewer:
            grow = ratio(dash["pulseox_git"], fewer[0]["pulseox_git"])
            limit = dash["commits"] / fewer[0]["commits"]
            found.append(
                (
                    f"(c) linear in H: {fewer[0]['commits']} -> {dash['commits']} commits "
                    f"(<= {limit:g}x)",
                    times(grow),
                    grow <= limit,
                )
            )
    found += scale_targets(results.get("scale", {}), times)
    found += burst_targets(results.get("burst", []))
    found += uncontended_targets(results.get("uncontended"))
    start = results.get("startup")
    if start:
        r = ratio(start["pulseox-git --version"], start["python3 -c 'import typer'"])
        found.append(("(e) --version within 1.5x of python3 -c 'import typer'", times(r), r <= 1.5))
    found += large_targets(results.get("large"))
    through = results.get("passthrough")
    if through:
        r = ratio(through["pulseox_git"], through["cat_pipe"])
        found.append(
            (
                f"(f) run passes {through['mb']} MB of output on at most 2x a `| cat` pipe",
                times(r),
                at(r <= 2, through["mb"] >= 200),
            )
        )
    return found


def burst_targets(runs: list[dict]) -> list[tuple[str, str, bool | None]]:
    """(g) at the largest burst measured at the largest RTT: against issue 12's targets."""
    if not runs:
        return []
    rtt = max(r["rtt_ms"] for r in runs)
    n = max(r["writers"] for r in runs)
    by = {r["repos"]: r for r in runs if r["rtt_ms"] == rtt and r["writers"] == n}
    shared, own = by.get("shared"), by.get("own")
    if shared is None:
        return []
    full = n >= 256 and rtt >= 50
    what = f"(g) {n} writers at RTT {rtt:g} ms"
    pushes = shared["pushes_per_writer"]["max"]
    per = shared["http_requests"] / n
    found = [
        (f"{what}: none lost", str(shared["lost"]), shared["lost"] == 0),
        (f"{what}: at most 3 pushes per writer", f"max {pushes:g}", pushes <= 3),
        (f"{what}: at most 8 HTTP requests per writer", f"{per:.1f}", at_size(per <= 8, full)),
    ]
    if own:
        r = shared["latency_s"]["p90"] / own["latency_s"]["p90"]
        found.append(
            (f"{what}: latency p90 within 2x of the floor", times(r), at_size(r <= 2, full))
        )
        one = own["http_requests"] / n
        found.append((f"{what}: 2 HTTP requests per post in the floor", f"{one:.1f}", one == 2))
    done = shared.get("settled")
    if done:
        ok = done["landed"] == n and done["inbox_refs_left"] == 0 and done["exit"] == 0
        found.append(
            (
                f"{what}: after one refresh every page on the branch, no inbox ref",
                f"{done['landed']} of {n}, {done['inbox_refs_left']} refs",
                ok,
            )
        )
    return found


def uncontended_targets(found: dict | None) -> list[tuple[str, str, bool | None]]:
    """(g) a warm uncontended post over smart HTTP, against the tree before queued posts."""
    if not found:
        return []
    ours, then = found["pulseox_git"], found["before_queued"]
    r = ratio(ours, then)
    return [
        (
            "(g) an uncontended warm post: 2 HTTP requests, as before queued posts",
            f"median {ours['requests']:g}, max {ours['requests_max']:g} "
            f"(before: {then['requests']:g}, {then['requests_max']:g})",
            ours["requests_max"] == 2 == then["requests"],
        ),
        (
            f"(g) an uncontended warm post within 1.1x of the tree before queued posts "
            f"({BEFORE_QUEUED})",
            f"{secs(ours)} vs {secs(then)}: {times(r)}",
            r is not None and r <= 1.1,
        ),
    ]


def at_size(ok: bool, right_size: bool) -> bool | None:
    return ok if right_size else None


def burst_table(runs: list[dict]) -> str:
    """The (g) table, as scripts/burst.py prints it."""
    return burst.markdown(runs)


def rows(results: dict) -> list[list[str]]:
    """The comparison table: one row per measure."""
    table = [
        [
            "measure",
            "pulseox-git",
            "raw git",
            "ratio",
            "original pulseox 0.1.5",
            "original / pulseox-git",
        ]
    ]
    for n, entry in results.get("batch", {}).items():
        orig = entry.get("original")
        table.append(
            [
                f"(a) batch of {n} pages, one commit",
                secs(entry["pulseox_git"]),
                secs(entry["raw_git"]),
                times(ratio(entry["pulseox_git"], entry["raw_git"])),
                secs(orig),
                times(ratio(orig, entry["pulseox_git"])),
            ]
        )
    posts = results.get("posts")
    if posts:
        orig = posts.get("original")
        table.append(
            [
                f"(b) single post, warm cache (median of {posts['pulseox_git']['n']})",
                secs(posts["pulseox_git"]),
                secs(posts["raw_git"]),
                times(ratio(posts["pulseox_git"], posts["raw_git"])),
                secs(orig),
                times(ratio(orig, posts["pulseox_git"])),
            ]
        )
    for entry in results.get("dashboard", {}).values():
        if not isinstance(entry, dict):
            continue
        orig = entry.get("original")
        table.append(
            [
                f"(c) cold refresh, {entry['specs']} specs x {entry['commits']} commits "
                f"(peak {entry['peak_rss_bytes'] / 2**20:.0f} MB)",
                secs(entry["pulseox_git"]),
                secs(entry["raw_git"]),
                times(ratio(entry["pulseox_git"], entry["raw_git"])),
                secs(orig) + (" (no fetch, no history)" if orig else ""),
                times(ratio(orig, entry["pulseox_git"])),
            ]
        )
        if entry.get("incremental"):
            table.append(
                [
                    f"(c) refresh after 10 more posts, {entry['specs']} specs x "
                    f"{entry['commits']} commits",
                    secs(entry["incremental"]),
                    "-",
                    f"{times(ratio(entry['incremental'], entry['pulseox_git']))} of cold",
                    "-",
                    "-",
                ]
            )
    table += scale_rows(results.get("scale", {}), secs, times)
    start = results.get("startup", {})
    base = start.get("python3 -c 'import typer'")
    for name in ("pulseox-git --version", "pulseox-git post --help"):
        if name in start:
            table.append(
                [
                    f"(e) `{name}`",
                    secs(start[name]),
                    "-",
                    f"{times(ratio(start[name], base))} of import typer",
                    "-",
                    "-",
                ]
            )
    for name in ("python3 -c pass", "python3 -c 'import typer'"):
        if name in start:
            table.append([f"(e) `{name}`", "-", secs(start[name]), "-", "-", "-"])
    table += large_rows(results.get("large"))
    through = results.get("passthrough")
    if through:
        table.append(
            [
                f"(f) `run` passing {through['mb']} MB of output on (raw: `| cat`)",
                secs(through["pulseox_git"]),
                secs(through["cat_pipe"]),
                times(ratio(through["pulseox_git"], through["cat_pipe"])),
                "-",
                "-",
            ]
        )
    return table


def large_targets(large: dict | None) -> list[tuple[str, str, bool | None]]:
    """The targets of issue 13 for a large dashboard; None below 10,000 x 100,000."""
    if not large:
        return []
    full = (large["specs"], large["commits"]) >= (10000, 100000)
    what = f"{large['specs']} specs x {large['commits']} commits"
    cold = ratio(large["pulseox_git"], large["raw_git"])
    wrote = ratio(large["write"], large["raw_git"])
    after = ratio(large["after_posts"], large["write"])
    mb = max(large["peak_rss_bytes"].values()) / 2**20
    page = large["bytes"]["index.html"] / 1e6

    def met(ok: bool) -> bool | None:
        return ok if full else None

    return [
        (f"(l) cold refresh of {what} within 2x of raw clone + log", times(cold), met(cold <= 2)),
        (f"(l) cold writing refresh of {what} within 2x of raw", times(wrote), met(wrote <= 2)),
        (f"(l) peak memory of {what} under 250 MB", f"{mb:.0f} MB", met(mb < 250)),
        ("(l) refresh after 10 posts at most 1/4 of cold", times(after), met(after <= 0.25)),
        (f"(l) index.html of {what} under 2 MB", f"{page:.2f} MB", met(page < 2)),
    ]


def large_rows(large: dict | None) -> list[list[str]]:
    """The (l) rows of the comparison table."""
    if not large:
        return []
    what = f"{large['specs']} specs x {large['commits']} commits"
    peak = {k: f"peak {v / 2**20:.0f} MB" for k, v in large["peak_rss_bytes"].items()}
    raw = large["raw_git"]
    sizes = large["bytes"]
    return [
        [
            f"(l) cold refresh --no-write, {what} ({peak['no_write']}; raw: bare clone + log)",
            secs(large["pulseox_git"]),
            secs(raw),
            times(ratio(large["pulseox_git"], raw)),
            "-",
            "-",
        ],
        [
            f"(l) cold refresh, writing, {what} ({peak['write']})",
            secs(large["write"]),
            secs(raw),
            times(ratio(large["write"], raw)),
            "-",
            "-",
        ],
        [
            f"(l) writing refresh after 10 posts, warm cache ({peak['after']})",
            secs(large["after_posts"]),
            "-",
            f"{times(ratio(large['after_posts'], large['write']))} of cold",
            "-",
            "-",
        ],
        [
            f"(l) index.html {sizes['index.html'] / 1e6:.2f} MB, "
            f"summary.md {sizes['summary.md'] / 1e6:.2f} MB",
            "-",
            "-",
            "-",
            "-",
            "-",
        ],
    ]


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "git": git("--version").strip(),
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def markdown_row(cells: list[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def markdown(results: dict) -> str:
    table = rows(results)
    lines = ["| " + " | ".join(table[0]) + " |", "|" + " --- |" * len(table[0])]
    lines += [markdown_row(row) for row in table[1:]]
    m = results["machine"]
    if results.get("burst"):
        lines += [
            "",
            "(g) bursts of writers (`scripts/burst.py`):",
            "",
            burst_table(results["burst"]),
        ]
    lines += ["", "| target | measured | met |", "| --- | --- | --- |"]
    verdict = {True: "yes", False: "NO", None: "- (smaller run)"}
    lines += [markdown_row([what, value, verdict[ok]]) for what, value, ok in targets(results)]
    lines += [
        "",
        f"Measured on {m['nproc']} cores of {m['cpu']}, {m['git']}, "
        f"Python {m['python']}, "
        f"with `{results['command']}` ({results['when']}). Times are the median "
        "± the median absolute deviation.",
    ]
    return "\n".join(lines)


def text_table(results: dict) -> str:
    table = rows(results)
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    out = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in table
    ]
    out.insert(1, "  ".join("-" * w for w in widths))
    out.append("")
    if results.get("burst"):
        out += [burst_table(results["burst"]), ""]
    mark = {True: "ok  ", False: "MISS", None: "info"}
    out += [f"{mark[ok]} {what}: {value}" for what, value, ok in targets(results)]
    if any(ok is None for _w, _v, ok in targets(results)):
        out.append("(info: this run is smaller than the sizes those targets are for)")
    return "\n".join(out)


# -- main ----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run, under a minute")
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="a few seconds; proves the script "
        "works (used by the tests), measures nothing worth reading",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--markdown", action="store_true", help="print the README table")
    parser.add_argument(
        "--no-original", action="store_true", help=f"skip (d): do not install or run {ORIGINAL}"
    )
    parser.add_argument(
        "--only",
        default="abcefghl",
        help="the parts to run, e.g. 'ae' ((d), "
        "the original, runs beside (a), (b) and (c) unless --no-original)",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--from-json",
        metavar="PATH",
        help="measure nothing: show the figures of an earlier --json run (e.g. with --markdown)",
    )
    args = parser.parse_args(argv)
    if args.from_json:
        results = json.loads(Path(args.from_json).read_text())
        print(markdown(results) if args.markdown else text_table(results))
        return 1 if args.check and any(t["met"] is False for t in results["targets"]) else 0
    sizes = TINY if args.tiny else QUICK if args.quick else FULL
    os.environ.update(IDENTITY)
    # Measure the package as installed: pip compiles a wheel's bytecode when it
    # installs it. With PYTHONDONTWRITEBYTECODE=1 (set on some CI machines) every
    # measured process would compile the package again, about 90 ms here.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(ROOT / "pulseox_git", quiet=1)
    for name in ("PULSEOX_TOKEN", "GITHUB_TOKEN", "PULSEOX_GIT_REMOTE", "PULSEOX_GIT_CACHE"):
        os.environ.pop(name, None)
    original = None
    if not args.no_original and not args.tiny:
        original = install_original()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pulseox-bench-") as tmp:
        work = Path(tmp)
        home = work / "home"
        home.mkdir()
        os.environ.update(
            {
                "HOME": str(home),
                "GIT_CONFIG_NOSYSTEM": "1",
                "XDG_CONFIG_HOME": str(home / ".config"),
            }
        )
        bench = Bench(work, sizes, original, log=lambda line: print(line, file=sys.stderr))
        parts = {
            "a": bench.batch,
            "b": bench.posts,
            "c": bench.dashboard,
            "e": bench.startup,
            "f": bench.passthrough,
            "g": bench.burst,
            "h": bench.scale,
            "l": bench.large,
        }
        try:
            for key in "abcefghl":
                if key in args.only:
                    parts[key]()
        finally:
            bench.close()
        results = bench.results
    given = argv if argv is not None else sys.argv[1:]
    kept = [
        a
        for i, a in enumerate(given)  # how it measured, not where it wrote
        if a not in ("--json", "--markdown", "--check") and (i == 0 or given[i - 1] != "--json")
    ]
    shown = " ".join(["scripts/bench", *kept])
    results.update(
        command=shown.strip(),
        machine=machine(),
        when=datetime.now(UTC).strftime("%Y-%m-%d"),
        seconds=round(time.perf_counter() - started, 1),
    )
    results["targets"] = [{"target": w, "measured": v, "met": ok} for w, v, ok in targets(results)]
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results) if args.markdown else text_table(results))
    return 1 if args.check and any(t["met"] is False for t in results["targets"]) else 0


if __name__ == "__main__":
    raise SystemExit(main())
