"""Read a batch manifest: a TOML file (or text, from stdin) of [[page]] tables."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from pulseox_git.errors import BadInputError
from pulseox_git.page.checks import check_content
from pulseox_git.page.footer import Page

_KEYS = {"path", "report", "note", "content", "content_file"}


def load_manifest(manifest: str | Path) -> list[Page]:
    """Pages from a manifest; `content_file` is relative to the manifest's folder."""
    manifest = Path(manifest)
    try:
        text = manifest.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise BadInputError(f"cannot read manifest {str(manifest)!r}: {err}") from None
    return parse_manifest(text, manifest)


def parse_manifest(text: str | bytes, manifest: Path) -> list[Page]:
    """Pages from a manifest's text; `manifest` names it in errors, and its folder
    is where `content_file` paths start (`Path("-")` for stdin: the current folder)."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError as err:
        raise BadInputError(f"cannot read manifest {str(manifest)!r}: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise BadInputError(f"manifest {str(manifest)!r} is not valid TOML: {err}") from None
    tables = data.get("page")
    if not isinstance(tables, list) or not tables or set(data) != {"page"}:
        raise BadInputError(
            f"manifest {str(manifest)!r} must hold only [[page]] tables, at least one"
        )
    return [_page(manifest, i, table) for i, table in enumerate(tables, 1)]


def _page(manifest: Path, number: int, table: object) -> Page:
    where = f"manifest {str(manifest)!r}, page {number}"
    if not isinstance(table, dict):
        raise BadInputError(f"{where}: not a table")
    unknown = set(table) - _KEYS
    if unknown:
        raise BadInputError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    for key in _KEYS & set(table):
        if not isinstance(table[key], str):
            raise BadInputError(f"{where}: {key} must be a string, not {table[key]!r}")
    if "path" not in table:
        raise BadInputError(f"{where}: no path")
    if ("content" in table) == ("content_file" in table):
        raise BadInputError(
            f"{where} ({table['path']!r}): give exactly one of content and content_file"
        )
    if "content_file" in table:
        source = manifest.parent / table["content_file"]
        try:
            content = check_content(source.read_bytes(), sys.maxsize)
        except BadInputError as err:
            raise BadInputError(f"{where}: content_file {table['content_file']!r}: {err}") from None
        except OSError as err:
            raise BadInputError(
                f"{where}: cannot read content_file {table['content_file']!r}: {err.strerror}"
            ) from None
    else:
        content = table["content"]
    return Page(table["path"], content, table.get("report", "GOOD"), table.get("note", ""))
