"""The GitHub Actions workflow that `pulseox-git init` commits: valid by GitHub's
own schema, and right in the ways a schema cannot tell (least privilege, one run
at a time, the token only where it is needed).

The schema is the one bundled in check-jsonschema (`--builtin-schema`), so the
check needs no network; proxies pointing at a closed local port make any
attempt to fetch one fail instead of going out.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.specifiers import SpecifierSet
from ruamel.yaml import YAML

from fixtures.repos import show

WORKFLOW = ".github/workflows/pulseox-dashboard.yml"
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")
# Any HTTP(S) request through a proxy on a closed local port: fails, never leaves.
NO_NETWORK = {
    name: "http://127.0.0.1:9"
    for base in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
    for name in (base, base.lower())
} | {"NO_PROXY": "", "no_proxy": ""}
TOKEN = "${{ secrets.GITHUB_TOKEN }}"


@pytest.fixture
def workflow(cli, remote: Path, tmp_path: Path) -> Path:
    """The workflow `init` committed for owner/repo, read back with git."""
    code, _, err = cli("init", "--owner", "owner", "--repo", "repo")
    assert code == 0, err
    path = tmp_path / "pulseox-dashboard.yml"
    path.write_text(show(remote, WORKFLOW))
    return path


def load(path: Path) -> dict[str, Any]:
    """YAML 1.2, as GitHub reads it: `on` stays a key, not True."""
    return YAML(typ="safe", pure=True).load(path.read_text())


def check_schema(path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **NO_NETWORK}
    cmd = [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(path)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def steps(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in doc["jobs"].values() for step in job["steps"]]


@pytest.mark.slow  # check-jsonschema loads the schema in a process of its own
def test_githubs_schema_accepts_the_workflow(workflow: Path):
    proc = check_schema(workflow)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow  # check-jsonschema loads the schema in a process of its own
def test_githubs_schema_check_does_catch_a_broken_workflow(workflow: Path, tmp_path: Path):
    """The check above is only worth something if it can fail."""
    broken = tmp_path / "broken.yml"
    broken.write_text(workflow.read_text().replace("contents: write", "contents: sometimes"))
    proc = check_schema(broken)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "sometimes" in proc.stdout + proc.stderr


def test_runs_on_a_schedule_and_by_hand(workflow: Path):
    on = load(workflow)["on"]
    crons = [entry["cron"] for entry in on["schedule"]]
    assert crons and all(len(cron.split()) == 5 for cron in crons), crons
    assert "workflow_dispatch" in on


def test_may_write_contents_and_nothing_else(workflow: Path):
    """The refresh pushes a commit; it needs no other scope of the token."""
    doc = load(workflow)
    assert doc["permissions"] == {"contents": "write"}
    assert all(
        job.get("permissions", doc["permissions"]) == doc["permissions"]
        for job in doc["jobs"].values()
    )


def test_one_refresh_at_a_time_never_cancelled(workflow: Path):
    """Overlapping runs would race to commit the summary: the group makes the next
    run wait; cancel-in-progress would stop one mid-push for nothing."""
    concurrency = load(workflow)["concurrency"]
    group = concurrency if isinstance(concurrency, str) else concurrency["group"]
    assert group.strip()
    assert isinstance(concurrency, str) or not concurrency.get("cancel-in-progress")


def test_the_token_reaches_only_the_refresh_and_only_through_env(workflow: Path):
    doc = load(workflow)
    refresh = [
        s for s in steps(doc) if s.get("run", "").startswith("pulseox-git dashboard refresh")
    ]
    assert len(refresh) == 1, steps(doc)
    assert refresh[0]["env"]["PULSEOX_TOKEN"] == TOKEN
    assert "--owner owner --repo repo" in refresh[0]["run"]
    assert all("secrets." not in step.get("run", "") for step in steps(doc))
    others = [step for step in steps(doc) if step is not refresh[0]]
    assert all("secrets." not in str(step.get("env", {})) for step in others)
    assert "env" not in doc and all("env" not in job for job in doc["jobs"].values())


def test_needs_no_checkout(workflow: Path):
    """pulseox-git clones what it needs itself, with the token kept off disk."""
    assert not [
        s for s in steps(load(workflow)) if s.get("uses", "").startswith("actions/checkout")
    ]


def test_sets_up_a_python_the_package_supports(workflow: Path):
    (setup,) = [
        s for s in steps(load(workflow)) if s.get("uses", "").startswith("actions/setup-python")
    ]
    version = setup["with"]["python-version"]
    assert isinstance(version, str), "unquoted, 3.10 would read as 3.1"
    pyproject = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert version in SpecifierSet(pyproject["project"]["requires-python"])


def test_installs_the_version_that_wrote_it(workflow: Path):
    from pulseox_git import __version__

    installs = [s["run"] for s in steps(load(workflow)) if "pip install" in s.get("run", "")]
    assert len(installs) == 1, installs
    assert f"pulseox-git=={__version__}" in shlex.split(installs[0])


@pytest.mark.slow  # check-jsonschema loads the schema in a process of its own
def test_another_install_line_for_a_fork_or_an_internal_index(cli, remote: Path, tmp_path: Path):
    spec = "git+https://git.example.com/acme/pulseox-git@v1"
    code, _, err = cli("init", "--owner", "owner", "--repo", "repo", "--install", spec)
    assert code == 0, err
    path = tmp_path / "w.yml"
    path.write_text(show(remote, WORKFLOW))
    installs = [s["run"] for s in steps(load(path)) if "pip install" in s.get("run", "")]
    assert shlex.split(installs[0]) == ["pip", "install", spec]
    assert check_schema(path).returncode == 0


@pytest.mark.parametrize("bad", ["", "a b", "x; rm -rf /", "$(id)", "--index-url=x"])
def test_a_bad_install_line_is_refused(cli, remote: Path, bad: str):
    from fixtures.repos import refs

    before = refs(remote)
    code, out, err = cli("init", "--owner", "owner", "--repo", "repo", "--install", bad)
    assert code == 2 and out == "" and repr(bad) in err
    assert refs(remote) == before


def test_a_hung_refresh_is_bounded(workflow: Path):
    """GitHub's default is 6 hours, during which the concurrency group waits."""
    assert all(0 < job["timeout-minutes"] <= 30 for job in load(workflow)["jobs"].values())
