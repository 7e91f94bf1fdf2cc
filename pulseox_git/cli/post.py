"""`pulseox-git post`, `batch`, `history` and `check exists`: the job's side."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from pulseox_git.cli.common import (
    DryRun,
    MaxBytes,
    Message,
    Note,
    Owner,
    PagePath,
    Repo,
    Report,
    Where,
    print_result,
    read_content,
    read_stdin,
    repository_command,
)
from pulseox_git.job.exists import DEFAULT_TEMPLATE, exists_page
from pulseox_git.job.manifest import load_manifest, parse_manifest
from pulseox_git.page import DEFAULT_MAX_PAGE_BYTES, Page


@repository_command
def post(
    owner: Owner,
    repo: Repo,
    path: PagePath,
    report: Report = "GOOD",
    note: Note = "",
    content: Annotated[
        str | None, typer.Option("--content", help="Page content; '-' reads stdin.")
    ] = None,
    content_file: Annotated[
        Path | None, typer.Option("--content-file", help="Read page content from this file.")
    ] = None,
    dry_run: DryRun = False,
    message: Message = None,
    max_page_bytes: MaxBytes = DEFAULT_MAX_PAGE_BYTES,
    *,
    where: Where,
) -> None:
    """Post one page (content plus a report footer) as one commit."""
    client = where.client(dry_run, max_page_bytes)
    page = Page(path, read_content(content, content_file), report, note)  # type: ignore[arg-type]
    print_result(client.post_many(owner, repo, [page], message))


@repository_command
def batch(
    owner: Owner,
    repo: Repo,
    manifest: Annotated[
        Path,
        typer.Argument(
            metavar="MANIFEST", help="TOML file of \\[\\[page]] tables; '-' reads stdin."
        ),
    ],
    dry_run: DryRun = False,
    message: Message = None,
    max_page_bytes: MaxBytes = DEFAULT_MAX_PAGE_BYTES,
    *,
    where: Where,
) -> None:
    """Post every page of a manifest in ONE commit."""
    client = where.client(dry_run, max_page_bytes)
    is_stdin = str(manifest) == "-"
    pages = parse_manifest(read_stdin("batch -"), manifest) if is_stdin else load_manifest(manifest)
    if len(pages) >= 100:
        logging.getLogger("pulseox_git").info("posting %d pages in one commit", len(pages))
    print_result(client.post_many(owner, repo, pages, message))


@repository_command
def history(
    owner: Owner,
    repo: Repo,
    path: PagePath,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Show only the newest N reports.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON, newest first.")] = False,
    *,
    where: Where,
) -> None:
    """Print a page's reports over time, newest first: time, report, commit, note."""
    reports = where.client().history(owner, repo, path)[:limit]
    if json_out:
        import json

        typer.echo(json.dumps([r.to_json() for r in reports], indent=2))
        return
    if not reports:
        typer.echo(f"no commits touched {path} on {where.branch}", err=True)
        return
    for r in reports:
        what = r.report or f"NONE ({r.problem})"
        line = f"{r.time:%Y-%m-%d %H:%M:%S} UTC  {what:<5}  {r.commit[:12]}"
        typer.echo(f"{line}  {r.note}" if r.note else line)


@repository_command
def exists(
    owner: Owner,
    repo: Repo,
    path: Annotated[
        list[Path], typer.Option("--path", help="Local path that must exist (repeatable).")
    ],
    hc_path: Annotated[str, typer.Option("--hc-path", help="Page to post the result to.")],
    note: Note = "",
    content: Annotated[
        str,
        typer.Option("--content", help="Page template; {good_list} and {bad_list} are filled in."),
    ] = DEFAULT_TEMPLATE,
    dry_run: DryRun = False,
    *,
    where: Where,
) -> None:
    """Post GOOD when every --path exists, BAD otherwise (the original's check)."""
    page = exists_page(path, hc_path, content, note)
    print_result(where.client(dry_run).post_many(owner, repo, [page]))
