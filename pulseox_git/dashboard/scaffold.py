"""`pulseox-git init`: the files a new status repository starts with.

`pulseox.toml` with commented examples, a GitHub Actions workflow that
refreshes the dashboard, and a README showing how a job posts; added in one
commit, keeping any that are already there.
"""

from __future__ import annotations

import re
import shlex

from pulseox_git import __version__
from pulseox_git.client import PulseOxClient
from pulseox_git.errors import BadInputError
from pulseox_git.store.base import Change, Published, Store

CRON = "*/15 * * * *"  # the workflow's schedule, and [dashboard] schedule
# What pip takes after `install`: a name with a version, a URL, a path; one word.
_INSTALL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+\-\[\],=<>!~:/@#%]*$")

_EXAMPLE_TOML = """\
# pulseox-git dashboard: what it watches and how it reports.
# Edit by hand or with `pulseox-git spec add|remove`: `spec add` appends and
# keeps your comments; `spec remove`, changing a spec's schedule, and a refresh
# that changes a setting (--mode, --tz) rewrite this file without them.
# Never put a secret here: name the environment variable that holds it
# (webhook_url_env = "VAR").

[dashboard]
mode = "md"        # summary.md; "org" writes summary.org
tz = "UTC"         # IANA zone for the times shown
tolerance = "10m"  # how far a page's footer time may be from its commit time
schedule = "{cron}"  # as the workflow's cron: the summary says how late each run was
# heartbeat_url_env = "HEARTBEAT_URL"  # a URL pinged after each refresh (dead man's switch)

# [notify.slack]
# webhook_url_env = "SLACK_WEBHOOK_URL"

# [[spec]]
# owner = "{owner}"
# repo = "{repo}"
# path = "jobs/backup.md"
# schedule = "1d"      # or a cron string such as "0 9 * * 1"
# grace = "30m"
"""

_WORKFLOW = """\
name: pulseox dashboard
on:
  schedule:
    - cron: "{cron}"  # pulseox.toml's [dashboard] schedule says the same
  workflow_dispatch:
permissions:
  contents: write
concurrency:
  group: pulseox-dashboard  # one refresh at a time; the next one waits, none is cancelled
  cancel-in-progress: false
# GitHub disables a scheduled workflow after 60 days without activity in the
# repository; the refresh's own commits (at least one per [dashboard] heartbeat,
# 6h by default) count as activity, so this one keeps itself alive (README: "A
# watched watcher").
jobs:
  refresh:
    runs-on: ubuntu-latest
    timeout-minutes: 10  # a hung refresh must not hold the group for GitHub's default 6h
    steps:
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      # The version that wrote this file. From a fork or an internal index, change
      # this line (or run `pulseox-git init --install SPEC` on a new repository).
      - run: pip install {install}
      # Keep the cached clone between runs, so a refresh fetches only what is new.
      # A restored cache is checked like any other (what it clones, every fetch,
      # the history cache against the fetched tip) and rebuilt when damaged; it
      # holds no token (git gets it from the environment only).
      - uses: actions/cache@v4
        with:
          path: ~/.cache/pulseox-git
          key: pulseox-git-${{{{ github.run_id }}}}  # a new entry each run ...
          restore-keys: pulseox-git-  # ... starting from the newest
      - run: pulseox-git dashboard refresh --owner {owner} --repo {repo} --branch {branch}
        env:
          PULSEOX_TOKEN: ${{{{ secrets.GITHUB_TOKEN }}}}
          # SLACK_WEBHOOK_URL: ${{{{ secrets.SLACK_WEBHOOK_URL }}}}
          # HEARTBEAT_URL: ${{{{ secrets.HEARTBEAT_URL }}}}
"""

_README = """\
# {repo}: job status

Jobs post their status pages here; `summary.md` collects them (refreshed by
`.github/workflows/pulseox-dashboard.yml`).

A job posts from a shell or a CI step (token in `$PULSEOX_TOKEN`):

```
pulseox-git post --owner {owner} --repo {repo}{branch_opt} --path jobs/backup.md \\
    --report GOOD --note "12 GB" --content "Nightly backup done"
```

Watch it from the dashboard:

```
pulseox-git spec add --owner {owner} --repo {repo}{branch_opt} \\
    --path jobs/backup.md --schedule 1d --grace 30m
```
"""


def scaffold_files(
    owner: str, repo: str, branch: str, install: str | None = None
) -> dict[str, bytes]:
    """The files `init` adds to a new status repository. The workflow installs
    `install` (a pip requirement), by default the version running now."""
    names = {
        "owner": owner,
        "repo": repo,
        "branch": branch,
        "install": shlex.quote(
            check_install(install) if install is not None else f"pulseox-git=={__version__}"
        ),
        "branch_opt": f" --branch {branch}" if branch != "main" else "",
        "cron": CRON,
    }
    return {
        "pulseox.toml": _EXAMPLE_TOML.format(**names).encode(),
        ".github/workflows/pulseox-dashboard.yml": _WORKFLOW.format(**names).encode(),
        "README.md": _README.format(**names).encode(),
    }


def check_install(spec: str) -> str:
    """One pip requirement (`pulseox-git==0.1.0`, `git+https://...@v1`, a wheel URL)."""
    if not isinstance(spec, str) or not _INSTALL.match(spec):
        raise BadInputError(
            f"bad --install {spec!r}: give one pip requirement, like pulseox-git==1.2.0 or "
            "git+https://github.com/acme/pulseox-git@v1"
        )
    return spec


def init_repository(
    client: PulseOxClient,
    owner: str,
    repo: str,
    branch: str,
    dry_run: bool = False,
    install: str | None = None,
) -> tuple[Published | None, list[str]]:
    """Add the scaffold files owner/repo lacks, as one commit.

    Returns the published commit (None when every file is already there: running
    init again is fine) and the paths kept as they were.
    """
    if install is not None:
        check_install(install)  # before anything is fetched
    store = client.store(owner, repo)
    kept: list[str] = []

    def make_change(store: Store, tip: str | None) -> Change:
        wanted = scaffold_files(owner, repo, branch, install)
        present = store.read_files(tip, list(wanted))
        kept[:] = sorted(present)
        files = {p: data for p, data in wanted.items() if p not in present}
        if not files:
            raise _NothingToDo
        return Change(
            files,
            f"pulseox: set up the status repository {owner}/{repo}\n",
            client.clock().replace(microsecond=0),
        )

    try:
        return store.publish(make_change, dry_run=dry_run), kept
    except _NothingToDo:
        return None, kept


class _NothingToDo(Exception):
    """Every scaffold file is already in the repository: no commit to make."""


__all__ = ["init_repository", "scaffold_files"]
