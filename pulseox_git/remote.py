"""Which remote and branch: checked names, before any git runs.

Owner, repo and branch come from users and spec files; checking them here
gives one clear error instead of a git message, and keeps credentials
written into a remote URL out of the cache's config.
"""

from __future__ import annotations

import logging
import os
import re

from pulseox_git import auth
from pulseox_git.errors import BadInputError

log = logging.getLogger("pulseox_git")

DEFAULT_URL_TEMPLATE = "https://github.com/{owner}/{repo}.git"
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_BRANCH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")


def remote_url(owner: str, repo: str, remote: str | None = None) -> str:
    """The git URL for owner/repo: `remote` (a URL, or a template with {owner} and
    {repo}), else the template in $PULSEOX_GIT_REMOTE, else GitHub."""
    for label, value in (("owner", owner), ("repo", repo)):
        if not value or not _NAME.match(value) or (value.endswith(".git") and label == "owner"):
            raise BadInputError(f"bad {label} {value!r}: use letters, digits, '.', '_' or '-'")
    template = remote if remote is not None else (
        os.environ.get("PULSEOX_GIT_REMOTE") or DEFAULT_URL_TEMPLATE)
    if not isinstance(template, str):
        raise BadInputError(f"bad remote {template!r}: give a git URL or a template")
    if remote is None and ("{owner}" not in template or "{repo}" not in template):
        raise BadInputError(f"PULSEOX_GIT_REMOTE {template!r} needs {{owner}} and {{repo}}")
    unknown = set(re.findall(r"\{[^{}]*\}", template)) - {"{owner}", "{repo}"}
    if unknown:
        raise BadInputError(f"remote template {template!r} has the unknown placeholder "
                            f"{sorted(unknown)[0]}: use {{owner}} and {{repo}}")
    url = template.replace("{owner}", owner).replace("{repo}", repo)
    clean, stripped = auth.clean_remote_url(url)
    if stripped:
        log.warning("warning: dropped the credentials written into the remote URL %s; "
                    "pass a token with --token or PULSEOX_TOKEN instead", clean)
    if "://" not in clean and not re.match(r"^[^/]*:", clean):  # a local path, not host:path
        clean = os.path.abspath(clean)  # relative to where we were started, not to the cache
    return clean


def check_branch(branch: str) -> str:
    """A name `git check-ref-format --branch` accepts (without running git)."""
    parts = branch.split("/") if isinstance(branch, str) else [""]
    if (not isinstance(branch, str) or not _BRANCH.match(branch) or ".." in branch
            or branch == "HEAD" or branch.endswith("/")
            or any(not p or p.startswith(".") or p.endswith((".lock", ".")) for p in parts)):
        raise BadInputError(f"bad branch name {branch!r}")
    return branch
