"""Shared fixtures: an isolated git environment, bare repositories per test, and
one smart-HTTP git server and one fake GitHub API for the whole session."""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fixtures.git_http import GitHttpServer  # noqa: E402
from fixtures.github_api import GitHubApiServer  # noqa: E402
from fixtures.repos import IDENTITY, make_bare  # noqa: E402

_counter = itertools.count()


@pytest.fixture(scope="session", autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory):
    """No user or system git config, a fixed identity, and no inherited tokens."""
    home = tmp_path_factory.mktemp("home")
    saved = dict(os.environ)
    for name in (
        "PULSEOX_TOKEN",
        "GITHUB_TOKEN",
        "PULSEOX_GIT_REMOTE",
        "PULSEOX_API_URL",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "XDG_CONFIG_HOME",
    ):
        os.environ.pop(name, None)
    os.environ.update(IDENTITY)
    os.environ.update(
        {
            "HOME": str(home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "XDG_CACHE_HOME": str(home / "xdg-cache-unused"),
            "PULSEOX_GIT_TIMEOUT": "30",
        }
    )
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def fresh_secrets():
    """Secrets one test registers for redaction (say 'tok' from a URL) must not
    hide words in the next test's output."""
    from pulseox_git.store import auth

    saved = set(auth._secrets)
    yield
    auth._secrets.clear()
    auth._secrets.update(saved)


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own cache, so no test sees another's clones."""
    path = tmp_path / "cache"
    monkeypatch.setenv("PULSEOX_GIT_CACHE", str(path))
    return path


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    """An empty bare repository at <tmp>/remotes/owner/repo.git."""
    return make_bare(tmp_path / "remotes" / "owner" / "repo.git")


@pytest.fixture
def remote(bare: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`bare`, made the default remote of owner/repo through $PULSEOX_GIT_REMOTE."""
    monkeypatch.setenv("PULSEOX_GIT_REMOTE", f"file://{bare.parent.parent}/{{owner}}/{{repo}}.git")
    return bare


@pytest.fixture(scope="session")
def http_server(tmp_path_factory: pytest.TempPathFactory):
    with GitHttpServer(tmp_path_factory.mktemp("http-root")) as server:
        yield server


@pytest.fixture
def http(http_server: GitHttpServer):
    """The session's HTTP git server, reset to no token and no fault after the test."""
    yield http_server
    http_server.set(token=None, fault=None)
    http_server.requests.clear()


@pytest.fixture
def http_repo(http: GitHttpServer) -> tuple[str, str, Path]:
    """A fresh bare repository served over HTTP: (owner, repo, path on disk)."""
    owner = f"owner{next(_counter)}"
    path = make_bare(http.httpd.root / owner / "status.git")
    return owner, "status", path


@pytest.fixture(scope="session")
def api_server(tmp_path_factory: pytest.TempPathFactory):
    with GitHubApiServer(tmp_path_factory.mktemp("api-root")) as server:
        yield server


@pytest.fixture
def api(api_server: GitHubApiServer, monkeypatch: pytest.MonkeyPatch):
    """The session's fake GitHub API (`api.new_repo()` makes a repository), reset after
    the test; $PULSEOX_GIT_REMOTE points git at the same bare repositories, so git
    and the API can be compared on the same data."""
    monkeypatch.setenv(
        "PULSEOX_GIT_REMOTE", f"file://{api_server.httpd.root}/{{owner}}/{{repo}}.git"
    )
    api_server.reset()
    yield api_server
    api_server.reset()


@pytest.fixture
def cli(capsys: pytest.CaptureFixture):
    """Run the CLI in-process: returns (exit code, stdout, stderr)."""
    from pulseox_git.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run
