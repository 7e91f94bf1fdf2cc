"""Choosing the transport: auto falls back to the API only for transport reasons, and
the API gives the same results as git (commits, history, dashboard, CLI)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from fixtures.github_api import GitHubApiServer
from fixtures.repos import commit_files, git, log, make_bare, refs, show
from pulseox_git.client import PulseOxClient
from pulseox_git.errors import AuthError
from pulseox_git.page import parse
from pulseox_git.store.api import ApiStore
from pulseox_git.store.git import GitStore
from pulseox_git.store.select import AutoStore, open_store

FIXED = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
TOKEN = "canary-api-5d1e9b7c"


def client(api: GitHubApiServer, **kw) -> PulseOxClient:
    """A client that only talks to the fake API, with a fixed clock."""
    return PulseOxClient(transport="api", api_url=api.url, clock=lambda: FIXED, **kw)


def test_the_api_writes_the_very_commits_git_writes(api, tmp_path):
    """Same posts, same clock: the API's commits are byte for byte git's commits."""
    owner, bare = api.new_repo()
    by_git = make_bare(tmp_path / "git" / owner / "status.git")
    commit_files(bare, {"README.md": "hi\n"}, date="2026-05-01T11:00:00Z")
    git("push", "--quiet", str(by_git), "main", cwd=bare)
    pages = [
        {"path": "jobs/a.md", "content": "a"},
        {"path": "b.md", "content": "b", "report": "BAD", "note": "boom"},
    ]
    for transport, remote in (("api", None), ("git", f"file://{by_git}")):
        c = PulseOxClient(transport=transport, api_url=api.url, remote=remote, clock=lambda: FIXED)
        c.post(owner, "status", "jobs/a.md", "first")
        c.post_many(owner, "status", pages)
        dry = PulseOxClient(
            transport=transport, api_url=api.url, remote=remote, clock=lambda: FIXED, dry_run=True
        )
        planned = dry.post_many(owner, "status", [{"path": "new/c.md", "content": "c"}])
        assert planned.dry_run and planned.created == ("new/c.md",)
        if transport == "api":
            api_planned = planned.sha
    assert git("rev-parse", "main", cwd=bare) == git("rev-parse", "main", cwd=by_git)
    assert api_planned == planned.sha  # a dry run over the API computes git's commit id


def test_auto_uses_git_and_falls_back_only_for_transport_reasons(
    api, http, http_repo, caplog, monkeypatch
):
    owner, bare = api.new_repo()
    auto = PulseOxClient(api_url=api.url)  # git reachable: git does the work
    auto.post(owner, "status", "a.md", "x")
    assert api.requests == [] and isinstance(auto.store(owner, "status").chosen, GitStore)
    # the git endpoint is unreachable: the API does it, and says why on stderr
    dead = PulseOxClient(api_url=api.url, remote="http://127.0.0.1:9/{owner}/{repo}.git")
    with caplog.at_level("WARNING", logger="pulseox_git"):
        dead.post(owner, "status", "b.md", "y")
    assert f"falling back to the GitHub API at {api.url}" in caplog.text
    assert log(bare) == ["pulseox: b.md GOOD", "pulseox: a.md GOOD"] and api.requests
    # a wrong token on a reachable git remote is reported, never hidden by a fallback
    h_owner, h_repo, h_bare = http_repo
    http.set(token=TOKEN)
    api.reset()
    wrong = PulseOxClient(token="wrong", api_url=api.url, remote=http.url(h_owner, h_repo))
    with pytest.raises(AuthError):
        wrong.post(h_owner, h_repo, "a.md", "x")
    assert api.requests == [] and refs(h_bare) == ""


def test_auto_never_falls_back_to_another_host_than_the_remote(tmp_path):
    url = f"file://{tmp_path}/{{owner}}/{{repo}}.git"
    assert isinstance(open_store("o", "r", remote=url), GitStore)
    assert isinstance(open_store("o", "r"), AutoStore)  # github.com -> api.github.com
    assert isinstance(open_store("o", "r", remote=url, api_url="http://127.0.0.1:1"), AutoStore)
    assert isinstance(open_store("o", "r", transport="api"), ApiStore)


@pytest.mark.slow
def test_auto_falls_back_when_git_is_not_on_path(api, tmp_path):
    """The CLI in a subprocess whose PATH has python but no git: same results via the API."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSEOX")}
    env.update(
        PATH=str(bin_dir),
        PULSEOX_API_URL=api.url,
        PULSEOX_GIT_REMOTE=os.environ["PULSEOX_GIT_REMOTE"],
        PULSEOX_GIT_CACHE=str(tmp_path / "cache"),
    )
    assert shutil.which("git", path=env["PATH"]) is None
    results = {}
    for name, transport in (("fallback", "auto"), ("git", "git")):
        owner, bare = api.new_repo()
        commit_files(bare, {"README.md": "status pages\n"})
        (tmp_path / "pages.toml").write_text(
            '[[page]]\npath = "jobs/a.md"\ncontent = "a"\n\n'
            '[[page]]\npath = "jobs/b.md"\ncontent = "b"\nreport = "BAD"\nnote = "n"\n'
        )
        run_env = env if name == "fallback" else {**os.environ}
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pulseox_git",
                "batch",
                "--owner",
                owner,
                "--repo",
                "status",
                str(tmp_path / "pages.toml"),
                "--transport",
                transport,
            ],
            capture_output=True,
            text=True,
            env=run_env,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        results[name] = (proc, bare)
    proc, bare = results["fallback"]
    assert "falling back to the GitHub API" in proc.stderr
    assert "git is not installed or not on PATH" in proc.stderr
    _git_proc, git_bare = results["git"]
    for path in ("jobs/a.md", "jobs/b.md"):
        mine, theirs = parse(show(bare, path)), parse(show(git_bare, path))
        assert (mine.content, mine.report, mine.note) == (
            theirs.content,
            theirs.report,
            theirs.note,
        )
    assert git("log", "--format=%B", "main", cwd=bare) == git(
        "log", "--format=%B", "main", cwd=git_bare
    )
    assert git("rev-list", "--count", "main", cwd=bare).strip() == "2"  # README, the batch
    forced = subprocess.run(  # --transport git without git: a clear error, no fallback
        [
            sys.executable,
            "-m",
            "pulseox_git",
            "batch",
            "--owner",
            "o",
            "--repo",
            "r",
            str(tmp_path / "pages.toml"),
            "--transport",
            "git",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert forced.returncode == 1 and forced.stderr.splitlines()[-1] == (
        "error: git is not installed or not on PATH"
    )


def test_unknown_transport_and_bad_api_url_are_bad_input(cli):
    code, _out, err = cli(
        "post",
        "--owner",
        "o",
        "--repo",
        "r",
        "--path",
        "a.md",
        "--content",
        "x",
        "--transport",
        "carrier-pigeon",
    )
    assert code == 2 and "'carrier-pigeon'" in err
    code, _out, err = cli(
        "post",
        "--owner",
        "o",
        "--repo",
        "r",
        "--path",
        "a.md",
        "--content",
        "x",
        "--transport",
        "api",
        "--api-url",
        "ftp://x",
    )
    assert code == 2 and "'ftp://x'" in err


@pytest.mark.slow
def test_a_dashboard_refresh_over_the_api_equals_the_git_one(api):
    """Same repositories, same clock: the same sections, notes and Changes either way;
    the API writes its summary, spec file and state as ONE commit."""
    from datetime import timedelta

    from pulseox_git.dashboard import STATE_FILE, PulseOxDashboard
    from pulseox_git.page import render
    from pulseox_git.specs import PulseOxSpec

    owner, bare = api.new_repo()
    other, _other_bare = api.new_repo()
    day = timedelta(days=1)

    def poster(at):
        return PulseOxClient(transport="git", clock=lambda: at)

    poster(FIXED - 3 * day).post(owner, "status", "jobs/stale.md", "old")
    poster(FIXED).post_many(
        owner,
        "status",
        [
            {"path": "jobs/ok.md", "content": "fine"},
            {"path": "jobs/bad.md", "content": "x", "report": "BAD", "note": "exit 3"},
        ],
    )
    commit_files(
        bare,
        {
            "jobs/hand.md": "edited without a footer",
            "jobs/copied.md": render("jobs/copied.md", "x", "GOOD", FIXED - 2 * day),
        },
        date="2026-05-01T12:00:00Z",
    )
    poster(FIXED).post(other, "status", "elsewhere.md", "x", note="far away")
    specs = [
        PulseOxSpec(owner, "status", f"jobs/{name}.md", "1d")
        for name in ("ok", "bad", "stale", "hand", "copied", "never")
    ]
    specs.append(PulseOxSpec(other, "status", "elsewhere.md", "2h", "10m"))

    def board(transport, at, **kw):
        c = PulseOxClient(transport=transport, api_url=api.url, clock=lambda: at)
        return PulseOxDashboard(
            owner=owner, repo="status", spec_list=specs, clock=lambda: at, client=c, **kw
        )

    now = FIXED + timedelta(hours=1)
    by_git, by_api = board("git", now).refresh(), board("api", now).refresh()
    assert by_api.summary.text == by_git.summary.text
    assert {e.status for e in by_api.summary.entries} == {"OK", "ERROR", "MISSING"}
    assert "footer time" in by_api.summary.text and "exit 3" in by_api.summary.text

    planned = {t: board(t, now, dry_run=True).write_summary().published for t in ("git", "api")}
    assert planned["api"].sha == planned["git"].sha and refs(bare).count("\n") == 1

    before = int(git("rev-list", "--count", "main", cwd=bare))
    written = board("api", now).write_summary().published
    assert int(git("rev-list", "--count", "main", cwd=bare)) == before + 1
    assert git("rev-parse", "main", cwd=bare).strip() == written.sha
    touched = git("show", "--name-only", "--format=", "main", cwd=bare).split()
    assert {"summary.md", "pulseox.toml", STATE_FILE} <= set(touched)

    later = now + timedelta(hours=2)  # elsewhere.md: 2h + 10m grace have passed
    poster(later).post(owner, "status", "jobs/ok.md", "broken", report="BAD", note="disk")
    by_git, by_api = board("git", later).refresh(), board("api", later).refresh()
    assert by_api.summary.text == by_git.summary.text
    assert [(e.spec.path, e.previous, e.status) for e in by_api.summary.changes] == [
        ("jobs/ok.md", "OK", "ERROR"),
        ("elsewhere.md", "OK", "MISSING"),
    ]


def test_spec_add_and_dashboard_refresh_from_the_cli_over_the_api(api, cli):
    owner, bare = api.new_repo()
    over_api = ["--transport", "api", "--api-url", api.url]
    code, _out, err = cli(
        "post",
        "--owner",
        owner,
        "--repo",
        "status",
        "--path",
        "jobs/a.md",
        "--content",
        "ok",
        *over_api,
    )
    assert code == 0, err
    code, out, err = cli(
        "spec",
        "add",
        "--owner",
        owner,
        "--repo",
        "status",
        "--path",
        "jobs/a.md",
        "--schedule",
        "1d",
        *over_api,
    )
    assert code == 0 and "watch" in out, err
    code, out, err = cli("dashboard", "refresh", "--owner", owner, "--repo", "status", *over_api)
    assert code == 0 and "# OK\n- [jobs/a.md](jobs/a.md)" in out, err
    assert f"to {api.url}/repos/{owner}/status" in err
    code, shown, err = cli("dashboard", "show", "--owner", owner, "--repo", "status", *over_api)
    assert code == 0 and shown == out, err
    assert log(bare) == [
        "pulseox: dashboard 0 ERROR, 0 MISSING, 1 OK (1 changed)",
        f"pulseox: watch {owner}/status:jobs/a.md every 1d",
        "pulseox: jobs/a.md GOOD",
    ]


def test_history_command_through_auto_and_over_the_api(api, cli, monkeypatch):
    owner, _bare = api.new_repo()
    client(api).post(owner, "status", "a.md", "x", note="first")
    client(api).post(owner, "status", "a.md", "y", report="BAD", note="second")
    monkeypatch.setenv("PULSEOX_API_URL", api.url)  # auto may fall back: an AutoStore
    outputs = []
    for extra in ([], ["--transport", "api"], ["--remote", "http://127.0.0.1:9/o/r.git"]):
        code, out, err = cli(
            "history", "--owner", owner, "--repo", "status", "--path", "a.md", *extra
        )
        assert code == 0, err
        outputs.append(out)
    assert outputs[0] == outputs[1] == outputs[2]
    assert [line.split()[3::2] for line in outputs[0].splitlines()] == [
        ["BAD", "second"],
        ["GOOD", "first"],
    ]
