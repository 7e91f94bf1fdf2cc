"""What the commands share: option types, the repository options, logging, output.

`@repository_command` adds the options every command that reaches a
repository takes (remote, branch, token, cache, transport, API URL, -v), so
they are declared once here, not in each command's signature.
"""

from __future__ import annotations

import functools
import inspect
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from pulseox_git.client import PostResult, PulseOxClient
from pulseox_git.errors import BadInputError, ExitCode, PulseOxError
from pulseox_git.page import DEFAULT_MAX_PAGE_BYTES
from pulseox_git.store import auth
from pulseox_git.store.base import Published

F = TypeVar("F", bound=Callable[..., Any])
_state = {"verbose": False}

Owner = Annotated[str, typer.Option("--owner", help="Repository owner (user or org).")]
Repo = Annotated[str, typer.Option("--repo", help="Repository name.")]
PagePath = Annotated[str, typer.Option("--path", help="Page path in the repository.")]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Do everything but push; print the commit instead.")
]
Message = Annotated[str | None, typer.Option("--message", help="Commit subject.")]
Verbose = Annotated[bool, typer.Option("-v", "--verbose", help="Show details of failures.")]
Report = Annotated[str, typer.Option("--report", help="GOOD or BAD; START marks a run beginning.")]
Note = Annotated[str, typer.Option("--note", help="One line shown on the dashboard.")]
MaxBytes = Annotated[int, typer.Option("--max-page-bytes", help="Largest page accepted.")]

_REPOSITORY_OPTIONS = {
    "remote": (
        Annotated[
            str | None,
            typer.Option(
                "--remote",
                help="Git URL (or template with {owner} and {repo}); default "
                "$PULSEOX_GIT_REMOTE, else https://github.com/{owner}/{repo}.git.",
            ),
        ],
        None,
    ),
    "branch": (Annotated[str, typer.Option("--branch", help="Branch to read and write.")], "main"),
    "token": (
        Annotated[
            str | None,
            typer.Option(
                "--token",
                help="Access token; prefer $PULSEOX_TOKEN or $GITHUB_TOKEN, which stay "
                "off the command line.",
                show_default=False,
            ),
        ],
        None,
    ),
    "cache_dir": (
        Annotated[
            Path | None,
            typer.Option(
                "--cache-dir",
                help="Where cached clones live; default $PULSEOX_GIT_CACHE, else "
                "$XDG_CACHE_HOME/pulseox-git, else ~/.cache/pulseox-git.",
            ),
        ],
        None,
    ),
    "transport": (
        Annotated[
            str,
            typer.Option(
                "--transport",
                help="auto: git, falling back to the GitHub REST API only when git is "
                "missing or cannot reach the remote; git or api to force one.",
            ),
        ],
        "auto",
    ),
    "api_url": (
        Annotated[
            str | None,
            typer.Option(
                "--api-url",
                help="GitHub REST API base for the api transport; default "
                "$PULSEOX_API_URL, else https://api.github.com.",
            ),
        ],
        None,
    ),
    "verbose": (Verbose, False),
}


@dataclass(frozen=True)
class Where:
    """How to reach the repositories: the options `@repository_command` adds."""

    remote: str | None
    branch: str
    token: str | None
    cache_dir: Path | None
    transport: str
    api_url: str | None

    def client(
        self, dry_run: bool = False, max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES
    ) -> PulseOxClient:
        return PulseOxClient(
            self.token,
            remote=self.remote,
            branch=self.branch,
            cache_dir=self.cache_dir,
            dry_run=dry_run,
            max_page_bytes=max_page_bytes,
            transport=self.transport,
            api_url=self.api_url,
        )


def repository_command(func: F) -> F:
    """Give `func(..., where: Where)` the repository options as CLI options, set up
    logging from -v, and pass the options on as one `Where`."""
    own = [
        p for p in inspect.signature(func, eval_str=True).parameters.values() if p.name != "where"
    ]
    shared = [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
        )
        for name, (annotation, default) in _REPOSITORY_OPTIONS.items()
    ]

    @functools.wraps(func)
    def command(**kwargs: Any) -> Any:
        setup_logging(kwargs.pop("verbose"))
        where = Where(
            **{name: kwargs.pop(name) for name in _REPOSITORY_OPTIONS if name != "verbose"}
        )
        return func(**kwargs, where=where)

    params = own + shared
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    return command  # type: ignore[return-value]


