#!/usr/bin/env python3
"""Hundreds of jobs posting at the same second: N writer processes, one page each.

For each (N writers, RTT) this makes a fresh bare repository behind a smart-HTTP
server that checks a token (fixtures/git_http.py), puts a LatencyProxy in front of
it (each way RTT/2; RTT 0 is the same proxy with no delay, so both cases take the
same path), and starts N OS processes, each with a cache of its own, each running
the real CLI: `pulseox-git -v post --owner o --repo r --path jobs/wNNN.md ...` with
PULSEOX_TOKEN in its environment. Every process is fully started (interpreter and
imports done) before all are released at once. Then the same N writers run again,
each posting to a repository of its own behind the same server and proxy: nothing
to race, the floor a design's latency is compared against.

Caches are warm by default: before the burst each writer's cache is filled by one
`pulseox-git history` run against the seeded repository, as on a runner that posts
every day. `--cold` starts every cache empty, as on a fresh CI runner.

What is measured, and how:
- lost: writers that exited non-zero. landed: pages on the branch afterwards with
  the writer's content (read with the git CLI); in_inbox: pages found only in refs
  under refs/pulseox/inbox (none exist yet; counted if a future design makes them).
- pushes per writer: how many `git push` runs the writer made, counted at the server
  as GET info/refs?service=git-receive-pack requests (one per push, sent or not:
  a push whose lease is already stale sends no pack). Requests are attributed by
  User-Agent: each writer's git gets GIT_HTTP_USER_AGENT=pulseox-burst/wNNN, which
  pulseox-git passes through. Cross-check from the CLI's own log: the highest N in
  "the remote moved while we pushed; retrying (attempt N)" (no line means 1 or 2
  attempts: a failed first, optimistic attempt is retried without a log line).
- HTTP requests: every request the server answered; receive-pack POSTs: packs sent.
- latency: from the release to the writer's exit (os.wait4 in the harness); p90 is
  the nearest-rank percentile. wall: release to the last exit.
- CPU seconds from the release to the last exit: the writers and their git
  processes (getrusage of each writer, minus what its start-up took before the
  release), the server's git-http-backend processes (RUSAGE_CHILDREN of this
  process minus the writers), and this process itself (the proxy and the HTTP
  server's threads, RUSAGE_SELF).

    scripts/burst.py --writers 8 32 --rtt-ms 0 50 --json burst.json

Importable: `run_burst(...)` measures one burst, `run_matrix(...)` a grid, and
`markdown(runs)` renders the table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fixtures.git_http import GitHttpServer  # noqa: E402
from fixtures.latency_proxy import LatencyProxy  # noqa: E402
from fixtures.repos import IDENTITY, commit_files, git, make_bare  # noqa: E402

TOKEN = "burst-token-not-a-secret"
OWNER = "o"
AGENT = "pulseox-burst/w{:03d}"
RETRY = re.compile(r"retrying \(attempt (\d+)\)|queued \S+ as \S+ \(attempt (\d+)\)")
STARTUP = re.compile(r"^pulseox-burst: startup cpu ([0-9.]+)$", re.M)

# A writer: start and import everything, say "ready" on one pipe, block reading the
# other until the harness closes it (everyone at once), then run the CLI in-process.
LAUNCHER = r"""
import os, resource, sys
import pulseox_git.cli
for name in ("pulseox_git.cli.commands", "pulseox_git.client"):  # what a command loads
    try:
        __import__(name)
    except ImportError:
        pass
