"""The files one refresh commits, rendered from its summary: the summary text,
the status page, the badges and the state file, which lists them (`outputs`)
with the digest of what they show (`heartbeat`).
"""

from __future__ import annotations

from collections.abc import Sequence

from pulseox_git.dashboard import heartbeat
from pulseox_git.dashboard.badges import badges
from pulseox_git.dashboard.outputs import record
from pulseox_git.dashboard.rules import Summary
from pulseox_git.dashboard.specs import Settings
from pulseox_git.dashboard.state import STATE_FILE, state_bytes
from pulseox_git.dashboard.statuspage import render_index, rows_for
from pulseox_git.dashboard.summary import Links


def render_files(
    summary: Summary,
    links: Links,
    settings: Settings,
    ran: str,
    config: bytes,
    extra: Sequence[str],
) -> tuple[dict[str, bytes], str]:
    """Every file one refresh commits besides the spec file (add more here), and the
    digest of what they show (`heartbeat`), which the state file records with the
    list of them, so the next refresh knows what to delete and whether to commit."""
    rows = rows_for(summary.entries, links)
    title = f"{links.own[0]}/{links.own[1]}"
    page = render_index(rows, title, summary.generated, settings.zone, ran)
    files = {
        settings.summary_path: summary.text.encode(),
        STATE_FILE: b"",  # below, once it can name every other file
        "index.html": page.encode(),
    }
    files.update((path, svg.encode()) for path, svg in badges(rows).items())
    digest = heartbeat.digest(summary.entries, files, config, links.web_link, *extra)
    files[STATE_FILE] = state_bytes(summary.entries, summary.generated, record(files, digest))
    return files, digest
