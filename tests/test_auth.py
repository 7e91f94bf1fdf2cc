"""Tokens over the smart-HTTP fixture: used when right, refused when wrong, never leaked."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from fixtures.repos import log, refs
from pulseox_git.client import PulseOxClient
from pulseox_git.errors import AuthError, BadInputError
from pulseox_git.store.auth import clean_remote_url, git_auth_env, redact, register_secret

TOKEN = "canary-7f3a9c1e5b"


def leaks(text: str) -> bool:
    b64 = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    return TOKEN in text or b64 in text


def files_leak(*roots: Path) -> list[Path]:
    return [
        p
        for root in roots
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink() and leaks(p.read_bytes().decode("latin-1"))
    ]


def test_right_token_lands_and_is_stored_nowhere(http, http_repo, cli, cache_dir, monkeypatch):
    owner, repo, bare = http_repo
    http.set(token=TOKEN)
    monkeypatch.setenv("PULSEOX_TOKEN", TOKEN)
    code, out, err = cli(
        "post",
        "--owner",
        owner,
        "--repo",
        repo,
        "--remote",
        http.url(owner, repo),
        "--path",
        "a.md",
        "--content",
        "hello",
    )
    assert code == 0, err
    assert log(bare) == ["pulseox: a.md GOOD"]
    assert not leaks(out + err) and files_leak(cache_dir) == []
    assert any(auth for _m, _p, auth in http.requests)  # the token was really sent


def test_wrong_token_fails_clearly_and_lands_nothing(http, http_repo, cli, monkeypatch):
    owner, repo, bare = http_repo
    http.set(token=TOKEN)
    monkeypatch.setenv("PULSEOX_TOKEN", "wrong-" + TOKEN)
    code, out, err = cli(
        "post",
        "--owner",
        owner,
        "--repo",
        repo,
        "--remote",
        http.url(owner, repo),
        "--path",
        "a.md",
        "--content",
        "hello",
    )
    assert code == 1
    assert err.splitlines()[-1] == (
        f"error: authentication failed for {http.url(owner, repo)} while trying to fetch: "
        "check the token (PULSEOX_TOKEN, GITHUB_TOKEN or --token) and its access to the "
        "repository"
    )
    assert "Traceback" not in err and "wrong-" not in err + out
    assert refs(bare) == ""


def test_wrong_token_raises_auth_error_without_the_token(http, http_repo):
    owner, repo, _bare = http_repo
    http.set(token=TOKEN)
    client = PulseOxClient(token="nope-" + TOKEN, remote=http.url(owner, repo))
    with pytest.raises(AuthError) as info:
        client.post(owner, repo, "a.md", "x")
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)


def test_token_travels_in_the_environment_not_in_argv():
    env = git_auth_env(TOKEN, "https://example.invalid/o/r.git")
    assert env["GIT_CONFIG_KEY_0"] == "http.extraHeader" and env["GIT_CONFIG_VALUE_0"] == ""
    header = [v for k, v in env.items() if k.startswith("GIT_CONFIG_VALUE") and "Basic" in v]
    assert header == [
        "Authorization: Basic " + base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    ]
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert not any("Basic" in v for v in git_auth_env(TOKEN, "file:///x").values())


@pytest.mark.parametrize("url", ["https://user:pw@host/o/r.git", "http://tok@host/o/r.git"])
def test_credentials_in_urls_are_stripped(url):
    clean, stripped = clean_remote_url(url)
    assert stripped and "@" not in clean and clean.endswith("host/o/r.git")


@pytest.mark.parametrize("url", ["ext::sh -c touch% /tmp/pwned", "-uhelp", "fd::17", ""])
def test_command_running_urls_are_refused(url):
    with pytest.raises(BadInputError):
        clean_remote_url(url)


def test_redact_scrubs_every_form_of_a_secret():
    register_secret("s3cr3t-value")
    b64 = base64.b64encode(b"x-access-token:s3cr3t-value").decode()
    assert redact(f"a s3cr3t-value b {b64} https://u:p@h/x") == "a *** b *** https://***@h/x"
