"""The package as users get it: the sdist and the wheel built from a copy of the
checkout, checked, installed into a clean venv (and with pipx and uv where those
are on PATH), and run from outside the source tree.

The editable install the rest of the suite runs on sees every file of the
checkout, so it never noticed a subpackage left out of the wheel. These tests
rely only on the CLI and on globbing `pulseox_git/**/*.py`, never on internal
module names, so moving modules around keeps them valid.

Network: building (isolated, so setuptools comes from the registry) and
installing the wheel's dependencies use the package registry that pip (or pipx,
or uv) is configured with, as scripts/test does when it makes .venv. Nothing
else leaves the machine: every git remote is a bare repository on disk.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from fixtures.readme import make_remotes, run_console_sessions
from fixtures.repos import make_bare, show

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "pulseox_git"
LOCK = ROOT / "requirements.lock"
# Top-level names of the checkout that are local state, never part of a build.
LOCAL_STATE = {".git", ".venv", "build", "dist", ".bench"}
LOCAL_STATE |= {".pytest_cache", ".ruff_cache", ".hypothesis"}
NOT_SHIPPED = {"tests", "fixtures", "scripts", "docs", ".ci"}


@dataclass(frozen=True)
class Dists:
    sdist: Path
    wheel: Path
    version: str


def run(
    *args: str | os.PathLike,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure show its output, which says why."""
    proc = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout
    )
    assert proc.returncode == 0, f"$ {' '.join(map(str, args))}\n{proc.stdout}{proc.stderr}"
    return proc


def source_modules() -> set[str]:
    """Every module of the source tree, as paths relative to the checkout."""
    found = {p.relative_to(ROOT).as_posix() for p in (ROOT / PACKAGE).rglob("*.py")}
    assert f"{PACKAGE}/__init__.py" in found
    return found


def _ignore_local_state(folder: str, names: list[str]) -> set[str]:
    """copytree filter: caches everywhere, local state at the top."""
    ignored = {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".egg-info"))}
    if Path(folder) == ROOT:
        ignored |= LOCAL_STATE & set(names)
    return ignored


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """The sdist, and the wheel that `python -m build` makes FROM that sdist, built
    once for the module. A copy of the checkout is built, so the checkout gets no
    build/ or egg-info and a stale egg-info's file list cannot leak into the sdist."""
    src = tmp_path_factory.mktemp("src") / "pulseox-git"
    shutil.copytree(ROOT, src, ignore=_ignore_local_state)
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--outdir", out, src)
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    version = wheel.name.split("-")[1]
    return Dists(sdist, wheel, version)


def test_twine_check_passes_on_both(dists: Dists):
    run(sys.executable, "-m", "twine", "check", "--strict", dists.sdist, dists.wheel)


def test_wheel_holds_every_module_and_nothing_else(dists: Dists):
    names = set(zipfile.ZipFile(dists.wheel).namelist())
    missing = source_modules() - names
    assert not missing, f"modules missing from {dists.wheel.name}: {sorted(missing)}"
    top = {name.split("/")[0] for name in names}
    assert top == {PACKAGE, f"{PACKAGE}-{dists.version}.dist-info"}
    entry_points = (
        zipfile.ZipFile(dists.wheel)
        .read(f"{PACKAGE}-{dists.version}.dist-info/entry_points.txt")
        .decode()
    )
    assert re.search(r"^pulseox-git\s*=", entry_points, re.M), entry_points


