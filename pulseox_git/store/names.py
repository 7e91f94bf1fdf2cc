"""Owner, repository and branch names, checked before any git runs or request is sent.

They come from users and spec files; checking them here gives one clear error
instead of a git or HTTP message, and keeps a name from being read as an
option, a path outside the cache, or a URL of its own.
"""

from __future__ import annotations

import re

from pulseox_git.errors import BadInputError

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_BRANCH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")


def check_name(label: str, value: object) -> str:
    """An owner or repository name as GitHub allows them (an owner never ends in .git)."""
    if (
        not isinstance(value, str)
        or not _NAME.match(value)
        or (label == "owner" and value.endswith(".git"))
    ):
        raise BadInputError(f"bad {label} {value!r}: use letters, digits, '.', '_' or '-'")
    return value


def check_branch(branch: object) -> str:
    """A name `git check-ref-format --branch` accepts (without running git)."""
    parts = branch.split("/") if isinstance(branch, str) else [""]
    if (
        not isinstance(branch, str)
        or not _BRANCH.match(branch)
        or ".." in branch
        or branch == "HEAD"
        or branch.endswith("/")
        or any(not p or p.startswith(".") or p.endswith((".lock", ".")) for p in parts)
    ):
        raise BadInputError(f"bad branch name {branch!r}")
    return branch