def setup_logging(verbose: bool) -> None:
    """Progress and warnings on stderr, with secrets scrubbed."""

    class Redacting(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return auth.redact(super().format(record))

    class CurrentStderr(logging.StreamHandler[Any]):
        """Writes to sys.stderr as it is when a record comes: main() may run inside a
        process (tests) that swaps and closes streams between calls."""

        @property
        def stream(self) -> Any:
            return sys.stderr

        @stream.setter
        def stream(self, _value: Any) -> None:
            pass

    verbose = _state["verbose"] = verbose or _state["verbose"]  # `-v` before the command
    handler = CurrentStderr()
    handler.setFormatter(Redacting("%(message)s"))
    logger = logging.getLogger("pulseox_git")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False


def read_content(content: str | None, content_file: Path | None) -> str | bytes:
    """--content TEXT, --content - (stdin) or --content-file PATH: exactly one."""
    if (content is None) == (content_file is None):
        raise BadInputError("give exactly one of --content and --content-file")
    if content == "-":
        return read_stdin("--content -")
    if content_file is not None:
        try:
            return content_file.read_bytes()
        except OSError as err:
            raise BadInputError(
                f"cannot read --content-file {str(content_file)!r}: {err.strerror}"
            ) from None
    assert content is not None
    return content


def read_stdin(what: str) -> bytes:
    if sys.stdin.isatty():  # never wait for a person to type: this runs in CI
        raise BadInputError(f"{what} reads stdin, but stdin is a terminal")
    return sys.stdin.buffer.read()


def print_dry_run(done: Published | PostResult, url: str, err: bool = False) -> None:
    """The commit a dry run would have pushed: subject, then each file added or changed."""
    typer.echo(f"dry run: would push {(done.sha or '')[:12]} to {url}", err=err)
    typer.echo(f"  {done.message.splitlines()[0]}", err=err)
    for path in done.created:
        typer.echo(f"  A {path}", err=err)
    for path in done.changed:
        typer.echo(f"  M {path}", err=err)
    for path in getattr(done, "deleted", ()):  # a post deletes nothing
        typer.echo(f"  D {path}", err=err)


def print_result(result: PostResult, err: bool = False) -> None:
    """One line per post; a dry run shows the commit it would have pushed. `err`:
    on stderr (`run`, whose stdout is the command's)."""
    if result.dry_run:
        print_dry_run(result, result.url, err)
        return
    pages = len(result.created) + len(result.changed)
    what = "page" if pages == 1 else "pages"
    if result.queued:
        typer.echo(
            f"queued {pages} {what} as {(result.sha or '')[:12]} in {result.url}: the branch "
            "was busy, so it waits in an inbox ref; the next write to the branch (a post or "
            "a dashboard refresh) puts it on, and readers count it already",
            err=err,
        )
        return
    typer.echo(
        f"posted {pages} {what} as {(result.sha or '')[:12]} to {result.url} "
        f"({len(result.created)} created, {len(result.changed)} updated)",
        err=err,
    )


def print_published(done: Published, url: str) -> None:
    """One line for a commit of the dashboard's own files (spec file, scaffold)."""
    if done.dry_run:
        print_dry_run(done, url)
        return
    typer.echo(f"{done.message.splitlines()[0]} ({(done.sha or '')[:12]})")


def report_error(err: Exception) -> int:
    """`error: <message>` on one line; a traceback only with -v."""
    if isinstance(err, PulseOxError):
        typer.echo(f"error: {auth.redact(str(err))}", err=True)
        code = int(err.exit_code)
    else:
        typer.echo(
            f"error: unexpected {type(err).__name__}: {auth.redact(str(err))} "
            "(run with -v for details; please report this)",
            err=True,
        )
        code = ExitCode.FAILURE
    if _state["verbose"]:
        import traceback

        typer.echo(auth.redact("".join(traceback.format_exception(err))), err=True)
    return code
