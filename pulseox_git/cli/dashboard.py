"""`pulseox-git dashboard|spec|check|init`: the dashboard from the command line.

Each command builds the library object, calls one method and prints; the
summary goes to stdout, progress and notification failures to stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from pulseox_git.cli.common import (
    ApiUrl,
    Branch,
    CacheDir,
    DryRun,
    Note,
    Owner,
    Remote,
    Repo,
    Token,
    Transport,
    Verbose,
    make_client,
    print_dry_run,
    print_result,
    setup_logging,
)

dashboard_app = typer.Typer(no_args_is_help=True, help="Refresh or show the dashboard summary.")
spec_app = typer.Typer(no_args_is_help=True, help="Edit the pages a dashboard watches "
                       "(pulseox.toml in the dashboard repository).")
check_app = typer.Typer(no_args_is_help=True, help="The original pulseox's `check` commands.")

Write = Annotated[bool, typer.Option("--write/--no-write", help="Commit the summary, "
                                     "spec file and state (default), or only print.")]
Mode = Annotated[str | None, typer.Option("--mode", help="md or org; saved on write. "
                                          "Default: pulseox.toml, else md.")]
Zone = Annotated[str | None, typer.Option("--tz", help="IANA time zone for shown times, e.g. "
                                          "Europe/Paris; saved on write. Default UTC.")]
Notify = Annotated[str | None, typer.Option(
    "--notify", help="JSON {provider: {kwargs}} for notifiers, for this run (not saved); "
    "'<kwarg>_env' names an environment variable holding the value.")]
FailOn = Annotated[str | None, typer.Option(
    "--fail-on", help="Comma-separated sections, e.g. ERROR,MISSING: exit 3 when any spec "
    "is in one of them.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print every spec's status as JSON.")]
StrictNotify = Annotated[bool, typer.Option(
    "--strict-notify", help="Exit 1 when a notification fails (the summary is kept); exit 2 "
    "before writing when a notify setting names an unset environment variable.")]
AsOf = Annotated[str | None, typer.Option(
    "--as-of", help="With --no-write: the dashboard as it stood at a commit (abc1234, "
    "HEAD~3) or a time (2026-05-01T12:00Z), for incident reviews.")]
PagePath = Annotated[str, typer.Option("--path", help="Page path in the watched repository.")]
PageOwner = Annotated[str | None, typer.Option(
    "--page-owner", help="Owner of the page's repository, if not the dashboard's.")]
PageRepo = Annotated[str | None, typer.Option(
    "--page-repo", help="The page's repository, if not the dashboard's.")]


def _print_published(done, store) -> None:
    """One line for a commit of our own files (spec file, scaffold)."""
    if done.dry_run:
        print_dry_run(done, store.url)
        return
    typer.echo(f"{done.message.splitlines()[0]} ({done.sha[:12]})")


def _reader(token, owner, repo, remote, branch, cache_dir, transport, api_url):
    """The dashboard for a command that only reads (show, spec list): never a dry run."""
    from pulseox_git.dashboard import PulseOxDashboard

    client = make_client(token, remote, branch, cache_dir, False, transport=transport,
                         api_url=api_url)
    return PulseOxDashboard(token, owner, repo, client=client)


def _fail_on(value: str | None) -> set[str]:
    from pulseox_git.errors import BadInputError
    from pulseox_git.status import STATUSES

    names = {part.strip().upper() for part in (value or "").split(",") if part.strip()}
    bad = sorted(names - set(STATUSES))
    if bad or (value is not None and not names):
        raise BadInputError(f"bad --fail-on {value!r}: use a comma-separated list of "
                            f"{', '.join(STATUSES)}")
    return names


def _notify(value: str | None):
    from pulseox_git.errors import BadInputError

    if value is None:
        return None
    try:
        config = json.loads(value)
    except ValueError as err:
        raise BadInputError(f"--notify is not valid JSON ({err.msg} at {err.pos}); use "
                            "'{\"slack\": {\"webhook_url_env\": \"SLACK_WEBHOOK_URL\"}}'") from None
    from pulseox_git.specs import check_notify

    check_notify(config, stored=False)
    try:
        check_notify(config, stored=True)
    except BadInputError as err:  # allowed, but the secret is now on a command line
        typer.echo(f"warning: {str(err).split(':')[0]}; it is on the command line, where "
                   "others may see it: name an environment variable with <setting>_env",
                   err=True)
    return config


def refresh(
    owner: Owner, repo: Repo, write: Write = True, mode: Mode = None, tz: Zone = None,
    notify: Notify = None, dry_run: DryRun = False, fail_on: FailOn = None,
    as_json: AsJson = False, strict_notify: StrictNotify = False, remote: Remote = None,
    branch: Branch = "main", token: Token = None, cache_dir: CacheDir = None,
    transport: Transport = "auto", api_url: ApiUrl = None, verbose: Verbose = False,
    as_of: AsOf = None,
) -> None:
    """Read every watched page, classify it, commit the summary and notify changes."""
    setup_logging(verbose)
    from pulseox_git.dashboard import PulseOxDashboard
    from pulseox_git.errors import EXIT_FAILURE, EXIT_GATE

    gate = _fail_on(fail_on)
    client = make_client(token, remote, branch, cache_dir, dry_run, transport=transport,
                         api_url=api_url)
    when = None
    if as_of is not None:  # every repository as it stood then, and `now` is then
        from pulseox_git.errors import BadInputError
        from pulseox_git.history import as_of_client

        if write:
            raise BadInputError(f"--as-of {as_of!r} shows the past and never writes: "
                                "add --no-write")
        client, when = as_of_client(client, owner, repo, as_of)
    board = PulseOxDashboard(token, owner, repo, mode=mode, tz=tz, notify=_notify(notify),
                             dry_run=dry_run, client=client,
                             clock=(lambda: when) if when else None)
    board.get_remote_data()  # settings first: notify is checked before anything is written
    if board.check_notifiers() and strict_notify:
        from pulseox_git.errors import BadInputError

        raise BadInputError(f"--strict-notify: {board.notify_warnings[0]}")
    if write:
        board.write_summary(force_refresh=False)
    else:
        board.refresh(force_refresh=False)
    summary = board.summary
    if as_json:
        done = board.published
        typer.echo(json.dumps({
            "version": 1, "dashboard": f"{owner}/{repo}",
            "generated": summary.generated.isoformat(),
            "commit": done.sha if done and not done.dry_run else None,
            "dry_run": bool(done and done.dry_run),
            "specs": [entry.as_json() for entry in summary.entries]}, indent=2))
    else:
        typer.echo(summary.text, nl=False)
    done = board.published
    if done is not None:
        what = "would commit" if done.dry_run else "committed"
        typer.echo(f"{what} {board.settings.summary_path} as {done.sha[:12]} to "
                   f"{board.store().url} ({summary.counts()}, {len(summary.changes)} changed)",
                   err=True)
    for failure in board.notify_failures:
        typer.echo(f"warning: notification failed: {failure}", err=True)
    if board.notify_failures and strict_notify:
        raise typer.Exit(EXIT_FAILURE)
    hits = [e for e in summary.entries if e.status in gate]
    if hits:
        typer.echo(f"{len(hits)} spec(s) in {', '.join(sorted(gate))}: "
                   f"{', '.join(e.spec.key for e in hits)}", err=True)
        raise typer.Exit(EXIT_GATE)


def show(owner: Owner, repo: Repo, remote: Remote = None, branch: Branch = "main",
         token: Token = None, cache_dir: CacheDir = None, transport: Transport = "auto",
         api_url: ApiUrl = None, verbose: Verbose = False) -> None:
    """Print the last written summary, without refreshing or writing."""
    setup_logging(verbose)
    from pulseox_git.errors import BadInputError

    text = _reader(token, owner, repo, remote, branch, cache_dir, transport,
                   api_url).read_summary()
    if text is None:  # nothing to show is a usage mistake, not a remote failure
        raise BadInputError(f"no summary in {owner}/{repo} yet, nothing to show: run "
                            "`pulseox-git dashboard refresh` first")
    typer.echo(text, nl=False)


def spec_add(
    owner: Owner, repo: Repo, path: PagePath,
    schedule: Annotated[str, typer.Option("--schedule", help="Duration (90s, 10m, 2h, 1d, "
                                          "1w) or 5-field cron string.")],
    grace: Annotated[str | None, typer.Option("--grace", help="Extra time before a late "
                                              "page is MISSING, e.g. 10m.")] = None,
    page_owner: PageOwner = None, page_repo: PageRepo = None, remote: Remote = None,
    branch: Branch = "main", token: Token = None, cache_dir: CacheDir = None,
    dry_run: DryRun = False, transport: Transport = "auto", api_url: ApiUrl = None,
    verbose: Verbose = False,
) -> None:
    """Watch a page (or change how it is watched), as one commit."""
    setup_logging(verbose)
    from pulseox_git.schedule import describe
    from pulseox_git.specs import PulseOxSpec, edit_specs

    spec = PulseOxSpec(page_owner or owner, page_repo or repo, path, schedule, grace)

    def add(specs: list) -> str:
        verb = "change" if any(s.key == spec.key for s in specs) else "watch"
        specs[:] = [s for s in specs if s.key != spec.key] + [spec]
        grace_text = f" + {describe(spec.grace_period)}" if spec.grace_period else ""
        return f"pulseox: {verb} {spec.key} every {describe(spec.schedule)}{grace_text}"

    client = make_client(token, remote, branch, cache_dir, dry_run, transport=transport,
                         api_url=api_url)
    _print_published(edit_specs(client, owner, repo, add, dry_run), client.store(owner, repo))


def spec_remove(
    owner: Owner, repo: Repo, path: PagePath, page_owner: PageOwner = None,
    page_repo: PageRepo = None, remote: Remote = None, branch: Branch = "main",
    token: Token = None, cache_dir: CacheDir = None, dry_run: DryRun = False,
    transport: Transport = "auto", api_url: ApiUrl = None, verbose: Verbose = False,
) -> None:
    """Stop watching a page, as one commit."""
    setup_logging(verbose)
    from pulseox_git.errors import BadInputError
    from pulseox_git.page import check_path
    from pulseox_git.specs import edit_specs

    key = f"{page_owner or owner}/{page_repo or repo}:{check_path(path)}"

    def remove(specs: list) -> str:
        if not any(s.key == key for s in specs):
            raise BadInputError(f"{owner}/{repo} does not watch {key!r}")
        specs[:] = [s for s in specs if s.key != key]
        return f"pulseox: stop watching {key}"

    client = make_client(token, remote, branch, cache_dir, dry_run, transport=transport,
                         api_url=api_url)
    _print_published(edit_specs(client, owner, repo, remove, dry_run),
                     client.store(owner, repo))


def spec_list(owner: Owner, repo: Repo, remote: Remote = None, branch: Branch = "main",
              token: Token = None, cache_dir: CacheDir = None, transport: Transport = "auto",
              api_url: ApiUrl = None, verbose: Verbose = False) -> None:
    """Print the specs in the dashboard repository, one a line."""
    setup_logging(verbose)
    from pulseox_git.schedule import describe

    board = _reader(token, owner, repo, remote, branch, cache_dir, transport,
                    api_url).get_remote_data()
    for spec in board.spec_list or []:
        grace = f" grace {describe(spec.grace_period)}" if spec.grace_period else ""
        typer.echo(f"{spec.key} every {describe(spec.schedule)}{grace}")


def exists(
    owner: Owner, repo: Repo,
    path: Annotated[list[Path], typer.Option("--path", help="Local path that must exist "
                                             "(repeatable).")],
    hc_path: Annotated[str, typer.Option("--hc-path", help="Page to post the result to.")],
    note: Note = "",
    content: Annotated[str, typer.Option("--content", help="Page template; {good_list} "
                                         "and {bad_list} are filled in.")] =
    "# File Check\n{bad_list}\n{good_list}\n",
    remote: Remote = None, branch: Branch = "main", token: Token = None,
    cache_dir: CacheDir = None, dry_run: DryRun = False, transport: Transport = "auto",
    api_url: ApiUrl = None, verbose: Verbose = False,
) -> None:
    """Post GOOD when every --path exists, BAD otherwise (the original's check)."""
    setup_logging(verbose)
    from pulseox_git.errors import BadInputError
    from pulseox_git.page import Page

    good = [str(p) for p in path if p.exists()]
    bad = [str(p) for p in path if not p.exists()]
    bad_list = "\n## Missing Paths\n" + "".join(f"  - {p}\n" for p in bad) if bad else ""
    good_list = "## Present Paths\n" + "".join(f"  - {p}\n" for p in good) if good else ""
    try:
        text = content.format(bad_list=bad_list, good_list=good_list, bad=bad, good=good)
    except (KeyError, IndexError, ValueError) as err:
        raise BadInputError(f"bad --content template {content!r}: {err}") from None
    default = f"{len(bad)} of {len(path)} paths missing" if bad else f"all {len(path)} paths exist"
    page = Page(hc_path, text, "BAD" if bad else "GOOD", note or default)
    client = make_client(token, remote, branch, cache_dir, dry_run, transport=transport,
                         api_url=api_url)
    print_result(client.post_many(owner, repo, [page]))


def init(owner: Owner, repo: Repo, remote: Remote = None, branch: Branch = "main",
         token: Token = None, cache_dir: CacheDir = None, dry_run: DryRun = False,
         transport: Transport = "auto", api_url: ApiUrl = None,
         verbose: Verbose = False) -> None:
    """Scaffold a status repository: pulseox.toml, a refresh workflow, a README.

    One commit; files that already exist are kept.
    """
    setup_logging(verbose)
    from pulseox_git.scaffold import init_repository

    client = make_client(token, remote, branch, cache_dir, dry_run, transport=transport,
                         api_url=api_url)
    done, kept = init_repository(client, owner, repo, branch, dry_run)
    if done is None:  # running init again is fine: everything is already there
        typer.echo(f"nothing to do: {owner}/{repo} already has {', '.join(kept)}")
        return
    for path in kept:
        typer.echo(f"kept the existing {path}", err=True)
    _print_published(done, client.store(owner, repo))


dashboard_app.command("refresh")(refresh)
dashboard_app.command("show")(show)
spec_app.command("add")(spec_add)
spec_app.command("remove")(spec_remove)
spec_app.command("list")(spec_list)
check_app.command("rdashboard", help="Alias of `pulseox-git dashboard refresh`.")(refresh)
check_app.command("exists")(exists)


def register(app: typer.Typer) -> None:
    """Add the dashboard's command groups to the main app."""
    app.add_typer(dashboard_app, name="dashboard")
    app.add_typer(spec_app, name="spec")
    app.add_typer(check_app, name="check")
    app.command("init")(init)