ready, go = int(sys.argv[1]), int(sys.argv[2])
startup = resource.getrusage(resource.RUSAGE_SELF)
os.write(ready, b".")
os.close(ready)
os.read(go, 1)
os.close(go)
code = pulseox_git.cli.main(sys.argv[3:])
print(f"pulseox-burst: startup cpu {startup.ru_utime + startup.ru_stime:.4f}", file=sys.stderr)
sys.exit(code)
"""


class CountingServer(GitHttpServer):
    """GitHttpServer that also notes each request's User-Agent (which names the writer)
    and takes a burst's connections: the fixture listens with a backlog of 5, and a
    full backlog drops SYNs, which costs a client a second to retry."""

    def __init__(self, root: Path, token: str | None) -> None:
        super().__init__(root, token)
        base = self.httpd.RequestHandlerClass
        agents: list[tuple[str, str, str]] = []

        class Handler(base):  # type: ignore[misc, valid-type]
            def _serve(self) -> None:
                agents.append((self.headers.get("User-Agent", ""), self.command, self.path))
                super()._serve()

        self.httpd.RequestHandlerClass = Handler
        self.agents = agents
        self.httpd.socket.listen(1024)

    def reset(self) -> None:
        self.requests.clear()
        self.agents.clear()
        self.httpd.pushes = 0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: a value that was measured, never an interpolation."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def writer_env(cache: Path, writer: int, inbox: bool = True) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PULSEOX_GIT_REMOTE", "GITHUB_TOKEN", "PULSEOX_GIT_CACHE")
    }
    env.update(
        PULSEOX_TOKEN=TOKEN,  # in the environment, never on a command line
        PULSEOX_GIT_CACHE=str(cache),
        GIT_HTTP_USER_AGENT=AGENT.format(writer),
        PYTHONPATH=str(ROOT),
        PULSEOX_INBOX="1" if inbox else "0",  # 0: retry as before queued posts
    )
    return env


def warm_caches(caches: list[Path], repos: list[str], remote: str) -> None:
    """Fill each writer's cache with one `history` run (a fetch, no post), a few at a time."""

    def warm(i: int) -> None:
        cmd = [
            sys.executable,
            "-m",
            "pulseox_git",
            "history",
            "--owner",
            OWNER,
            "--repo",
            repos[i],
            "--path",
            "seed.md",
            "--remote",
            remote,
        ]
        proc = subprocess.run(cmd, env=writer_env(caches[i], i), capture_output=True, text=True)
        if proc.returncode or not any(caches[i].rglob("*")):
            raise RuntimeError(f"could not warm cache {caches[i]}: {proc.stderr.strip()}")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(warm, range(len(caches))))


def start_writers(
    work: Path, repos: list[str], remote: str, caches: list[Path], inbox: bool = True
) -> tuple[list[subprocess.Popen], int]:
    """Start every writer and wait until all are ready: the processes, and the write
    end of the pipe they all block on (closing it releases them)."""
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    procs = []
    for i, repo in enumerate(repos):
        argv = [
            "-v",
            "post",
            "--owner",
            OWNER,
            "--repo",
            repo,
            "--path",
            f"jobs/w{i:03d}.md",
            "--content",
            f"writer {i} posted this\n",
            "--remote",
            remote,
        ]
        out = (work / f"w{i:03d}.out").open("wb")
        err = (work / f"w{i:03d}.err").open("wb")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", LAUNCHER, str(ready_w), str(go_r), *argv],
                env=writer_env(caches[i], i, inbox),
                stdout=out,
                stderr=err,
                pass_fds=(ready_w, go_r),
            )
        )
        out.close()
        err.close()
    os.close(ready_w)
    os.close(go_r)
    ready = 0
    deadline = time.monotonic() + 60 + len(repos)
    while ready < len(repos):
        timeout = deadline - time.monotonic()
        if timeout <= 0 or not select.select([ready_r], [], [], timeout)[0]:
            break
        got = os.read(ready_r, 4096)
        if not got:  # every writer wrote or died
            break
        ready += len(got)
    os.close(ready_r)
    if ready < len(repos):
        os.close(go_w)
        for proc in procs:
            proc.wait()
        dead = next((p for p in procs if p.returncode), procs[0])
        i = procs.index(dead)
        raise RuntimeError(
            f"only {ready} of {len(repos)} writers started; writer {i}: "
            f"{(work / f'w{i:03d}.err').read_text()[-2000:]}"
        )
    return procs, go_w


