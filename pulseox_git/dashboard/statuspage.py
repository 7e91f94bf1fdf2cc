"""A static status page (`index.html`). Pure; no I/O.

One self-contained HTML file: inline CSS and SVG, no JavaScript, no external
assets, so it works from disk, from GitHub Pages and on a phone. Every status
is shown by a word and a symbol as well as a colour, for colour-blind readers;
in the report strips a GOOD is a tall bar, a BAD a short bar with a cross, and
a post without a readable report a hollow box. Under it, for pages posted by
wrapped runs, a second strip shows each run's duration as a bar's height
(dashed lines at the spec's limits, a cross on a run outside them, a hollow
dashed bar for a run still going).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from html import escape

from pulseox_git.dashboard.rules import STATUSES, Entry
from pulseox_git.dashboard.runs import Outcomes
from pulseox_git.dashboard.summary import Links
from pulseox_git.dashboard.trends import Trend, note, short_time
from pulseox_git.durations import brief
from pulseox_git.store.base import Report

SYMBOL = {"OK": "✔", "ERROR": "✖", "MISSING": "?", "PAUSED": "‖"}
STRIP = 40  # reports shown in a row's strip


@dataclass(frozen=True)
class Row:
    """One spec as the page shows it."""

    name: str  # the page path (with owner/repo when it lives elsewhere)
    link: str  # relative for pages in this repository, absolute otherwise
    status: str  # OK, ERROR or MISSING
    note: str = ""
    updated: datetime | None = None
    trend: Trend | None = None
    reports: Sequence[Report] = ()  # newest first, start markers left out
    badge: str = ""  # its badge's path (`badge_path`); default: the name, as a page here
    durations: Sequence[timedelta | None] = ()  # each report's run duration, if known
    limits: tuple[timedelta | None, timedelta | None] = (None, None)  # min, max duration
    running_since: datetime | None = None


def counts(rows: Sequence[Row]) -> dict[str, int]:
    return {status: sum(r.status == status for r in rows) for status in STATUSES}


def overall(rows: Sequence[Row]) -> str:
    """The worst status present: ERROR, then MISSING, else OK (PAUSED is known)."""
    return next((s for s in STATUSES[:2] if any(r.status == s for r in rows)), "OK")


def strip_svg(reports: Sequence[Report], zone: tzinfo = UTC, size: int = STRIP) -> str:
    """The newest `size` reports as bars, oldest on the left; each has a tooltip."""
    if not reports:
        return ""
    shown = list(reversed(reports[:size]))
    width = max(len(shown), 1) * 6
    bars = []
    for i, r in enumerate(shown):
        x = i * 6
        tip = escape(
            f"{short_time(r.time, zone)} {r.report or r.problem or 'no report'}"
            + (f": {r.note}" if r.note else "")
        )
        if r.report == "GOOD":
            shape = f'<rect class="g" x="{x}" y="2" width="4" height="16"/>'
        elif r.report == "BAD":
            shape = (
                f'<rect class="b" x="{x}" y="10" width="4" height="8"/>'
                f'<path class="b" d="M{x} 1l4 4M{x + 4} 1l-4 4"/>'
            )
        else:
            shape = f'<rect class="n" x="{x + 0.5}" y="6.5" width="3" height="11"/>'
        bars.append(f"<g><title>{tip}</title>{shape}</g>")
    label = (
        f"{_last(len(shown))}: "
        f"{sum(r.report == 'GOOD' for r in shown)} GOOD, "
        f"{sum(r.report == 'BAD' for r in shown)} BAD"
    )
    return _strip(label, width, bars)


def _last(count: int) -> str:
    return "last report" if count == 1 else f"last {count} reports"


def _strip(label: str, width: int, shapes: Sequence[str]) -> str:
    """One strip: an inline SVG image, labelled for screen readers and on hover."""
    return (
        f'<svg class="strip" role="img" aria-label="{label}" width="{width}" height="20" '
        f'viewBox="0 0 {width} 20" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{label}</title>{''.join(shapes)}</svg>"
    )


def durations_svg(row: Row, zone: tzinfo = UTC, size: int = STRIP) -> str:
    """The run durations of the newest `size` reports (aligned with `strip_svg`) as
    bar heights, with the spec's limits as dashed lines; "" when none is known."""
    lengths = list(row.durations[:size])
    known = [d.total_seconds() for d in lengths if d is not None]
    if not known and row.running_since is None:
        return ""
    low, high = row.limits
    top = max([*known, high.total_seconds() if high else 0.0]) or 1.0
    count = len(lengths) + (row.running_since is not None)
    width = max(count, 1) * 6
    bars = []
    pairs = list(zip(row.reports[: len(lengths)], lengths, strict=True))
    for i, (report, took) in enumerate(reversed(pairs)):
        if took is None:
            continue
        x = i * 6
        height = max(1.0, round(16 * took.total_seconds() / top, 1))
        outside = ""
        if high is not None and took > high:
            outside = f", over the limit of {brief(high)}"
        elif low is not None and took < low:
            outside = f", under the minimum of {brief(low)}"
        tip = escape(f"{short_time(report.time, zone)} ran {brief(took)}{outside}")
        shape = (
            f'<rect class="{"o" if outside else "d"}" x="{x}" y="{18 - height}" width="4" '
            f'height="{height}"/>'
        )
        if outside:
            shape += f'<path class="o" d="M{x} 1l4 4M{x + 4} 1l-4 4"/>'
        bars.append(f"<g><title>{tip}</title>{shape}</g>")
    if row.running_since is not None:
        x = (count - 1) * 6
        tip = escape(f"running since {short_time(row.running_since, zone)}")
        shape = f'<rect class="r" x="{x + 0.5}" y="2.5" width="3" height="15"/>'
        bars.append(f"<g><title>{tip}</title>{shape}</g>")
    for limit in (low, high):
        if limit is not None:
            y = round(18 - 16 * limit.total_seconds() / top, 1)
            bars.append(f'<line class="lim" x1="0" x2="{width}" y1="{y}" y2="{y}"/>')
    label = f"run durations of the {_last(len(lengths))}"
    if known:
        label += f": longest {brief(timedelta(seconds=max(known)))}"
    return _strip(label, width, bars)


