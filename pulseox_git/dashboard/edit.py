"""Editing the spec file in the dashboard repository: each edit is one commit.

Specs (`spec add|remove`) and pauses (`spec pause|resume`) go the same way.
The edit runs on each push attempt's tip, so two people adding specs at once
both land. A pure addition appends its [[spec]] or [[pause]] table and keeps
everything written by hand; any other edit rewrites the file in the standard
layout.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import datetime

import tomli_w

from pulseox_git.client import PulseOxClient
from pulseox_git.dashboard.pauses import Pause, check_glob, matches, parse_until
from pulseox_git.dashboard.rules import format_when
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

    def edit_both(specs: list[PulseOxSpec], settings: Settings) -> tuple[str, Settings]:
        return edit(specs), settings

    return edit_config(client, owner, repo, edit_both, dry_run)


def edit_config(
    client: PulseOxClient,
    owner: str,
    repo: str,
    edit: Callable[[list[PulseOxSpec], Settings], tuple[str, Settings]],
    dry_run: bool = False,
) -> Published:
    """`edit_specs` for edits of the settings too: `edit(specs, settings)` changes
    the list in place and returns the commit subject and the new settings."""

    def make_change(store: Store, tip: str | None) -> Change:
        files = store.read_files(tip, [SPEC_FILE])
        text = files[SPEC_FILE].decode("utf-8", "replace") if SPEC_FILE in files else None
        specs, settings = (
            loads(text, f"{SPEC_FILE} in {owner}/{repo}") if text else ([], Settings())
        )
        before = list(specs)
        subject, new = edit(specs, settings)
        when = client.clock().replace(microsecond=0)
        new_text = appended_text(text, (before, settings), (specs, new)) or dumps(specs, new)
        return Change({SPEC_FILE: new_text.encode()}, subject + "\n", when)

    return client.store(owner, repo).publish(make_change, dry_run=dry_run)


def add_spec(
    client: PulseOxClient,
    owner: str,
    repo: str,
    spec: PulseOxSpec,
    dry_run: bool = False,
    given: Collection[str] | None = None,
) -> Published:
    """Watch `spec`'s page from the dashboard in owner/repo, or change how it is
    watched. A changed spec keeps its place; with `given` (the fields the user set,
    as `spec add` passes them) only those change and the others are kept."""

    def add(specs: list[PulseOxSpec]) -> str:
        old = next((s for s in specs if s.key == spec.key), None)
        new = spec
        if old is None:
            specs.append(new)
        else:
            if given is not None:
                new = replace(old, **{name: getattr(spec, name) for name in given})
            specs[:] = [new if s.key == new.key else s for s in specs]
        verb = "watch" if old is None else "change"
        return f"pulseox: {verb} {new.describe()}"

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
        needs = [s.key for s in specs if key in s.depends_on]
        if needs:
            raise BadInputError(
                f"cannot stop watching {key!r}: {needs[0]!r} depends on it; "
                "drop it from that spec's depends_on first"
            )
        specs[:] = [s for s in specs if s.key != key]
        return f"pulseox: stop watching {key}"

    return edit_specs(client, owner, repo, remove, dry_run)


def appended_text(
    text: str | None,
    before: tuple[list[PulseOxSpec], Settings],
    after: tuple[list[PulseOxSpec], Settings],
) -> str | None:
    """The spec file with the new [[spec]] and [[pause]] tables added at its end,
    keeping everything written by hand (comments, order, spacing); None when the
    edit is not a pure addition or the result would not read back as `after`."""
    (old_specs, old), (specs, new) = before, after
    if not text or specs[: len(old_specs)] != old_specs:
        return None
    if new.pauses[: len(old.pauses)] != old.pauses or replace(new, pauses=old.pauses) != old:
        return None
    added = [("spec", s.to_table()) for s in specs[len(old_specs) :]]
    added += [("pause", p.to_table()) for p in new.pauses[len(old.pauses) :]]
    if not added:
        return None
    result = text if text.endswith("\n") else text + "\n"
    result += "".join(f"\n[[{name}]]\n{tomli_w.dumps(table)}" for name, table in added)
    try:
        return result if loads(result) == after else None
    except BadInputError:
        return None


def who() -> str:
    """Who pauses: git's author name when set, else the login name."""
    import getpass
    import os

    try:
        return os.environ.get("GIT_AUTHOR_NAME") or getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def pause_specs(
    client: PulseOxClient,
    owner: str,
    repo: str,
    glob: str,
    until: str | None = None,
    reason: str = "",
    by: str | None = None,
    dry_run: bool = False,
) -> Published:
    """Hold the specs `glob` matches as PAUSED (until `until`, or `resume`), as one
    commit whose message says who and why. A pause of the same glob is replaced;
    expired ones are dropped on the way."""
    now = client.clock().replace(microsecond=0)
    pause = Pause(check_glob(glob), parse_until(until, now), reason, by or who(), now)

    def edit(specs: list[PulseOxSpec], settings: Settings) -> tuple[str, Settings]:
        if not any(matches(glob, s.path, s.key) for s in specs):
            raise BadInputError(f"bad path glob {glob!r}: no spec of {owner}/{repo} matches it")
        kept = tuple(p for p in settings.pauses if p.active(now) and p.path != glob)
        return f"pulseox: pause {pause.describe(_utc)}", replace(settings, pauses=(*kept, pause))

    return edit_config(client, owner, repo, edit, dry_run)


def resume_specs(
    client: PulseOxClient,
    owner: str,
    repo: str,
    glob: str,
    by: str | None = None,
    dry_run: bool = False,
) -> Published:
    """End the pauses of `glob` (or that hold a page `glob` names), as one commit."""
    check_glob(glob)
    name = by or who()

    def edit(specs: list[PulseOxSpec], settings: Settings) -> tuple[str, Settings]:
        keys = [s.key for s in specs if s.path == glob or s.key == glob]
        ended = [
            p
            for p in settings.pauses
            if p.path == glob or any(matches(p.path, glob, key) for key in keys)
        ]
        if not ended:
            raise BadInputError(
                f"bad path glob {glob!r}: nothing paused in {owner}/{repo} matches it"
            )
        kept = tuple(p for p in settings.pauses if p not in ended)
        subject = f"pulseox: resume {', '.join(p.path for p in ended)} by {name}"
        return subject, replace(settings, pauses=kept)

    return edit_config(client, owner, repo, edit, dry_run)


def _utc(moment: datetime) -> str:
    return format_when(moment, "UTC")
