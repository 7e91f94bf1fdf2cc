"""The `pulseox-git` command: a thin layer over the library.

`main` answers `--version` before anything else is imported (jobs call it to
check the install, and it must stay fast); every other command builds the
typer app in `cli.commands`, whose commands live in `post` (the job's side),
`dashboard` and `spec`. This module imports nothing at its top, so a Ctrl-C
at any moment of start-up ends in one line and exit 130, not a traceback.
"""

from __future__ import annotations

import sys
from typing import Any

INTERRUPTED = 130  # errors.ExitCode.INTERRUPTED, without importing anything yet
NOTHING_PUSHED = "before anything was pushed: the remote is unchanged"  # as Ledger says


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code instead of raising (testable)."""
    try:
        return _main(argv)
    except KeyboardInterrupt:  # before our handler was in place, or after it was removed
        ledger = sys.modules.get("pulseox_git.store.base")
        said = ledger.LEDGER.describe() if ledger else NOTHING_PUSHED
        print(f"interrupted by Ctrl-C {said}", file=sys.stderr)
        return INTERRUPTED


def _main(argv: list[str] | None) -> int:
    from pulseox_git import __version__

    if (sys.argv[1:] if argv is None else argv) == ["--version"]:
        print(f"pulseox-git {__version__}")
        return 0  # before typer and the library load: that alone takes ~100 ms
    import signal
    import threading

    from pulseox_git.errors import Interrupted
    from pulseox_git.store.base import LEDGER

    def interrupt(signum: int, _frame: object) -> None:
        raise Interrupted("Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name)

    # Ctrl-C and SIGTERM raise Interrupted, not KeyboardInterrupt (which typer would
    # turn into a blank line and an Abort), so we can say what landed. Signals reach
    # only the main thread; main() may run in others (and many times: tests).
    caught = (signal.SIGINT, signal.SIGTERM)
    main_thread = threading.current_thread() is threading.main_thread()
    saved = {sig: signal.signal(sig, interrupt) for sig in caught} if main_thread else {}
    LEDGER.landed.clear()
    try:
        from pulseox_git.cli.commands import run  # the library, for every other command

        return run(argv)
    except Interrupted as err:
        print(f"interrupted by {err} {LEDGER.describe()}", file=sys.stderr)
        return INTERRUPTED
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def __getattr__(name: str) -> Any:
    if name == "app":  # the typer app, for tests and documentation tools
        from pulseox_git.cli.commands import app

        return app
    raise AttributeError(f"module 'pulseox_git.cli' has no attribute {name!r}")
