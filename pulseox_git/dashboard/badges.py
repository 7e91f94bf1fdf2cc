"""Shields-style SVG badges: one for the whole dashboard, one per spec. Pure; no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from pulseox_git.dashboard.rules import STATUSES
from pulseox_git.dashboard.statuspage import SYMBOL, Row, badge_path, counts, overall

COLOUR = {"OK": "#2e7d32", "ERROR": "#c62828", "MISSING": "#9e7700", "PAUSED": "#6b6b6b"}


def _text_width(text: str) -> int:
    """About how wide Verdana 11px draws `text`; shields uses the same guess."""
    wide = sum(c.isupper() or c in "mwMW%" for c in text)
    return int(len(text) * 6.2 + wide * 1.4) + 10


def badge_svg(label: str, value: str, colour: str) -> str:
    """A flat shields-style badge: grey label, coloured value, readable text."""
    left, right = _text_width(label), _text_width(value)
    total = left + right
    label_e, value_e = escape(label), escape(value)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{label_e}: {value_e}"><title>{label_e}: {value_e}</title>'
        f'<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
        f'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{colour}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,'
        f'sans-serif" font-size="11">'
        f'<text x="{left / 2}" y="15" fill="#010101" fill-opacity=".3">{label_e}</text>'
        f'<text x="{left / 2}" y="14">{label_e}</text>'
        f'<text x="{left + right / 2}" y="15" fill="#010101" fill-opacity=".3">{value_e}</text>'
        f'<text x="{left + right / 2}" y="14">{value_e}</text></g></svg>\n'
    )


def badges(rows: Sequence[Row], label: str = "status") -> dict[str, str]:
    """{path: svg}: one per spec (`badge_path`) and `badges/status.svg` for them all.

    A page's badge is left out when another page's badge lives in a folder of
    the same name (pages `x` and `x.svg/y` both want `badges/x.svg`); the
    overall badge and the status page still show it.
    """
    files = {}
    for row in rows:
        value = f"{SYMBOL[row.status]} {row.status}"
        path = row.badge or badge_path("", "", row.name, ("", ""))
        files[path] = badge_svg(row.name, value, COLOUR[row.status])
    folders = {path[:i] for path in files for i, c in enumerate(path) if c == "/"}
    files = {path: svg for path, svg in files.items() if path not in folders}
    worst = overall(rows)
    tally = counts(rows)
    if worst == "OK" and tally["PAUSED"]:
        value = f"{SYMBOL['OK']} {tally['OK']} OK {SYMBOL['PAUSED']} {tally['PAUSED']} PAUSED"
    elif worst == "OK":
        value = f"{SYMBOL['OK']} all {tally['OK']} OK" if rows else "no specs"
    else:
        value = " ".join(f"{SYMBOL[s]} {tally[s]} {s}" for s in STATUSES[:2] if tally[s])
    files["badges/status.svg"] = badge_svg(label, value, COLOUR[worst])
    return files
