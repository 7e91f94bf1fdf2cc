"""`pulseox-git dashboard refresh|show`, `check rdashboard` and `init`.

Each command builds the library object, calls one method and prints; the
summary goes to stdout, progress and notification failures to stderr.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from pulseox_git.cli.common import (
    DryRun,
    Owner,
    Repo,
    Where,
    print_published,
    repository_command,
)
from pulseox_git.dashboard import PulseOxDashboard
from pulseox_git.dashboard.notifyconf import check_notify
from pulseox_git.dashboard.rules import check_sections
from pulseox_git.dashboard.scaffold import init_repository
from pulseox_git.dashboard.schedule import describe
from pulseox_git.errors import BadInputError, ExitCode

Write = Annotated[
    bool,
    typer.Option(
        "--write/--no-write",
        help="Commit the summary, spec file and state (default), or only print.",
    ),
]
Mode = Annotated[
    str | None,
    typer.Option("--mode", help="md or org; saved on write. Default: pulseox.toml, else md."),
]
Zone = Annotated[
    str | None,
    typer.Option(
        "--tz",
        help="IANA time zone for shown times, e.g. Europe/Paris; saved on write. Default UTC.",
    ),
]
Notify = Annotated[
    str | None,
    typer.Option(
        "--notify",
        help="JSON {provider: {kwargs}} for notifiers, for this run (not saved); "
        "'<kwarg>_env' names an environment variable holding the value.",
    ),
]
FailOn = Annotated[
    str | None,
    typer.Option(
        "--fail-on",
        help="Comma-separated sections, e.g. ERROR,MISSING: exit 3 when any spec "
        "is in one of them.",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print every spec's status as JSON.")]
StrictNotify = Annotated[
    bool,
    typer.Option(
        "--strict-notify",
        help="Exit 1 when a notification fails (the summary is kept); exit 2 "
        "before writing when a notify setting names an unset environment variable.",
    ),
]
Refresh = Annotated[
    bool,
    typer.Option(
        "--refresh/--no-refresh",
        help="Classify the specs (default), or with --no-write print the last written "
        "summary, as the original's check rdashboard did.",
    ),
]
ExtraText = Annotated[
    str | None,
    typer.Option("--extra-text", help="Text added to this summary before its footer."),
]
SummaryPath = Annotated[
    str | None,
    typer.Option(
        "--dpath",
        help="Where the summary goes (a .md or .org path); saved on write. Default: "
        "pulseox.toml, else summary.md.",
    ),
]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="With --no-write: the dashboard as it stood at a commit (abc1234, "
        "HEAD~3) or a time (2026-05-01T12:00Z), for incident reviews.",
    ),
]


def parse_notify(value: str | None) -> dict[str, Any] | None:
    """--notify's JSON; a secret given inline is allowed, with a warning."""
    if value is None:
        return None
    try:
        config = json.loads(value)
    except json.JSONDecodeError as err:
        raise BadInputError(
            f"--notify is not valid JSON ({err.msg} at {err.pos}); use "
            '\'{"slack": {"webhook_url_env": "SLACK_WEBHOOK_URL"}}\''
        ) from None
    checked = check_notify(config, stored=False)
    try:
        check_notify(checked, stored=True)
    except BadInputError as err:  # allowed, but the secret is now on a command line
        typer.echo(
            f"warning: {str(err).split(':')[0]}; it is on the command line, where "
            "others may see it: name an environment variable with <setting>_env",
            err=True,
        )
    return checked


