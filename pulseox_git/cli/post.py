"""`pulseox-git post` and `pulseox-git batch`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from pulseox_git.cli.common import (
    ApiUrl,
    Branch,
    CacheDir,
    DryRun,
    MaxBytes,
    Message,
    Note,
    Owner,
    Remote,
    Repo,
    Report,
    Token,
    Transport,
    Verbose,
    make_client,
    print_result,
    read_content,
    setup_logging,
)


def post(
    owner: Owner, repo: Repo,
    path: Annotated[str, typer.Option("--path", help="Page path in the repository.")],
    report: Report = "GOOD", note: Note = "",
    content: Annotated[str | None, typer.Option(
        "--content", help="Page content; '-' reads stdin.")] = None,
    content_file: Annotated[Path | None, typer.Option(
        "--content-file", help="Read page content from this file.")] = None,
    remote: Remote = None, branch: Branch = "main", token: Token = None,
    cache_dir: CacheDir = None, dry_run: DryRun = False, message: Message = None,
    max_page_bytes: MaxBytes = 1024 * 1024, transport: Transport = "auto",
    api_url: ApiUrl = None, verbose: Verbose = False,
) -> None:
    """Post one page (content plus a report footer) as one commit."""
    setup_logging(verbose)
    client = make_client(token, remote, branch, cache_dir, dry_run, max_page_bytes,
                         transport, api_url)
    from pulseox_git.page import Page

    page = Page(path, read_content(content, content_file), report, note)
    print_result(client.post_many(owner, repo, [page], message))


def batch(
    owner: Owner, repo: Repo,
    manifest: Annotated[Path, typer.Argument(
        metavar="MANIFEST", help="TOML file of \\[\\[page]] tables.")],
    remote: Remote = None, branch: Branch = "main", token: Token = None,
    cache_dir: CacheDir = None, dry_run: DryRun = False, message: Message = None,
    max_page_bytes: MaxBytes = 1024 * 1024, transport: Transport = "auto",
    api_url: ApiUrl = None, verbose: Verbose = False,
) -> None:
    """Post every page of a manifest in ONE commit."""
    setup_logging(verbose)
    from pulseox_git.manifest import load_manifest

    client = make_client(token, remote, branch, cache_dir, dry_run, max_page_bytes,
                         transport, api_url)
    pages = load_manifest(manifest)
    if len(pages) >= 100:
        logging.getLogger("pulseox_git").info("posting %d pages in one commit", len(pages))
    print_result(client.post_many(owner, repo, pages, message))
