"""The `pulseox-git` command: parse options, call the library, map errors to exit codes.

Only typer is imported at start-up; everything else loads inside the command
that needs it, so `pulseox-git --version` stays fast. Each command group lives
in its own module and is registered here.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from pulseox_git import __version__
from pulseox_git.cli import dashboard, history, post
from pulseox_git.cli.common import Verbose, _state, report_error, setup_logging

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Post job status pages to git and watch them from a dashboard.")
app.command()(post.post)
app.command()(post.batch)
app.command()(history.history)

client_app = typer.Typer(no_args_is_help=True,
                         help="The original pulseox's spelling: `client post` is `post`.")
client_app.command("post", help="Alias of `pulseox-git post`.")(post.post)
app.add_typer(client_app, name="client")
dashboard.register(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pulseox-git {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    verbose: Verbose = False,
) -> None:
    """Post job status pages to git and watch them from a dashboard."""
    setup_logging(verbose)  # `pulseox-git -v COMMAND` works like `COMMAND -v`


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code instead of raising (testable)."""
    if (sys.argv[1:] if argv is None else argv) == ["--version"]:
        typer.echo(f"pulseox-git {__version__}")
        return 0  # before typer builds every command: that alone takes ~40 ms
    _state["verbose"] = False  # main() may run many times in one process (tests)
    try:
        code = app(args=argv, prog_name="pulseox-git", standalone_mode=False)
    except Exception as err:  # the one place that turns exceptions into exit codes
        return _exit_code(err)
    return code if isinstance(code, int) else 0


def _exit_code(err: Exception) -> int:
    try:  # typer >= 0.26 raises the exceptions of its own vendored click
        from typer._click import exceptions as click_errors
    except ImportError:  # pragma: no cover (older typer raises click's own)
        from click import exceptions as click_errors

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
        return 130
    return report_error(err)