def test_sdist_holds_the_sources_and_no_tests(dists: Dists):
    with tarfile.open(dists.sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    missing = source_modules() - names
    assert not missing, f"modules missing from {dists.sdist.name}: {sorted(missing)}"
    assert {"pyproject.toml", "README.md", "PKG-INFO"} <= names
    shipped = {name.split("/")[0] for name in names} & NOT_SHIPPED
    assert not shipped, f"{dists.sdist.name} ships {sorted(shipped)}"


# -- installed and run --------------------------------------------------------------------


def clean_env(bin_dir: Path, **extra: str) -> dict[str, str]:
    """The test's environment (isolated HOME, git identity, cache) without anything
    that could let the checkout or the project's .venv in: no PYTHONPATH, no
    VIRTUAL_ENV, and `bin_dir` first on a PATH that lacks .venv/bin."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"}
    }
    project_bin = Path(sys.executable).parent
    path = [
        p
        for p in env.get("PATH", "").split(os.pathsep)
        if p and Path(p).resolve() != project_bin.resolve() and ROOT not in Path(p).parents
    ]
    env["PATH"] = os.pathsep.join([str(bin_dir), *path])
    env.update(extra)
    return env


def interpreter_of(script: Path) -> Path:
    """The Python an installed console script runs on, wherever the installer put
    its venv: its shebang or, where that path is too long for one, the path in
    pip's `#!/bin/sh` launcher's exec line."""
    head = script.resolve().read_text(errors="replace")[:1000]
    found = re.match(r"#!/bin/sh\n'''exec' \"?([^\"\s]+)|#!(\S+)", head)
    assert found, f"{script}: unexpected launcher {head.splitlines()[0]!r}"
    python = Path(found.group(1) or found.group(2))
    assert python.exists(), f"{script}: launcher names missing {python}"
    return python


def smoke(command: Path, version: str, tmp_path: Path) -> None:
    """What a user does first, with an installed `pulseox-git`, from a folder that
    is not the checkout: post a page, watch it, refresh the dashboard; git itself
    then reads what landed in the bare repository."""
    python = interpreter_of(command)
    bare = make_bare(tmp_path / "remotes" / "acme" / "status.git")
    env = clean_env(
        command.parent, PULSEOX_GIT_REMOTE=f"file://{tmp_path / 'remotes'}/{{owner}}/{{repo}}.git"
    )
    work = tmp_path / "work"
    work.mkdir()

    def cli(*args: str) -> str:
        return run(command, *args, env=env, cwd=work, timeout=120).stdout

    origin = run(
        python, "-c", f"import {PACKAGE}; print({PACKAGE}.__file__)", env=env, cwd=work
    ).stdout.strip()
    assert ROOT not in Path(origin).parents, f"imported from the checkout: {origin}"
    assert cli("--version").strip() == f"pulseox-git {version}"
    out = run(python, "-m", PACKAGE, "--version", env=env, cwd=work).stdout
    assert out.strip() == f"pulseox-git {version}"

    where = ["--owner", "acme", "--repo", "status"]
    assert "1 created" in cli(
        "post",
        *where,
        "--path",
        "jobs/smoke.md",
        "--content",
        "smoke test from the wheel",
        "--note",
        "installed",
    )
    cli("spec", "add", *where, "--path", "jobs/smoke.md", "--schedule", "1d")
    summary = cli("dashboard", "refresh", *where)
    assert re.search(r"^# OK\n- \[jobs/smoke\.md\]\(jobs/smoke\.md\) installed ", summary, re.M)

    page = show(bare, "jobs/smoke.md")
    assert page.startswith("smoke test from the wheel") and "- report: GOOD" in page
    assert "jobs/smoke.md" in show(bare, "pulseox.toml")
    assert re.search(r"^# OK\n- \[jobs/smoke\.md\]", show(bare, "summary.md"), re.M)


def pip_install_locked(python: Path, target: str | Path, env: dict[str, str]) -> None:
    """Install `target` as scripts/lib/venv.sh installs the project: the lock as
    constraints, and unpinned (with a warning) when the registry cannot serve a pin."""
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    proc = subprocess.run(
        [*map(str, pip), "-c", str(LOCK), str(target)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if proc.returncode:
        warnings.warn(
            f"could not install the locked versions; installing unpinned:\n{proc.stderr}",
            stacklevel=2,
        )
        run(*pip, target, env=env)


@pytest.fixture(scope="module")
def venv_command(dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pulseox-git` from the wheel, pip-installed into a new venv (made with the
    Python running the tests, not the project's .venv), shared by the module."""
    venv = tmp_path_factory.mktemp("venv") / "venv"
    run(sys.executable, "-m", "venv", venv)
    pip_install_locked(venv / "bin" / "python", dists.wheel, clean_env(venv / "bin"))
    return venv / "bin" / "pulseox-git"


def test_the_wheel_works_in_a_clean_venv(venv_command: Path, dists: Dists, tmp_path: Path):
    smoke(venv_command, dists.version, tmp_path)


def test_every_readme_command_runs_from_the_wheel(venv_command: Path, tmp_path: Path):
    """The README's console sessions, with the installed command first on PATH and
    nothing of the checkout importable: what a user who ran `pip install` sees."""
    work = tmp_path / "work"
    work.mkdir()
    remotes = make_remotes(tmp_path / "remotes")
    env = clean_env(venv_command.parent, PULSEOX_GIT_REMOTE=remotes)
    run_console_sessions((ROOT / "README.md").read_text(), work, env)


def tool(name: str) -> Path:
    """An installer found on PATH; the test is skipped where there is none (the
    suite never installs one)."""
    found = shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not on PATH: nothing to install the wheel with")
    return Path(found)


def test_the_wheel_works_from_pipx(dists: Dists, tmp_path: Path):
    """pipx with its pip backend (uv has its own test); every folder it writes is
    under tmp_path."""
    pipx = tool("pipx")
    tools = tmp_path / "pipx"
    env = clean_env(
        tools / "bin",
        PIPX_HOME=str(tools / "home"),
        PIPX_BIN_DIR=str(tools / "bin"),
        PIPX_MAN_DIR=str(tools / "man"),
        PIPX_COMPLETION_DIR=str(tools / "completion"),
        PIPX_DEFAULT_BACKEND="pip",
    )
    run(pipx, "install", "--python", sys.executable, dists.wheel, env=env, cwd=tmp_path)
    smoke(tools / "bin" / "pulseox-git", dists.version, tmp_path)


def test_the_wheel_works_from_uv_tool(dists: Dists, tmp_path: Path):
    """`uv tool install` on the Python running the tests (never a downloaded one);
    every folder it writes, its cache too, is under tmp_path."""
    uv = tool("uv")
    tools = tmp_path / "uv"
    env = clean_env(
        tools / "bin",
        UV_TOOL_DIR=str(tools / "tools"),
        UV_TOOL_BIN_DIR=str(tools / "bin"),
        UV_CACHE_DIR=str(tools / "cache"),
        UV_PYTHON_INSTALL_DIR=str(tools / "python"),
        UV_PYTHON_DOWNLOADS="never",
    )
    run(uv, "tool", "install", "--python", sys.executable, dists.wheel, env=env, cwd=tmp_path)
    smoke(tools / "bin" / "pulseox-git", dists.version, tmp_path)