CSS = """
:root{color-scheme:light dark;--fg:#1b1b1b;--bg:#fff;--mute:#5f5f5f;--line:#ddd}
@media (prefers-color-scheme:dark){:root{--fg:#eee;--bg:#161616;--mute:#aaa;--line:#333}}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:72rem;padding:1rem;color:var(--fg);background:var(--bg)}
h1{font-size:1.4rem;margin:.2rem 0}.meta{color:var(--mute);margin:0 0 1rem}
table{border-collapse:collapse;width:100%}th{text-align:left;font-weight:600}
th,td{padding:.45rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
.st,.when{white-space:nowrap}.st{font-weight:700}.OK{color:#2e7d32}.ERROR{color:#c62828}
.MISSING{color:#8d6e00}.PAUSED{color:#5f5f5f}@media (prefers-color-scheme:dark){.OK{color:#81c784}
.ERROR{color:#ef9a9a}.MISSING{color:#ffd54f}}
.trend{color:var(--mute);font-size:.9em}.strip{display:block;margin-top:.3rem}
.g{fill:#2e7d32}.b{fill:#c62828;stroke:#c62828;stroke-width:1.2}
.n{fill:none;stroke:#888;stroke-width:1}a{color:inherit}.d{fill:#3f51b5}
.o{fill:#c62828;stroke:#c62828;stroke-width:1.2}.r{fill:none;stroke:#888;stroke-dasharray:2 1}
.lim{stroke:#888;stroke-width:.8;stroke-dasharray:2 2}
@media (max-width:40rem){thead{display:none}tr{display:block;padding:.5rem 0;
border-bottom:1px solid var(--line)}td{display:block;border:0;padding:.15rem 0}}
""".strip()


