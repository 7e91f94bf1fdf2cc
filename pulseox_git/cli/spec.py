"""`pulseox-git spec add|remove|list|pause|resume`: what the dashboard watches,
and what it holds back, edited as commits."""

from __future__ import annotations

from typing import Annotated

import typer

from pulseox_git.cli.common import (
    DryRun,
    Owner,
    PagePath,
    Repo,
    Where,
    print_published,
    repository_command,
)
from pulseox_git.dashboard import PulseOxDashboard
from pulseox_git.dashboard.edit import add_spec, pause_specs, remove_spec, resume_specs
from pulseox_git.dashboard.rules import format_when
from pulseox_git.dashboard.schedule import parse_grace
from pulseox_git.dashboard.specs import PulseOxSpec
from pulseox_git.durations import parse_limit

PageOwner = Annotated[
    str | None,
    typer.Option("--page-owner", help="Owner of the page's repository, if not the dashboard's."),
]
PageRepo = Annotated[
    str | None, typer.Option("--page-repo", help="The page's repository, if not the dashboard's.")
]


@repository_command
def add(
    owner: Owner,
    repo: Repo,
    path: PagePath,
    schedule: Annotated[
        str,
        typer.Option("--schedule", help="Duration (90s, 10m, 2h, 1d, 1w) or 5-field cron string."),
    ],
    grace: Annotated[
        str | None,
        typer.Option("--grace", help="Extra time before a late page is MISSING, e.g. 10m."),
    ] = None,
    max_duration: Annotated[
        str | None,
        typer.Option(
            "--max-duration",
            help="A run (pulseox-git run) longer than this, finished or not, is ERROR.",
        ),
    ] = None,
    min_duration: Annotated[
        str | None,
        typer.Option("--min-duration", help="A finished run shorter than this is ERROR."),
    ] = None,
    fail_after: Annotated[
        int | None,
        typer.Option("--fail-after", help="ERROR only from the Nth BAD report in a row (1)."),
    ] = None,
    missing_after: Annotated[
        int | None,
        typer.Option("--missing-after", help="MISSING only after N missed runs (1)."),
    ] = None,
    remind_every: Annotated[
        str | None,
        typer.Option("--remind-every", help="Notify again at this cadence while ERROR/MISSING."),
    ] = None,
    depends_on: Annotated[
        list[str] | None,
        typer.Option("--depends-on", help="A page this one needs (path or owner/repo:path)."),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option(
            "--tag",
            help="A tag for routing notifications (the tags filter of a \\[notify.X] table).",
        ),
    ] = None,
    page_owner: PageOwner = None,
    page_repo: PageRepo = None,
    dry_run: DryRun = False,
    *,
    where: Where,
) -> None:
    """Watch a page (or change how it is watched: the options given change, the
    others are kept), as one commit."""
    options = {
        "grace_period": grace,
        "max_duration": max_duration,
        "min_duration": min_duration,
        "fail_after": fail_after,
        "missing_after": missing_after,
        "remind_every": remind_every,
        "depends_on": depends_on,
        "tags": tag,
    }
    given = ["schedule", *(name for name, value in options.items() if value is not None)]
    spec = PulseOxSpec(
        page_owner or owner,
        page_repo or repo,
        path,
        schedule,
        parse_grace(grace),
        max_duration=parse_limit(max_duration, "max_duration"),
        min_duration=parse_limit(min_duration, "min_duration"),
        fail_after=1 if fail_after is None else fail_after,
        missing_after=1 if missing_after is None else missing_after,
        remind_every=parse_limit(remind_every, "remind_every"),
        depends_on=tuple(depends_on or ()),
        tags=tuple(tag or ()),
    )
    client = where.client(dry_run)
    print_published(
        add_spec(client, owner, repo, spec, dry_run, given), client.store(owner, repo).url
    )


@repository_command
def remove(
    owner: Owner,
    repo: Repo,
    path: PagePath,
    page_owner: PageOwner = None,
    page_repo: PageRepo = None,
    dry_run: DryRun = False,
    *,
    where: Where,
) -> None:
    """Stop watching a page, as one commit."""
    client = where.client(dry_run)
    done = remove_spec(client, owner, repo, path, page_owner, page_repo, dry_run)
    print_published(done, client.store(owner, repo).url)


@repository_command
def list_specs(owner: Owner, repo: Repo, *, where: Where) -> None:
    """Print the specs in the dashboard repository, one a line."""
    board = PulseOxDashboard(owner=owner, repo=repo, client=where.client()).get_remote_data()
    for spec in board.spec_list or []:
        typer.echo(spec.describe())
    tz, now = board.settings.tz, board.now()
    for held in board.settings.pauses:
        expired = "" if held.active(now) else " (expired)"
        typer.echo(f"paused: {held.describe(lambda t: format_when(t, tz))}{expired}")
    for window in board.settings.maintenance:
        typer.echo(f"maintenance: {window.describe()}")


Glob = Annotated[
    str,
    typer.Option("--path", help="A page path or glob: 'jobs/*', 'acme/db:jobs/*.md'."),
]
By = Annotated[
    str | None,
    typer.Option("--by", help="Who, for the commit message (default: git's author, or login)."),
]


@repository_command
def pause(
    owner: Owner,
    repo: Repo,
    path: Glob,
    until: Annotated[
        str | None,
        typer.Option("--until", help="A time (2026-05-01T18:00Z) or a duration (2h)."),
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why, for the commit and summary.")] = "",
    by: By = None,
    dry_run: DryRun = False,
    *,
    where: Where,
) -> None:
    """Hold failing specs as PAUSED (no notifications) until a time or `spec resume`."""
    client = where.client(dry_run)
    done = pause_specs(client, owner, repo, path, until, reason, by, dry_run)
    print_published(done, client.store(owner, repo).url)


@repository_command
def resume(
    owner: Owner, repo: Repo, path: Glob, by: By = None, dry_run: DryRun = False, *, where: Where
) -> None:
    """End a pause, as one commit."""
    client = where.client(dry_run)
    print_published(
        resume_specs(client, owner, repo, path, by, dry_run), client.store(owner, repo).url
    )
