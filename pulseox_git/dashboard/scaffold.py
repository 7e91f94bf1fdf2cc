"""`pulseox-git init`: the files a new status repository starts with.

`pulseox.toml` with commented examples, a GitHub Actions workflow that
refreshes the dashboard, and a README showing how a job posts; added in one
commit, keeping any that are already there.
"""

from __future__ import annotations

from pulseox_git.client import PulseOxClient
from pulseox_git.store.base import Change, Published, Store

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
    - cron: "*/15 * * * *"
  workflow_dispatch:
permissions:
  contents: write
concurrency: pulseox-dashboard
jobs:
  refresh:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pip install pulseox-git
      - run: pulseox-git dashboard refresh --owner {owner} --repo {repo} --branch {branch}
        env:
          PULSEOX_TOKEN: ${{{{ secrets.GITHUB_TOKEN }}}}
          # SLACK_WEBHOOK_URL: ${{{{ secrets.SLACK_WEBHOOK_URL }}}}
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


def scaffold_files(owner: str, repo: str, branch: str) -> dict[str, bytes]:
    """The files `init` adds to a new status repository."""
    names = {
        "owner": owner,
        "repo": repo,
        "branch": branch,
        "branch_opt": f" --branch {branch}" if branch != "main" else "",
    }
    return {
        "pulseox.toml": _EXAMPLE_TOML.format(**names).encode(),
        ".github/workflows/pulseox-dashboard.yml": _WORKFLOW.format(**names).encode(),
        "README.md": _README.format(**names).encode(),
    }


def init_repository(
    client: PulseOxClient, owner: str, repo: str, branch: str, dry_run: bool = False
) -> tuple[Published | None, list[str]]:
    """Add the scaffold files owner/repo lacks, as one commit.

    Returns the published commit (None when every file is already there: running
    init again is fine) and the paths kept as they were.
    """
    store = client.store(owner, repo)
    kept: list[str] = []

    def make_change(store: Store, tip: str | None) -> Change:
        wanted = scaffold_files(owner, repo, branch)
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
