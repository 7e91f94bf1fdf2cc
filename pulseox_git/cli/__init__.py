"""The `pulseox-git` command: a thin layer over the library.

`main` answers `--version` before anything else is imported (jobs call it to
check the install, and it must stay fast); every other command builds the
typer app in `cli.commands`, whose commands live in `post` (the job's side),
`dashboard` and `spec`.
"""

from __future__ import annotations

import sys
from typing import Any

from pulseox_git import __version__


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code instead of raising (testable)."""
    if (sys.argv[1:] if argv is None else argv) == ["--version"]:
        print(f"pulseox-git {__version__}")
        return 0  # before typer and the library load: that alone takes ~100 ms
    from pulseox_git.cli.commands import run  # the whole library, for every other command

    return run(argv)


def __getattr__(name: str) -> Any:
    if name == "app":  # the typer app, for tests and documentation tools
        from pulseox_git.cli.commands import app

        return app
    raise AttributeError(f"module 'pulseox_git.cli' has no attribute {name!r}")
