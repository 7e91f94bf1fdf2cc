"""Commits written by `git fast-import`: its input, and a post in ONE process.

A commit is built as fast-import input (no index, no work tree). For a small
post, fast-import also answers `ls <path>` inside the commit with the parent's
entry, in ls-tree's format, before any file is written. So a post asks about
its paths, lets `store.base.confine` judge the answers, and only then sends the
files: one git process where `ls-tree` + `fast-import` took two. Large changes
(whose queries could fill the pipes) and any failure here take the two-process
path.
"""

from __future__ import annotations

import os
import select
import subprocess
import time
from collections.abc import Callable

from pulseox_git import settings
from pulseox_git.store.base import Change
from pulseox_git.store.git.command import Git

SMALL = 16384  # bytes of ls queries, and of answers, that always fit in a pipe
PENDING_REF = "refs/pulseox/pending"
Entries = dict[str, tuple[str, str]]  # path -> (mode, object id)


def quote(path: str) -> bytes:
    """A fast-import path, C-quoted so any character is safe."""
    escaped = path.replace("\\", "\\\\").replace('"', '\\"')
    return b'"' + escaped.encode("utf-8", "surrogateescape") + b'"'


def commit_input(parent: str | None, change: Change) -> tuple[bytes, bytes]:
    """fast-import's input for `change`: the commit's header, then its deletions
    and files. Callers `confine` the deleted paths first: a `D` of a folder would
    delete the whole folder."""
    stamp = f"{int(change.when.timestamp())} +0000"
    name, email = settings.committer()
    message = change.message.encode()
    chunks = [
        f"commit {PENDING_REF}\nmark :1\n".encode(),
        f"author {name} <{email}> {stamp}\ncommitter {name} <{email}> {stamp}\n".encode(),
        f"data {len(message)}\n".encode(),
        message,
        b"\n",
    ]
    if parent:
        chunks.append(f"from {parent}\n".encode())
    body = [b"D " + quote(path) + b"\n" for path in change.deleted]  # a missing path: no-op
    for path, data in change.files.items():
        body += [b"M 100644 inline ", quote(path), f"\ndata {len(data)}\n".encode(), data, b"\n"]
    body.append(b"\nget-mark :1\ndone\n")
    return b"".join(chunks), b"".join(body)


def fits(prefixes: list[str]) -> bool:
    """Whether the answers surely fit in a pipe (a C-quoted byte takes up to 4)."""
    return sum(4 * len(p.encode("utf-8", "surrogateescape")) + 80 for p in prefixes) <= SMALL


def ls_then_commit(
    git: Git, head: bytes, body: bytes, prefixes: list[str], check: Callable[[Entries], set[str]]
) -> tuple[str, set[str]] | None:
    """Send `head` (the commit header) and one `ls` per prefix; give the answers to
    `check`; if it accepts, send `body` (files, get-mark, done). Returns the new
    commit and what `check` returned, or None when the caller should take the
    two-process path (a git failure, a timeout). `check`'s BadInputError passes on.
    """
    cmd = ["git", "--literal-pathspecs", "fast-import", "--quiet", "--force", "--done"]
    deadline = time.monotonic() + git.timeout
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=git.path,
            env=git.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
        )
    except OSError:
        return None
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    result: set[str] | None = None
    try:
        proc.stdin.write(head + b"".join(b"ls " + quote(p) + b"\n" for p in prefixes))
        answers = _read_lines(proc.stdout.fileno(), len(prefixes), deadline)
        if answers is not None:
            result = check(_entries(prefixes, answers))  # a BadInputError passes on
        out, _err = proc.communicate(
            body if result is not None else b"done\n", timeout=max(deadline - time.monotonic(), 0.1)
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    finally:
        if proc.poll() is None:  # refused, failed or timed out: end it, commit nothing
            proc.kill()
            proc.wait()
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            pipe.close()
    if result is None or proc.returncode != 0 or not out.split():
        return None
    return out.decode().split()[-1], result


def _read_lines(fd: int, count: int, deadline: float) -> list[bytes] | None:
    """Exactly `count` answer lines, read unbuffered (nothing else is pending)."""
    data = b""
    seen = 0
    while seen < count:
        if not select.select([fd], [], [], max(deadline - time.monotonic(), 0))[0]:
            return None  # timed out
        chunk = os.read(fd, 65536)
        if not chunk:
            return None
        data += chunk
        seen += chunk.count(b"\n")
    return data.split(b"\n")[:count]


def _entries(prefixes: list[str], answers: list[bytes]) -> Entries:
    """`ls` answers, `<mode> <type> <oid>\\t<path>` or `missing <path>`, by prefix."""
    found: Entries = {}
    for prefix, line in zip(prefixes, answers, strict=True):
        if line.startswith(b"missing "):
            continue
        mode, _type, oid = line.split(b"\t", 1)[0].decode().split()
        found[prefix] = (mode, oid)
    return found