@repository_command
def refresh(
    owner: Owner,
    repo: Repo,
    write: Write = True,
    mode: Mode = None,
    tz: Zone = None,
    notify: Notify = None,
    dry_run: DryRun = False,
    fail_on: FailOn = None,
    as_json: AsJson = False,
    strict_notify: StrictNotify = False,
    as_of: AsOf = None,
    refresh: Refresh = True,
    extra_text: ExtraText = None,
    dpath: SummaryPath = None,
    *,
    where: Where,
) -> None:
    """Read every watched page, classify it, commit the summary and notify changes."""
    gate = check_sections(fail_on) if fail_on is not None else set()
    if as_of is not None and write:
        raise BadInputError(f"--as-of {as_of!r} shows the past and never writes: add --no-write")
    if not refresh:  # the original's `check rdashboard --no-refresh --no-write`
        if write:
            raise BadInputError(
                "refusing to --write with --no-refresh: add --no-write to "
                "print the last written summary"
            )
        print_last_summary(owner, repo, where)
        return
    board = PulseOxDashboard(
        owner=owner,
        repo=repo,
        mode=mode,
        tz=tz,
        notify=parse_notify(notify),
        dry_run=dry_run,
        client=where.client(dry_run),
        as_of=as_of,
        summary=dpath,
        extra_text=extra_text,
    )
    board.get_remote_data()  # settings first: notify is checked before anything is written
    if board.check_notifiers() and strict_notify:
        raise BadInputError(f"--strict-notify: {board.notify_warnings[0]}")
    if write:
        board.write_summary(force_refresh=False)
    else:
        board.refresh(force_refresh=False)
    summary = board.summary
    assert summary is not None
    if as_json:
        typer.echo(json.dumps(board.report(), indent=2))
    else:
        typer.echo(summary.text, nl=False)
    done = board.published
    if done is not None and done.sha is None:
        typer.echo(
            f"nothing changed since the last commit and no heartbeat due "
            f"(every {describe(board.settings.heartbeat)}): no commit",
            err=True,
        )
    elif done is not None:
        what = "would commit" if done.dry_run else "committed"
        typer.echo(
            f"{what} {board.settings.summary_path} as {(done.sha or '')[:12]} to "
            f"{board.store().url} ({summary.counts()}, {len(summary.changes)} changed)",
            err=True,
        )
    for failure in board.notify_failures:
        typer.echo(f"warning: notification failed: {failure}", err=True)
    if board.notify_failures and strict_notify:
        raise typer.Exit(ExitCode.FAILURE)
    hits = summary.in_sections(gate)
    if hits:
        typer.echo(
            f"{len(hits)} spec(s) in {', '.join(sorted(gate))}: "
            f"{', '.join(e.spec.key for e in hits)}",
            err=True,
        )
        raise typer.Exit(ExitCode.GATE)


@repository_command
def show(owner: Owner, repo: Repo, *, where: Where) -> None:
    """Print the last written summary, without refreshing or writing."""
    print_last_summary(owner, repo, where)


def print_last_summary(owner: str, repo: str, where: Where) -> None:
    text = PulseOxDashboard(owner=owner, repo=repo, client=where.client()).read_summary()
    if text is None:  # nothing to show is a usage mistake, not a remote failure
        raise BadInputError(
            f"no summary in {owner}/{repo} yet, nothing to show: run "
            "`pulseox-git dashboard refresh` first"
        )
    typer.echo(text, nl=False)


@repository_command
def init(
    owner: Owner,
    repo: Repo,
    dry_run: DryRun = False,
    install: Annotated[
        str | None,
        typer.Option(
            "--install",
            help="What the workflow pip-installs; default pulseox-git==<this version>. "
            "For a fork or an internal index: a requirement or URL.",
        ),
    ] = None,
    *,
    where: Where,
) -> None:
    """Scaffold a status repository: pulseox.toml, a refresh workflow, a README.

    One commit; files that already exist are kept.
    """
    client = where.client(dry_run)
    done, kept = init_repository(client, owner, repo, where.branch, dry_run, install)
    if done is None:  # running init again is fine: everything is already there
        typer.echo(f"nothing to do: {owner}/{repo} already has {', '.join(kept)}")
        return
    for path in kept:
        typer.echo(f"kept the existing {path}", err=True)
    print_published(done, client.store(owner, repo).url)