def wait_all(procs: list[subprocess.Popen]) -> list[tuple[int, float, float]]:
    """(exit code, exit time, CPU incl. its git children) per writer, as each exits."""
    results: list[tuple[int, float, float]] = [(0, 0.0, 0.0)] * len(procs)

    def wait(i: int) -> None:
        _pid, status, usage = os.wait4(procs[i].pid, 0)
        code = os.waitstatus_to_exitcode(status)
        results[i] = (code, time.monotonic(), cpu(usage))
        procs[i].returncode = code  # reaped here: Popen must not wait for it again

    threads = [threading.Thread(target=wait, args=(i,)) for i in range(len(procs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def pages_landed(bare: Path, writers: list[int]) -> tuple[set[int], set[int]]:
    """Writers whose page is on main with their content, and those found only in an
    inbox ref (refs/pulseox/inbox/*; a hook for a design to come)."""
    names = "".join(f"main:jobs/w{i:03d}.md\n" for i in writers)
    out = subprocess.run(
        ["git", "cat-file", "--batch"],
        cwd=bare,
        input=names.encode(),
        capture_output=True,
        check=True,
    ).stdout
    landed = {i for i in writers if f"writer {i} posted this".encode() in out}
    inbox: set[int] = set()
    for ref in git("for-each-ref", "--format=%(refname)", "refs/pulseox/inbox", cwd=bare).split():
        paths = git("ls-tree", "-r", "--name-only", ref, "--", "jobs/", cwd=bare).split()
        inbox |= {i for i in writers if f"jobs/w{i:03d}.md" in paths} - landed
    return landed, inbox


def spec_file(repo: str, pages: list[str]) -> str:
    """pulseox.toml watching every writer's page, so one refresh can fold them all."""
    specs = "".join(
        f'\n[[spec]]\nowner = "{OWNER}"\nrepo = "{repo}"\npath = "{p}"\nschedule = "1d"\n'
        for p in pages
    )
    return '[dashboard]\nmode = "md"\ntz = "UTC"\n' + specs


def refresh_and_count(
    run_dir: Path, bares: dict[str, Path], repos: list[str], remote: str
) -> dict[str, Any]:
    """One `dashboard refresh` of the shared repository, then: pages on the branch,
    inbox refs left, and whether each page's last report is its own post."""
    (name, bare), *_ = bares.items()
    cmd = [sys.executable, "-m", "pulseox_git", "dashboard", "refresh", "--owner", OWNER]
    env = writer_env(run_dir / "caches" / "dashboard", 999)
    start = time.monotonic()
    proc = subprocess.run(
        [*cmd, "--repo", name, "--remote", remote], env=env, capture_output=True, text=True
    )
    seconds = time.monotonic() - start
    landed, inbox = pages_landed(bare, [i for i, r in enumerate(repos) if r == name])
    left = git("for-each-ref", "--format=%(refname)", "refs/pulseox/inbox", cwd=bare).split()
    return {
        "exit": proc.returncode,
        "error": proc.stderr.strip()[-500:] if proc.returncode else None,
        "seconds": round(seconds, 3),
        "landed": len(landed),
        "inbox_refs_left": len(left),
        "only_in_inbox": len(inbox),
    }


def attempts_agree(pushes: int, logged: int | None) -> bool:
    """Whether the server's count of a writer's pushes fits its log: the last logged
    attempt number, or no line at all for 1 or 2 attempts."""
    return pushes == logged if logged else pushes in (1, 2)


def summary(values: list[float], *qs: float) -> dict[str, float]:
    out = {"p50": statistics.median(values)}
    out.update({f"p{round(q * 100)}": percentile(values, q) for q in qs})
    out["max"] = max(values)
    return out


def writer_figures(
    run_dir: Path, exits: list[tuple[int, float, float]], server: CountingServer, release: float
) -> list[dict[str, Any]]:
    """Per writer: exit code, latency, pushes and requests (by User-Agent at the server),
    the last retry its log names, its CPU after the release, and its error line if any."""
    agents = Counter(agent for agent, _m, _p in server.agents)
    pushes = Counter(a for a, m, p in server.agents if m == "GET" and "git-receive-pack" in p)
    packs = Counter(a for a, m, p in server.agents if m == "POST" and "git-receive-pack" in p)
    figures = []
    for i, (code, ended, used) in enumerate(exits):
        err = (run_dir / f"w{i:03d}.err").read_text(errors="replace")
        started = STARTUP.search(err)
        agent = AGENT.format(i)
        logged = max((int(a or b) for a, b in RETRY.findall(err)), default=None)
        out = (run_dir / f"w{i:03d}.out").read_text(errors="replace")
        figures.append(
            {
                "writer": i,
                "exit": code,
                "queued": out.startswith("queued "),
                "latency_s": round(ended - release, 4),
                "pushes": pushes[agent],
                "packs_sent": packs[agent],
                "requests": agents[agent],
                "logged_attempt": logged,
                "log_agrees": code != 0 or attempts_agree(pushes[agent], logged),
                "startup_cpu_s": float(started.group(1)) if started else 0.0,
                "cpu_s": round(used, 4),
                "error": next((ln for ln in err.splitlines() if ln.startswith("error:")), None),
            }
        )
    return figures


def run_burst(
    work: Path,
    server: CountingServer,
    proxy: LatencyProxy,
    writers: int,
    own_repos: bool = False,
    warm: bool = True,
    inbox: bool = True,
    settle: bool = False,
) -> dict[str, Any]:
    """One burst of `writers` posts through `proxy`: to one shared repository, or with
    `own_repos` each to a repository of its own; with `inbox` off, posts never queue
    (PULSEOX_INBOX=0). With `settle`, one `dashboard refresh` follows (a cache of its
    own), and what is on the branch then is counted too. Repositories and caches are new."""
    kind = "own" if own_repos else "shared" if inbox else "shared-noinbox"
    tag = f"{kind}-{writers}-{round(proxy.delay * 2000)}ms"
    run_dir = work / tag
    run_dir.mkdir(parents=True)
    repos = [f"{tag}-w{i:03d}" if own_repos else tag for i in range(writers)]
    bares = {name: make_bare(Path(server.httpd.root) / OWNER / f"{name}.git") for name in repos}
    for bare in bares.values():
        pages = [f"jobs/w{i:03d}.md" for i in range(writers)]
        commit_files(bare, {"seed.md": "seed\n", "pulseox.toml": spec_file(tag, pages)}, "seed")
    caches = [run_dir / "caches" / f"w{i:03d}" for i in range(writers)]
    if warm:
        warm_caches(caches, repos, proxy.template)
    server.reset()
    connections = proxy.connections
    children0 = cpu(resource.getrusage(resource.RUSAGE_CHILDREN))
    procs, go = start_writers(run_dir, repos, proxy.template, caches, inbox)
    self0 = cpu(resource.getrusage(resource.RUSAGE_SELF))
    release = time.monotonic()
    os.close(go)  # the release: every writer's read returns at once
    exits = wait_all(procs)
    harness = cpu(resource.getrusage(resource.RUSAGE_SELF)) - self0
    children = cpu(resource.getrusage(resource.RUSAGE_CHILDREN)) - children0

    landed: set[int] = set()
    inbox: set[int] = set()
    for name, bare in bares.items():
        on_branch, in_inbox = pages_landed(bare, [i for i, r in enumerate(repos) if r == name])
        landed |= on_branch
        inbox |= in_inbox
    per_writer = writer_figures(run_dir, exits, server, release)
    requests, packs = len(server.requests), server.httpd.pushes
    settled = refresh_and_count(run_dir, bares, repos, proxy.template) if settle else None
    writers_cpu = sum(used for _c, _e, used in exits)
    startup = sum(w["startup_cpu_s"] for w in per_writer)
    attributed = sum(w["requests"] for w in per_writer)
    return {
        "writers": writers,
        "rtt_ms": round(proxy.delay * 2000, 3),
        "repos": kind,
        "queued": sum(1 for w in per_writer if w["queued"]),
        "settled": settled,
        "caches": "warm" if warm else "cold",
        "landed": len(landed),
        "in_inbox": len(inbox),
        "lost": sum(1 for w in per_writer if w["exit"] != 0),
        "missing": writers - len(landed | inbox),
        "pushes_per_writer": summary([w["pushes"] for w in per_writer]),
        "latency_s": summary([w["latency_s"] for w in per_writer], 0.9),
        "http_requests": requests,
        "requests_per_writer": summary([w["requests"] for w in per_writer]),
        "requests_per_writer_mean": round(requests / writers, 2),
        "unattributed_requests": requests - attributed,
        "receive_pack_posts": packs,
        "log_disagreements": sum(1 for w in per_writer if not w["log_agrees"]),
        "connections": proxy.connections - connections,
        "wall_s": round(max(ended for _c, ended, _u in exits) - release, 3),
        "cpu_s": {
            "total": round(children - startup + harness, 3),
            "writers": round(writers_cpu - startup, 3),
            "writers_startup": round(startup, 3),
            "server_backends": round(children - writers_cpu, 3),
            "harness": round(harness, 3),
        },
        "per_writer": per_writer,
    }


def run_matrix(
    writers: list[int],
    rtts_ms: list[float],
    warm: bool = True,
    floor: bool = True,
    log: Any = print,
    compare: bool = True,
    settle: bool = True,
) -> list[dict[str, Any]]:
    """Every (N, RTT): the shared-repository burst (then, with `settle`, one dashboard
    refresh), with `compare` the same burst with PULSEOX_INBOX=0, and with `floor` the
    own-repos one. Each (N, RTT) gets a new server (with a token) and proxy, in a
    temporary folder. Writers inherit this process's environment: `main` (or the
    caller) isolates it first."""
    runs = []
    kinds = [(False, True)] + [(False, False)] * compare + [(True, True)] * floor
    with tempfile.TemporaryDirectory(prefix="pulseox-burst-") as tmp:
        work = Path(tmp)
        for n in writers:
            for rtt in rtts_ms:
                root = work / f"server-{n}-{rtt:g}"
                root.mkdir()
                with (
                    CountingServer(root, TOKEN) as server,
                    LatencyProxy(server.port, delay=rtt / 2000) as proxy,
                ):
                    for own, inbox in kinds:
                        kind_shared = inbox and not own
                        run = run_burst(
                            work / "runs",
                            server,
                            proxy,
                            n,
                            own,
                            warm,
                            inbox,
                            settle and kind_shared,
                        )
                        log(
                            f"  {n} writers, RTT {rtt:g} ms, {run['repos']} repos: "
                            f"{run['landed']} landed, {run['queued']} queued, {run['lost']} "
                            f"lost, latency p50 {run['latency_s']['p50']:.2f} s max "
                            f"{run['latency_s']['max']:.2f} s, {run['http_requests']} "
                            f"requests, wall {run['wall_s']:.1f} s"
                        )
                        runs.append(run)
    return runs


def settled(run: dict[str, Any]) -> str:
    """Queued posts, and what one refresh after the burst left: pages on the branch."""
    done = run.get("settled")
    if not done:
        return str(run["queued"])
    if done["exit"]:
        return f"{run['queued']}; refresh failed"
    return (
        f"{run['queued']}; after a refresh {done['landed']} on the branch, "
        f"{done['inbox_refs_left']} inbox refs ({done['seconds']:.1f} s)"
    )


def markdown(runs: list[dict[str, Any]]) -> str:
    head = [
        "writers",
        "RTT",
        "repos",
        "caches",
        "landed",
        "queued",
        "lost",
        "pushes/writer p50/max",
        "latency p50 / p90 / max",
        "HTTP requests (per writer)",
        "wall",
        "CPU s",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for r in runs:
        p, lat = r["pushes_per_writer"], r["latency_s"]
        cells = [
            str(r["writers"]),
            f"{r['rtt_ms']:g} ms",
            r["repos"],
            r["caches"],
            f"{r['landed']}" + (f" (+{r['in_inbox']} inbox)" if r["in_inbox"] else ""),
            settled(r),
            str(r["lost"]),
            f"{p['p50']:g} / {p['max']:g}",
            f"{lat['p50']:.2f} s / {lat['p90']:.2f} s / {lat['max']:.2f} s",
            f"{r['http_requests']} ({r['http_requests'] / r['writers']:.1f})",
            f"{r['wall_s']:.1f} s",
            f"{r['cpu_s']['total']:.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, nargs="+", default=[8, 32], metavar="N")
    parser.add_argument("--rtt-ms", type=float, nargs="+", default=[0, 50], metavar="MS")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="start every writer's cache empty (default: warm, pre-fetched)",
    )
    parser.add_argument(
        "--no-floor",
        action="store_true",
        help="skip the own-repository runs (the no-contention floor)",
    )
    parser.add_argument(
        "--no-compare",
        action="store_true",
        help="skip the runs with queued posts off (PULSEOX_INBOX=0)",
    )
    parser.add_argument(
        "--no-settle", action="store_true", help="skip the dashboard refresh after a burst"
    )
    parser.add_argument("--json", metavar="PATH", help="also write every run as JSON")
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.writers) or any(r < 0 for r in args.rtt_ms):
        parser.error("writers must be 1 or more and RTTs 0 or more")
    for name in ("PULSEOX_TOKEN", "GITHUB_TOKEN", "PULSEOX_GIT_REMOTE", "PULSEOX_GIT_CACHE"):
        os.environ.pop(name, None)
    home = Path(tempfile.mkdtemp(prefix="pulseox-burst-home-"))  # no user git config
    os.environ.update(IDENTITY)
    os.environ.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", XDG_CONFIG_HOME=str(home / "c"))
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # 4 sockets per writer at once
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    started = time.monotonic()
    try:
        runs = run_matrix(
            args.writers,
            args.rtt_ms,
            warm=not args.cold,
            floor=not args.no_floor,
            log=lambda line: print(line, file=sys.stderr),
            compare=not args.no_compare,
            settle=not args.no_settle,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    given = sys.argv[1:] if argv is None else argv
    meta = {
        "command": " ".join(["scripts/burst.py", *given]),
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "git": git("--version").strip(),
        "python": sys.version.split()[0],
        "seconds": round(time.monotonic() - started, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],  # the machine may be shared
    }
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "runs": runs}, indent=2) + "\n")
    print(markdown(runs))
    print(
        f"\n{meta['nproc']} cores, {meta['git']}, Python {meta['python']}; "
        f"`{meta['command']}` took {meta['seconds']} s ({meta['when']}; load average "
        f"{' '.join(map(str, meta['load_average']))} at the end)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
