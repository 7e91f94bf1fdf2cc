"""The typer app: every command registered, and exceptions turned into exit codes.

Each command builds the library object, calls one method and prints; `run`
is the one place an exception becomes an `error:` line and an exit code.
A job's command (`post`, `batch`, `history`, `run`) gets an app of the job's
commands alone: the dashboard's modules are a third of the start-up, and jobs
start the CLI hundreds of times a day.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import Annotated, Any

import typer

from pulseox_git import __version__
from pulseox_git.cli import post
from pulseox_git.cli import run as wrap
from pulseox_git.cli.common import Verbose, _state, report_error, setup_logging
from pulseox_git.errors import ExitCode

JOB_COMMANDS = frozenset({"post", "batch", "history", "run", "client"})


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pulseox-git {__version__}")
        raise typer.Exit()


def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    verbose: Verbose = False,
) -> None:
    """Post job status pages to git and watch them from a dashboard."""
    setup_logging(verbose)  # `pulseox-git -v COMMAND` works like `COMMAND -v`


@cache
def build(job_only: bool) -> typer.Typer:
    """The app with every command, or with the job's commands alone."""
    app = typer.Typer(
        add_completion=False,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        help="Post job status pages to git and watch them from a dashboard.",
    )
    app.callback()(_main)

    def group(name: str, text: str) -> typer.Typer:
        sub = typer.Typer(no_args_is_help=True, help=text)
        app.add_typer(sub, name=name)
        return sub

    app.command()(post.post)
    app.command()(post.batch)
    app.command()(post.history)
    app.command(context_settings=wrap.CONTEXT)(wrap.run)
    if not job_only:
        from pulseox_git.cli import dashboard, spec  # the dashboard's side

        app.command()(dashboard.init)
        board = group("dashboard", "Refresh or show the dashboard summary.")
        board.command("refresh")(dashboard.refresh)
        board.command("show")(dashboard.show)
        edit = group(
            "spec", "Edit the pages a dashboard watches (pulseox.toml in the dashboard repository)."
        )
        edit.command("add")(spec.add)
        edit.command("remove")(spec.remove)
        edit.command("list")(spec.list_specs)
        edit.command("pause")(spec.pause)
        edit.command("resume")(spec.resume)
        check = group("check", "The original pulseox's `check` commands.")
        check.command("rdashboard", help="Alias of `pulseox-git dashboard refresh`.")(
            dashboard.refresh
        )
        check.command("exists")(post.exists)
    client = group("client", "The original pulseox's spelling: `client post` is `post`.")
    client.command("post", help="Alias of `pulseox-git post`.")(post.post)
    return app


def __getattr__(name: str) -> Any:
    if name == "app":  # the whole app, for tests and documentation tools
        return build(False)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run(argv: list[str] | None = None) -> int:
    """Run one command; return its exit code instead of raising."""
    _state["verbose"] = False  # main() may run many times in one process (tests)
    args = sys.argv[1:] if argv is None else argv
    command = next((arg for arg in args if not arg.startswith("-")), None)
    app = build(command in JOB_COMMANDS)
    try:
        code = app(args=argv, prog_name="pulseox-git", standalone_mode=False)
    except Exception as err:  # the one place that turns exceptions into exit codes
        return _exit_code(err)
    return code if isinstance(code, int) else 0


def _exit_code(err: Exception) -> int:
    from typer._click import exceptions as click_errors  # typer >= 0.26 vendors click

    no_args = getattr(click_errors, "NoArgsIsHelpError", ())  # typer shows the help then
    if isinstance(err, click_errors.UsageError) and not isinstance(err, no_args):
        command = err.ctx.command_path if err.ctx else "pulseox-git"
        message = " ".join(err.format_message().split())
        typer.echo(f"error: {message} (see `{command} --help`)", err=True)
        return err.exit_code
    if isinstance(err, click_errors.ClickException):
        err.show()
        return err.exit_code
    if isinstance(err, (getattr(click_errors, "Abort", typer.Abort), typer.Abort)):
        typer.echo("aborted", err=True)
        return ExitCode.INTERRUPTED
    return report_error(err)
