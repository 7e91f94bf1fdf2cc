"""Options and helpers shared by the CLI commands."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

_state = {"verbose": False}

Owner = Annotated[str, typer.Option("--owner", help="Repository owner (user or org).")]
Repo = Annotated[str, typer.Option("--repo", help="Repository name.")]
Remote = Annotated[str | None, typer.Option(
    "--remote", help="Git URL (or template with {owner} and {repo}); default "
    "$PULSEOX_GIT_REMOTE, else https://github.com/{owner}/{repo}.git.")]
Branch = Annotated[str, typer.Option("--branch", help="Branch to read and write.")]
Token = Annotated[str | None, typer.Option(
    "--token", help="Access token; prefer $PULSEOX_TOKEN or $GITHUB_TOKEN, which stay "
    "off the command line.", show_default=False)]
CacheDir = Annotated[Path | None, typer.Option(
    "--cache-dir", help="Where cached clones live; default $PULSEOX_GIT_CACHE, else "
    "$XDG_CACHE_HOME/pulseox-git, else ~/.cache/pulseox-git.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Do everything but push; print the "
                                      "commit instead.")]
Message = Annotated[str | None, typer.Option("--message", help="Commit subject.")]
Verbose = Annotated[bool, typer.Option("-v", "--verbose", help="Show details of failures.")]
Report = Annotated[str, typer.Option("--report", help="GOOD or BAD.")]
Note = Annotated[str, typer.Option("--note", help="One line shown on the dashboard.")]
MaxBytes = Annotated[int, typer.Option("--max-page-bytes", help="Largest page accepted.")]
Transport = Annotated[str, typer.Option(
    "--transport", help="auto: git, falling back to the GitHub REST API only when git is "
    "missing or cannot reach the remote; git or api to force one.")]
ApiUrl = Annotated[str | None, typer.Option(
    "--api-url", help="GitHub REST API base for the api transport; default $PULSEOX_API_URL, "
    "else https://api.github.com.")]


def setup_logging(verbose: bool) -> None:
    """Progress and warnings on stderr, with secrets scrubbed."""
    from pulseox_git.auth import redact

    class Redacting(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return redact(super().format(record))

    class CurrentStderr(logging.StreamHandler):
        """Writes to sys.stderr as it is when a record comes: main() may run inside a
        process (tests) that swaps and closes streams between calls."""

        @property  # type: ignore[override]
        def stream(self):
            return sys.stderr

        @stream.setter
        def stream(self, _value) -> None:
            pass

    verbose = _state["verbose"] = verbose or _state["verbose"]  # `-v` before the command
    handler = CurrentStderr()
    handler.setFormatter(Redacting("%(message)s"))
    logger = logging.getLogger("pulseox_git")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False


def make_client(token, remote, branch, cache_dir, dry_run, max_page_bytes=None,
                transport="auto", api_url=None):
    from pulseox_git.client import PulseOxClient
    from pulseox_git.page import DEFAULT_MAX_PAGE_BYTES

    return PulseOxClient(token, remote=remote, branch=branch, cache_dir=cache_dir,
                         dry_run=dry_run, max_page_bytes=(
                             DEFAULT_MAX_PAGE_BYTES if max_page_bytes is None else max_page_bytes),
                         transport=transport, api_url=api_url)


def read_content(content: str | None, content_file: Path | None) -> str | bytes:
    from pulseox_git.errors import BadInputError

    if (content is None) == (content_file is None):
        raise BadInputError("give exactly one of --content and --content-file")
    if content == "-":
        if sys.stdin.isatty():  # never wait for a person to type: this runs in CI
            raise BadInputError("--content - reads stdin, but stdin is a terminal")
        return sys.stdin.buffer.read()
    if content_file is not None:
        try:
            return content_file.read_bytes()
        except OSError as err:
            raise BadInputError(f"cannot read --content-file {str(content_file)!r}: "
                                f"{err.strerror}") from None
    return content  # type: ignore[return-value]


def print_dry_run(done, url: str) -> None:
    """The commit a dry run would have pushed: subject, then each file added or changed."""
    typer.echo(f"dry run: would push {done.sha[:12]} to {url}")
    typer.echo(f"  {done.message.splitlines()[0]}")
    for path in done.created:
        typer.echo(f"  A {path}")
    for path in done.changed:
        typer.echo(f"  M {path}")


def print_result(result) -> None:
    """One line per post; a dry run shows the commit it would have pushed."""
    if result.dry_run:
        print_dry_run(result, result.url)
        return
    pages = len(result.created) + len(result.changed)
    what = "page" if pages == 1 else "pages"
    typer.echo(f"posted {pages} {what} as {result.sha[:12]} to {result.url} "
               f"({len(result.created)} created, {len(result.changed)} updated)")




def report_error(err: Exception) -> int:
    """`error: <message>` on one line; a traceback only with -v."""
    from pulseox_git.auth import redact
    from pulseox_git.errors import EXIT_FAILURE, PulseOxError

    if isinstance(err, PulseOxError):
        typer.echo(f"error: {redact(str(err))}", err=True)
        code = err.exit_code
    else:
        typer.echo(f"error: unexpected {type(err).__name__}: {redact(str(err))} "
                   "(run with -v for details; please report this)", err=True)
        code = EXIT_FAILURE
    if _state["verbose"]:
        import traceback

        typer.echo(redact("".join(traceback.format_exception(err))), err=True)
    return code
