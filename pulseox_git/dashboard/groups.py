"""Large dashboards: OK specs folded into one group per folder. Pure; no I/O.

Past `FOLD_OVER` specs, one row per spec makes the status page too big for a
phone (17 MB at 10,000 specs) and the summary too long to read. Every
problem (any status but OK) is still shown in full; OK specs are counted per
folder: in the summary one line per folder, on the status page one
`<details>` per folder (dashboard/foldpage.py). Small dashboards show one
row per spec, as before.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from typing import TypeVar

FOLD_OVER = 200  # specs; up to this many, every spec has its own row and line
T = TypeVar("T")


def folded(count: int) -> bool:
    """Whether a dashboard of `count` specs folds its OK specs by folder."""
    return count > FOLD_OVER


def folder(name: str) -> str:
    """The folder a page is counted in: `jobs/team-1/` (or `./` at the top)."""
    head = posixpath.dirname(name)
    return f"{head}/" if head else "./"


def by_folder(items: Sequence[T], name: Callable[[T], str]) -> dict[str, list[T]]:
    """Items grouped by their name's folder, folders in name order, items in theirs."""
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(folder(name(item)), []).append(item)
    return dict(sorted(groups.items()))


def ok_lines(names: Sequence[str]) -> list[str]:
    """The summary's OK section of a large dashboard: one line per folder."""
    groups = by_folder(names, lambda name: name)
    return [f"- {name} {len(members)} OK" for name, members in groups.items()]


def ok_changes(
    changed: Sequence[T], status: Callable[[T], str], name: Callable[[T], str]
) -> tuple[list[T], list[str]]:
    """A large dashboard's Changes: those to a problem in full, those to OK counted
    per folder (`- jobs/team-1/ 98 --> OK`; a first refresh of 10,000 specs would
    otherwise list 10,000 lines)."""
    problems = [c for c in changed if status(c) != "OK"]
    groups = by_folder([c for c in changed if status(c) == "OK"], name)
    return problems, [f"- {folder} {len(members)} --> OK" for folder, members in groups.items()]
