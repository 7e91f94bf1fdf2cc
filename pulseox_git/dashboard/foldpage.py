"""A large status page's parts: OK specs one `<details>` per folder, compact
strips. Pure; no I/O.

No JavaScript: a folder opens by itself in any browser. Its summary line has
the count, the folder and a strip, one thin bar per page as tall as its share
of GOOD in its last reports, drawn as ONE SVG path so that a folder of
hundreds of pages costs a few bytes each; inside are the pages' links. The
problems' report strips are drawn the same way (one path per kind of bar,
one label for the strip instead of a tooltip per bar): a fifth of the bytes.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from datetime import tzinfo
from html import escape

from pulseox_git.dashboard.groups import by_folder
from pulseox_git.dashboard.statuspage import STRIP, SYMBOL, Row, _last
from pulseox_git.dashboard.trends import short_time
from pulseox_git.store.base import Report

CSS = """
.grp{border-bottom:1px solid var(--line);padding:.35rem 0}.grp summary{cursor:pointer}
.dir{font-weight:600;overflow-wrap:anywhere}.gs{display:block;max-width:100%;height:20px;
margin:.3rem 0 0 1rem}.oks{margin:.3rem 0 .2rem 1rem;overflow-wrap:anywhere}
.oks a{margin-right:.7em;display:inline-block}
""".strip()


def good_share(row: Row) -> float | None:
    """The share of GOOD in the row's last `STRIP` reports; None without reports."""
    shown = row.reports[:STRIP]
    return sum(r.report == "GOOD" for r in shown) / len(shown) if shown else None


def group_strip(rows: Sequence[Row]) -> str:
    """One thin bar per page, as tall as its share of GOOD: one SVG path, so a
    folder of hundreds of pages costs a few bytes each."""
    shares = [(row, good_share(row)) for row in rows]
    known = [(share, row.name) for row, share in shares if share is not None]
    if not known:
        return ""
    width = len(rows) * 3
    bars = "".join(
        f"M{i * 3} {18 - height}h2v{height}h-2z"
        for i, (_row, share) in enumerate(shares)
        if share is not None
        for height in [max(1, round(16 * share))]
    )
    low, name = min(known)
    label = escape(
        f"{len(rows)} {'page' if len(rows) == 1 else 'pages'}, each bar its share of GOOD "
        "in its last reports; "
        f"lowest {low:.0%} ({posixpath.basename(name)})"
    )
    return (
        f'<svg class="gs" role="img" aria-label="{label}" width="{width}" height="20" '
        f'viewBox="0 0 {width} 20" preserveAspectRatio="none" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{label}</title>'
        f'<path class="g" d="{bars}"/></svg>'
    )


def ok_groups(rows: Sequence[Row]) -> str:
    """The OK rows as one `<details>` per folder: count, folder, strip, then links."""
    ok = [row for row in rows if row.status == "OK"]
    if not ok:
        return ""
    groups = by_folder(ok, lambda row: row.name)
    parts = [f'<h2 id="ok">{SYMBOL["OK"]} {len(ok)} OK in {len(groups)} folders</h2>']
    for name, members in groups.items():
        links = " ".join(
            f'<a href="{escape(row.link)}">{escape(posixpath.basename(row.name))}</a>'
            for row in members
        )
        parts.append(
            f'<details class="grp" data-folder="{escape(name)}" data-count="{len(members)}">'
            f'<summary><span class="st OK">{SYMBOL["OK"]} {len(members)} OK</span> '
            f'<span class="dir">{escape(name)}</span>{group_strip(members)}</summary>'
            f'<p class="oks">{links}</p></details>'
        )
    return "\n".join(parts)


def compact_strip(reports: Sequence[Report], zone: tzinfo) -> str:
    """The newest `STRIP` reports as `strip_svg` draws them (oldest on the left; GOOD
    tall, BAD short with a cross, no report hollow), as three paths and one label."""
    if not reports:
        return ""
    shown = list(reversed(reports[:STRIP]))
    shapes = {"g": "", "b": "", "n": ""}
    for i, r in enumerate(shown):
        x = i * 6
        if r.report == "GOOD":
            shapes["g"] += f"M{x} 2h4v16h-4z"
        elif r.report == "BAD":
            shapes["b"] += f"M{x} 10h4v8h-4zM{x} 1l4 4M{x + 4} 1l-4 4"
        else:
            shapes["n"] += f"M{x + 0.5} 6.5h3v11h-3z"
    newest = reports[0]
    label = escape(
        f"{_last(len(shown))}: {sum(r.report == 'GOOD' for r in shown)} GOOD, "
        f"{sum(r.report == 'BAD' for r in shown)} BAD; newest "
        f"{short_time(newest.time, zone)} {newest.report or newest.problem or 'no report'}"
    )
    width = len(shown) * 6
    paths = "".join(f'<path class="{k}" d="{d}"/>' for k, d in shapes.items() if d)
    return (
        f'<svg class="strip" role="img" aria-label="{label}" width="{width}" height="20" '
        f'viewBox="0 0 {width} 20" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{label}</title>{paths}</svg>"
    )
