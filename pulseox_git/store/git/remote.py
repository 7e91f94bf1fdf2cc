"""Which git URL a repository lives at: a template filled with checked names.

The URL is checked before any git runs: transports that run commands are
refused, and credentials written into it are dropped, so they never reach
the cache's config.
"""

from __future__ import annotations

import logging
import os
import re

from pulseox_git import settings
from pulseox_git.errors import BadInputError
from pulseox_git.store import auth
from pulseox_git.store.git.command import Git
from pulseox_git.store.names import check_name

log = logging.getLogger("pulseox_git")

DEFAULT_URL_TEMPLATE = "https://github.com/{owner}/{repo}.git"


def remote_url(owner: str, repo: str, remote: str | None = None) -> str:
    """The git URL for owner/repo: `remote` (a URL, or a template with {owner} and
    {repo}), else the template in $PULSEOX_GIT_REMOTE, else GitHub."""
    check_name("owner", owner)
    check_name("repo", repo)
    template = (
        remote if remote is not None else (settings.remote_template() or DEFAULT_URL_TEMPLATE)
    )
    if not isinstance(template, str):
        raise BadInputError(f"bad remote {template!r}: give a git URL or a template")
    if remote is None and ("{owner}" not in template or "{repo}" not in template):
        raise BadInputError(f"PULSEOX_GIT_REMOTE {template!r} needs {{owner}} and {{repo}}")
    unknown = set(re.findall(r"\{[^{}]*\}", template)) - {"{owner}", "{repo}"}
    if unknown:
        raise BadInputError(
            f"remote template {template!r} has the unknown placeholder "
            f"{sorted(unknown)[0]}: use {{owner}} and {{repo}}"
        )
    url = template.replace("{owner}", owner).replace("{repo}", repo)
    clean, stripped = auth.clean_remote_url(url)
    if stripped:
        log.warning(
            "warning: dropped the credentials written into the remote URL %s; "
            "pass a token with --token or PULSEOX_TOKEN instead",
            clean,
        )
    if "://" not in clean and not re.match(r"^[^/]*:", clean):  # a local path, not host:path
        clean = os.path.abspath(clean)  # relative to where we were started, not to the cache
    return clean


def say_branch_is_missing(git: Git, url: str, branch: str) -> None:
    """An empty remote is normal; a missing branch beside others is likely a typo."""
    heads = git("ls-remote", "--heads", "origin", check=False, remote=True)
    others = [
        line.split("refs/heads/", 1)[-1]
        for line in heads.stdout.decode("utf-8", "replace").splitlines()
    ]
    if others:
        log.warning(
            "warning: %s has no branch %r (it has %s); the first post creates it: check --branch",
            url,
            branch,
            ", ".join(others[:5]),
        )
    else:
        log.info("%s is empty: the first post creates branch %r", url, branch)
