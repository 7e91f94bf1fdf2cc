"""`pulseox-git history`: a page's reports over time, the data behind the trend notes."""

from __future__ import annotations

from typing import Annotated

import typer

from pulseox_git.cli.common import (
    ApiUrl,
    Branch,
    CacheDir,
    Owner,
    Remote,
    Repo,
    Token,
    Transport,
    Verbose,
    make_client,
    setup_logging,
)


def history(
    owner: Owner, repo: Repo,
    path: Annotated[str, typer.Option("--path", help="Page path in the repository.")],
    limit: Annotated[int | None, typer.Option(
        "--limit", min=1, help="Show only the newest N reports.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON, newest first.")] = False,
    remote: Remote = None, branch: Branch = "main", token: Token = None,
    cache_dir: CacheDir = None, transport: Transport = "auto", api_url: ApiUrl = None,
    verbose: Verbose = False,
) -> None:
    """Print a page's reports over time, newest first: time, report, commit, note."""
    setup_logging(verbose)
    from pulseox_git.history import page_reports
    from pulseox_git.page import check_path

    check_path(path)
    store = make_client(token, remote, branch, cache_dir, False, transport=transport,
                        api_url=api_url).store(owner, repo)
    reports = page_reports(store, path)[:limit]
    if json_out:
        import json

        typer.echo(json.dumps([r.to_json() for r in reports], indent=2))
        return
    if not reports:
        typer.echo(f"no commits touched {path} on {branch}", err=True)
        return
    for r in reports:
        what = r.report or f"NONE ({r.problem})"
        line = f"{r.time:%Y-%m-%d %H:%M:%S} UTC  {what:<4}  {r.commit[:12]}"
        typer.echo(f"{line}  {r.note}" if r.note else line)
