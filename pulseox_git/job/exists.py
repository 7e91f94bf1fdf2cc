"""The original's `check exists`: a page that is GOOD when every local path exists."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pulseox_git.errors import BadInputError
from pulseox_git.page import Page

DEFAULT_TEMPLATE = "# File Check\n{bad_list}\n{good_list}\n"


def exists_page(
    paths: Sequence[Path], page_path: str, template: str = DEFAULT_TEMPLATE, note: str = ""
) -> Page:
    """The page to post: BAD (listing what is missing) unless every path exists.
    `template` may use {bad_list}, {good_list}, {bad} and {good}."""
    good = [str(p) for p in paths if p.exists()]
    bad = [str(p) for p in paths if not p.exists()]
    bad_list = "\n## Missing Paths\n" + "".join(f"  - {p}\n" for p in bad) if bad else ""
    good_list = "## Present Paths\n" + "".join(f"  - {p}\n" for p in good) if good else ""
    try:
        text = template.format(bad_list=bad_list, good_list=good_list, bad=bad, good=good)
    except (KeyError, IndexError, ValueError) as err:
        raise BadInputError(f"bad --content template {template!r}: {err}") from None
    default = (
        f"{len(bad)} of {len(paths)} paths missing" if bad else f"all {len(paths)} paths exist"
    )
    return Page(page_path, text, "BAD" if bad else "GOOD", note or default)
