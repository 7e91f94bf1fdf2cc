"""The summary text: Changes, ERROR, MISSING, OK, then a footer like a page's.
A large dashboard's OK section counts its pages per folder (dashboard/groups.py).

Pure: entries in, text out. `Links` names each page as the summary and the
status page show it: relative inside the dashboard's repository, an absolute
web link for pages elsewhere.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from pulseox_git.dashboard.depends import children
from pulseox_git.dashboard.groups import folded, ok_changes, ok_lines
from pulseox_git.dashboard.rules import STATUSES, Entry, changes, counts, format_when
from pulseox_git.dashboard.specs import SPEC_FILE, PulseOxSpec, Settings
from pulseox_git.dashboard.specs import loads as load_specs
from pulseox_git.dashboard.trends import trend_note
from pulseox_git.page import render
from pulseox_git.store.base import Store

WEB_LINK = "https://github.com/{owner}/{repo}/blob/{branch}/{path}"


@dataclass(frozen=True)
class Links:
    """How the dashboard in `own` links to a spec's page."""

    own: tuple[str, str]
    branch: str
    web_link: str = WEB_LINK

    def target(self, spec: PulseOxSpec, base: str = "") -> tuple[str, str]:
        """A page's label and link: relative (to the folder `base`, where the linking
        file is) for pages in this repository, an absolute web link elsewhere."""
        if (spec.owner, spec.repo) == self.own:
            # a spec's path is already normal (checked), so at the top it is its own
            # relative path; relpath costs a second per 10,000 specs
            relative = posixpath.relpath(spec.path, base) if base else spec.path
            return spec.path, quote(relative, safe="/")
        link = self.web_link.format(
            owner=spec.owner, repo=spec.repo, branch=self.branch, path=quote(spec.path, safe="/")
        )
        return f"{spec.owner}/{spec.repo}/{spec.path}", link

    def markup(self, spec: PulseOxSpec, mode: str, base: str = "") -> str:
        """The page's link in the summary's markup (md or org)."""
        label, target = self.target(spec, base)
        return f"[[{target}][{label}]]" if mode == "org" else f"[{label}]({target})"


def render_summary(
    entries: Sequence[Entry],
    now: datetime,
    settings: Settings,
    links: Links,
    extra_text: str | None = None,
) -> str:
    """Changes, ERROR, MISSING, OK (empty ones left out), `extra_text`, then a footer."""
    mark = "*" if settings.mode == "org" else "#"
    tz = settings.tz

    base = posixpath.dirname(settings.summary_path)

    def link(entry: Entry) -> str:
        return links.markup(entry.spec, settings.mode, base)

    sections = []
    fold = folded(len(entries))
    told, counted = list(changes(entries)), list[str]()
    if fold:
        told, counted = ok_changes(told, lambda e: e.status, lambda e: links.target(e.spec)[0])
    changed = [
        f"- {link(e)} {e.previous} --> {e.status} {format_when(e.updated, tz)}" for e in told
    ] + counted
    if changed:
        sections.append((f"{mark} Changes", changed))
    blocked = children(entries)

    def lines_of(e: Entry, indent: str = "") -> list[str]:
        """An entry's line, then those of the failing specs it blocks, indented."""
        parts = (
            f"- {link(e)}",
            e.note,
            trend_note(e.trend, settings.zone),
            format_when(e.updated, tz),
        )
        line = indent + " ".join(part for part in parts if part)
        return [line, *(x for c in blocked.get(e.spec.key, []) for x in lines_of(c, indent + "  "))]

    for name in STATUSES:
        if fold and name == "OK":  # a large dashboard: OK pages counted per folder
            ok = [links.target(e.spec)[0] for e in entries if e.status == name]
            if ok:
                sections.append((f"{mark} OK", ok_lines(ok)))
            continue
        lines = [x for e in entries if e.status == name and not e.blocked_by for x in lines_of(e)]
        if lines:
            sections.append((f"{mark} {name}", lines))
    body = "\n\n".join("\n".join([title, *lines]) for title, lines in sections)
    if not entries:
        owner, repo = links.own
        branch = f" --branch {links.branch}" if links.branch != "main" else ""
        body = (
            "This dashboard watches nothing yet. Watch a page with\n"
            f"`pulseox-git spec add --owner {owner} --repo {repo}{branch} --path PAGE "
            "--schedule 1d`,\nand the next refresh shows it here."
        )
    if extra_text:
        body += "\n\n" + extra_text.strip("\n")
    bad = any(e.status in ("ERROR", "MISSING") for e in entries)  # PAUSED is known
    return render(
        settings.summary_path,
        body,
        "BAD" if bad else "GOOD",
        now.replace(microsecond=0),
        counts(entries),
    )


def read_written(store: Store) -> str | None:
    """The summary the dashboard last wrote to `store`'s repository (where its
    spec file says, else summary.md or .org), without refreshing; None if none."""

    def read(tip: str | None) -> bytes | None:
        config = store.read_files(tip, [SPEC_FILE]).get(SPEC_FILE)
        stored = load_specs(config.decode("utf-8", "replace"))[1] if config else Settings()
        paths = list(dict.fromkeys([stored.summary_path, "summary.md", "summary.org"]))
        files = store.read_files(tip, paths)
        return next((files[p] for p in paths if p in files), None)

    text = store.run(read)
    return text.decode("utf-8", "replace") if text is not None else None
