"""`pulseox-git run -- CMD`: wrap a job, post its start and its outcome, exit as it did.

Thin: the checks, the process and the posts are `PulseOxClient.run`'s. The
command's own output is all that reaches stdout; our warnings go to stderr,
and with -v the posts made.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from pulseox_git.cli.common import (
    DryRun,
    MaxBytes,
    Message,
    Owner,
    PagePath,
    Repo,
    Where,
    _state,
    print_result,
    read_content,
    repository_command,
)
from pulseox_git.errors import BadInputError, RemoteError
from pulseox_git.page import DEFAULT_MAX_PAGE_BYTES, check_content

# options end where the command begins: `run --path p sh -c 'exit 3'` works without `--`
CONTEXT = {"allow_interspersed_args": False}


@repository_command
def run(
    owner: Owner,
    repo: Repo,
    path: PagePath,
    command: Annotated[
        list[str] | None,
        typer.Argument(metavar="-- COMMAND [ARGS]...", help="The command to run, after --."),
    ] = None,
    no_start: Annotated[
        bool, typer.Option("--no-start", help="Post only the outcome, no start marker.")
    ] = False,
    timeout: Annotated[
        str | None,
        typer.Option(
            "--timeout", help="Stop the command after this long (e.g. 1h) and post BAD; exit 124."
        ),
    ] = None,
    kill_after: Annotated[
        str,
        typer.Option(
            "--kill-after",
            help="After a timeout or a SIGTERM, SIGKILL the command this much later.",
        ),
    ] = "10s",
    content: Annotated[
        str | None, typer.Option("--content", help="Text above the run record.")
    ] = None,
    content_file: Annotated[
        Path | None, typer.Option("--content-file", help="Read the text above the record here.")
    ] = None,
    note: Annotated[
        str | None,
        typer.Option("--note", help="The outcome's note, instead of `exit 3 after 4m12s`."),
    ] = None,
    redact_env: Annotated[
        list[str] | None,
        typer.Option(
            "--redact-env",
            help="Replace this variable's value with *** in what is posted (repeatable).",
        ),
    ] = None,
    tail_lines: Annotated[
        int, typer.Option("--tail-lines", help="Lines of output the page shows (0: none).")
    ] = 20,
    tail_bytes: Annotated[
        int, typer.Option("--tail-bytes", help="At most this many bytes of output on the page.")
    ] = 4096,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Exit 1 when a post failed and the command succeeded."),
    ] = False,
    dry_run: DryRun = False,
    message: Message = None,
    max_page_bytes: MaxBytes = DEFAULT_MAX_PAGE_BYTES,
    *,
    where: Where,
) -> None:
    """Run COMMAND, post START, then GOOD (exit 0) or BAD, and exit as COMMAND did."""
    if not _state["verbose"]:  # quiet but for warnings: cron mails whatever a job prints
        logging.getLogger("pulseox_git").setLevel(logging.WARNING)
    if not command:
        raise BadInputError(
            "nothing to run: give the COMMAND after --, as in "
            "`pulseox-git run --owner O --repo R --path P -- backup.sh --full`"
        )
    if content == "-":
        raise BadInputError(
            "--content - would read stdin, which run passes to the command: use --content-file"
        )
    given = read_content(content, content_file) if content or content_file else ""
    text = check_content(given, sys.maxsize)  # UTF-8 text; its size is checked with the record
    client = where.client(dry_run, max_page_bytes)
    result = client.run(
        owner,
        repo,
        path,
        command,
        start=not no_start,
        timeout=timeout,
        kill_after=kill_after,
        content=text,
        note=note,
        redact_env=redact_env or [],
        tail_lines=tail_lines,
        tail_bytes=tail_bytes,
        message=message,
    )
    if _state["verbose"] or dry_run:
        for done in (result.start, result.finish):
            if done is not None:
                print_result(done, err=True)
    if strict and result.post_errors and result.exit_code == 0:
        raise RemoteError(f"--strict: {result.post_errors[-1]}")  # exit 1
    if result.exit_code:
        raise typer.Exit(result.exit_code)