def row_html(
    row: Row, zone: tzinfo = UTC, strip: Callable[[Sequence[Report], tzinfo], str] = strip_svg
) -> str:
    """One spec's table row: status, page link, note, updated, trend and strips."""
    trend = escape(note(row.trend, zone)) if row.trend else ""
    updated = escape(short_time(row.updated, zone)) if row.updated else "never"
    return (
        f'<tr class="row" data-status="{row.status}">'
        f'<td class="st {row.status}">{SYMBOL[row.status]} {row.status}</td>'
        f'<td><a href="{escape(row.link)}">{escape(row.name)}</a></td>'
        f'<td>{escape(row.note)}</td><td class="when">{updated}</td>'
        f'<td class="trend">{trend}{strip(row.reports, zone)}'
        f"{durations_svg(row, zone)}</td></tr>"
    )


TABLE_HEAD = """<table><thead><tr><th>Status</th><th>Page</th><th>Note</th><th>Updated</th>\
<th>Trend</th>
</tr></thead><tbody>
"""


def render_index(
    rows: Sequence[Row], title: str, generated: datetime, zone: tzinfo = UTC, ran: str = ""
) -> str:
    """The whole page, rows in the order given (the dashboard's section order). A
    large dashboard's OK rows are folded by folder (dashboard/foldpage.py); `ran`
    says how this refresh kept to its schedule (watcher.py)."""
    from pulseox_git.dashboard import foldpage, groups  # foldpage builds on Row

    tally = counts(rows)
    summary = (
        " · ".join(
            f'<span class="st {s}">{SYMBOL[s]} {n} {s}</span>' for s, n in tally.items() if n
        )
        or "no specs"
    )
    fold = groups.folded(len(rows))
    shown = [row for row in rows if row.status != "OK"] if fold else rows
    strip = foldpage.compact_strip if fold else strip_svg
    body = "\n".join(row_html(row, zone, strip) for row in shown)
    table = f"{TABLE_HEAD}{body}\n</tbody></table>" if shown or not fold else ""
    css = f"{CSS}\n{foldpage.CSS}" if fold else CSS
    rest = foldpage.ok_groups(rows) if fold else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{escape(title)}: {overall(rows)}</title>
<style>{css}</style></head>
<body><h1>{escape(title)}</h1>
<p class="meta">{summary} · updated \
{escape(short_time(generated, zone))}{f" · {escape(ran)}" if ran else ""}</p>
{table}{rest}</body></html>
"""


def badge_path(owner: str, repo: str, path: str, own: tuple[str, str]) -> str:
    """Where a spec's badge goes: the page path mirrored under `badges/`, Unicode
    kept. `jobs/backup.md` -> `badges/jobs/backup.md.svg`; a page of another
    repository -> `badges/@owner/repo/path.svg`. No two specs share a path: owner
    names never start with `@`, so a page here whose path does gets one more `@`
    in front (`@x.md` -> `badges/@@x.md.svg`), as does a page named `status`
    (`badges/@status.svg`), which would be the overall badge."""
    if (owner, repo) != own:
        return f"badges/@{owner}/{repo}/{path}.svg"
    if path.startswith("@") or path == "status":
        path = "@" + path
    return f"badges/{path}.svg"


# -- from a dashboard refresh ------------------------------------------------


def rows_for(entries: Sequence[Entry], links: Links) -> list[Row]:
    """The dashboard's entries as rows, ERROR first, then MISSING, then OK."""
    rows = []
    for entry in sorted(entries, key=lambda e: STATUSES.index(e.status)):
        name, link = links.target(entry.spec)
        spec = entry.spec
        outcomes = Outcomes.of(entry.history)
        rows.append(
            Row(
                name,
                link,
                entry.status,
                entry.note,
                entry.updated,
                entry.trend,
                outcomes.reports,
                badge_path(spec.owner, spec.repo, spec.path, links.own),
                outcomes.durations,
                (spec.min_duration, spec.max_duration),
                entry.running_since,
            )
        )
    return rows
