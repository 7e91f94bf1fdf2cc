"""The status page format: what a job posts, and what its commit records. Pure; no I/O.

`footer` renders and parses a page and its metadata footer, `checks` refuses
what a post may not write, and `trailers` writes and reads the commit
trailers that let `git log` alone tell a page's history.
"""

from pulseox_git.page.checks import (
    DASHBOARD_FILES,
    DEFAULT_MAX_PAGE_BYTES,
    check_content,
    check_note,
    check_page,
    check_path,
    check_postable,
    check_report,
    check_run,
)
from pulseox_git.page.footer import (
    FINISHED,
    REPORTS,
    START,
    Footer,
    Page,
    RunFields,
    age_problem,
    format_time,
    parse,
    parse_time,
    render,
)
from pulseox_git.page.trailers import TRAILER, commit_message, parse_trailers, trailer_line

__all__ = [
    "DASHBOARD_FILES",
    "DEFAULT_MAX_PAGE_BYTES",
    "FINISHED",
    "REPORTS",
    "START",
    "TRAILER",
    "Footer",
    "Page",
    "RunFields",
    "age_problem",
    "check_content",
    "check_note",
    "check_page",
    "check_path",
    "check_postable",
    "check_report",
    "check_run",
    "commit_message",
    "format_time",
    "parse",
    "parse_time",
    "parse_trailers",
    "render",
    "trailer_line",
]
