"""Editing the spec list in the dashboard repository: each edit is one commit.

The edit runs on each push attempt's tip, so two people adding specs at once
both land. A pure addition appends its [[spec]] table and keeps everything
written by hand; any other edit rewrites the file in the standard layout.
"""

from __future__ import annotations

from collections.abc import Callable

import tomli_w

from pulseox_git.client import PulseOxClient
from pulseox_git.dashboard.schedule import describe
from pulseox_git.dashboard.specs import SPEC_FILE, PulseOxSpec, Settings, dumps, loads
from pulseox_git.errors import BadInputError
from pulseox_git.page import check_path
from pulseox_git.store.base import Change, Published, Store


def edit_specs(
    client: PulseOxClient,
    owner: str,
    repo: str,
    edit: Callable[[list[PulseOxSpec]], str],
    dry_run: bool = False,
) -> Published:
    """Change the spec list in owner/repo's `pulseox.toml` as one commit.

    `edit(specs)` changes the list in place and returns the commit subject; it
    runs on each attempt's tip, so concurrent edits are never lost.
    """

    def make_change(store: Store, tip: str | None) -> Change:
        files = store.read_files(tip, [SPEC_FILE])
        text = files[SPEC_FILE].decode("utf-8", "replace") if SPEC_FILE in files else None
        specs, settings = (
            loads(text, f"{SPEC_FILE} in {owner}/{repo}") if text else ([], Settings())
        )
        before = list(specs)
        subject = edit(specs)
        when = client.clock().replace(microsecond=0)
        new_text = appended_text(text, before, specs, settings) or dumps(specs, settings)
        return Change({SPEC_FILE: new_text.encode()}, subject + "\n", when)

    return client.store(owner, repo).publish(make_change, dry_run=dry_run)


def add_spec(
    client: PulseOxClient, owner: str, repo: str, spec: PulseOxSpec, dry_run: bool = False
) -> Published:
    """Watch `spec`'s page from the dashboard in owner/repo, or change its schedule."""

    def add(specs: list[PulseOxSpec]) -> str:
        verb = "change" if any(s.key == spec.key for s in specs) else "watch"
        specs[:] = [s for s in specs if s.key != spec.key] + [spec]
        grace = f" + {describe(spec.grace_period)}" if spec.grace_period else ""
        every = f"every {describe(spec.schedule)}{grace}{spec.describe_limits()}"
        return f"pulseox: {verb} {spec.key} {every}"

    return edit_specs(client, owner, repo, add, dry_run)


def remove_spec(
    client: PulseOxClient,
    owner: str,
    repo: str,
    path: str,
    page_owner: str | None = None,
    page_repo: str | None = None,
    dry_run: bool = False,
) -> Published:
    """Stop watching a page (in owner/repo unless `page_owner`/`page_repo` say)."""
    key = f"{page_owner or owner}/{page_repo or repo}:{check_path(path)}"

    def remove(specs: list[PulseOxSpec]) -> str:
        if not any(s.key == key for s in specs):
            raise BadInputError(f"{owner}/{repo} does not watch {key!r}")
        specs[:] = [s for s in specs if s.key != key]
        return f"pulseox: stop watching {key}"

    return edit_specs(client, owner, repo, remove, dry_run)


def appended_text(
    text: str | None, before: list[PulseOxSpec], after: list[PulseOxSpec], settings: Settings
) -> str | None:
    """The spec file with the new specs' [[spec]] tables added at its end, keeping
    everything written by hand (comments, order, spacing); None when the edit is
    not a pure addition or the result would not read back as exactly `after`."""
    if not text or after[: len(before)] != before or len(after) == len(before):
        return None
    result = text if text.endswith("\n") else text + "\n"
    result += "".join(f"\n[[spec]]\n{tomli_w.dumps(s.to_table())}" for s in after[len(before) :])
    try:
        return result if loads(result) == (after, settings) else None
    except BadInputError:
        return None
