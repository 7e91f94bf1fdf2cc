"""The typer app: every command registered, and exceptions turned into exit codes.

Each command builds the library object, calls one method and prints; `run`
is the one place an exception becomes an `error:` line and an exit code.
"""

from __future__ import annotations

from typing import Annotated

import typer

from pulseox_git import __version__
from pulseox_git.cli import dashboard, post, spec
from pulseox_git.cli import run as wrap
from pulseox_git.cli.common import Verbose, _state, report_error, setup_logging
from pulseox_git.errors import ExitCode

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Post job status pages to git and watch them from a dashboard.",
)
app.command()(post.post)
app.command()(post.batch)
app.command()(post.history)
app.command(context_settings=wrap.CONTEXT)(wrap.run)
app.command()(dashboard.init)


def _group(name: str, text: str) -> typer.Typer:
    group = typer.Typer(no_args_is_help=True, help=text)
    app.add_typer(group, name=name)
    return group


dashboard_app = _group("dashboard", "Refresh or show the dashboard summary.")
dashboard_app.command("refresh")(dashboard.refresh)
dashboard_app.command("show")(dashboard.show)
spec_app = _group(
    "spec", "Edit the pages a dashboard watches (pulseox.toml in the dashboard repository)."
)
spec_app.command("add")(spec.add)
spec_app.command("remove")(spec.remove)
spec_app.command("list")(spec.list_specs)
spec_app.command("pause")(spec.pause)
spec_app.command("resume")(spec.resume)
check_app = _group("check", "The original pulseox's `check` commands.")
check_app.command("rdashboard", help="Alias of `pulseox-git dashboard refresh`.")(dashboard.refresh)
check_app.command("exists")(post.exists)
client_app = _group("client", "The original pulseox's spelling: `client post` is `post`.")
client_app.command("post", help="Alias of `pulseox-git post`.")(post.post)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pulseox-git {__version__}")
        raise typer.Exit()


@app.callback()
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


def run(argv: list[str] | None = None) -> int:
    """Run one command; return its exit code instead of raising."""
    _state["verbose"] = False  # main() may run many times in one process (tests)
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
