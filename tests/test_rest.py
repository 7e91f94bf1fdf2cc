"""The GitHub REST API fallback, against a fake GitHub API on top of real bare repos:
what the API calls wrote is checked with plain git."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fixtures.github_api import GitHubApiServer
from fixtures.repos import commit_files, git, log, make_bare, refs, show
from pulseox_git.client import PulseOxClient
from pulseox_git.errors import AuthError, RemoteError
from pulseox_git.gitstore import Change, GitStore
from pulseox_git.page import parse, parse_trailers
from pulseox_git.rest import ApiStore
from pulseox_git.rest_http import RateLimitError, UnreachableApiError
from pulseox_git.transport import AutoStore, open_store

FIXED = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
TOKEN = "canary-api-5d1e9b7c"
_owners = itertools.count()


@pytest.fixture(scope="session")
def api_server(tmp_path_factory: pytest.TempPathFactory):
    with GitHubApiServer(tmp_path_factory.mktemp("api-root")) as server:
        yield server


@pytest.fixture
def api(api_server: GitHubApiServer, monkeypatch: pytest.MonkeyPatch):
    """The session's fake API, reset after the test; $PULSEOX_GIT_REMOTE points at the
    same bare repositories, so git and the API can be compared on the same data."""
    root = api_server.httpd.root
    monkeypatch.setenv("PULSEOX_GIT_REMOTE", f"file://{root}/{{owner}}/{{repo}}.git")
    api_server.reset()
    yield api_server
    api_server.reset()


def new_repo(api: GitHubApiServer) -> tuple[str, Path]:
    owner = f"api{next(_owners)}"
    return owner, make_bare(api.httpd.root / owner / "status.git")


def client(api: GitHubApiServer, **kw) -> PulseOxClient:
    return PulseOxClient(transport="api", api_url=api.url, clock=lambda: FIXED, **kw)


def test_post_creates_then_updates_a_page(api):
    owner, bare = new_repo(api)
    first = client(api).post(owner, "status", "jobs/a.md", "all fine\n", note="run 1")
    second = client(api).post(owner, "status", "jobs/a.md", "broken\n", report="BAD")
    assert (first.status_code, second.status_code) == (201, 200)
    assert git("rev-parse", "main", cwd=bare).strip() == second.sha
    assert log(bare) == ["pulseox: jobs/a.md BAD", "pulseox: jobs/a.md GOOD"]
    footer = parse(show(bare, "jobs/a.md"))
    assert (footer.content, footer.report, footer.updated) == ("broken\n", "BAD", FIXED)
    assert git("log", "-1", "--format=%ct %cn", "main", cwd=bare).split()[0] == str(
        int(FIXED.timestamp()))
    assert api.kinds().count("contents-put") == 2 and "update-ref" not in api.kinds()
    assert git("fsck", "--strict", cwd=bare) == ""


def test_the_api_writes_the_very_commits_git_writes(api, tmp_path):
    """Same posts, same clock: the API's commits are byte for byte git's commits."""
    owner, bare = new_repo(api)
    by_git = make_bare(tmp_path / "git" / owner / "status.git")
    commit_files(bare, {"README.md": "hi\n"}, date="2026-05-01T11:00:00Z")
    git("push", "--quiet", str(by_git), "main", cwd=bare)
    pages = [{"path": "jobs/a.md", "content": "a"}, {"path": "b.md", "content": "b",
                                                      "report": "BAD", "note": "boom"}]
    for transport, remote in (("api", None), ("git", f"file://{by_git}")):
        c = PulseOxClient(transport=transport, api_url=api.url, remote=remote,
                          clock=lambda: FIXED)
        c.post(owner, "status", "jobs/a.md", "first")
        c.post_many(owner, "status", pages)
        dry = PulseOxClient(transport=transport, api_url=api.url, remote=remote,
                            clock=lambda: FIXED, dry_run=True)
        planned = dry.post_many(owner, "status", [{"path": "new/c.md", "content": "c"}])
        assert planned.dry_run and planned.created == ("new/c.md",)
        if transport == "api":
            api_planned = planned.sha
    assert git("rev-parse", "main", cwd=bare) == git("rev-parse", "main", cwd=by_git)
    assert api_planned == planned.sha  # a dry run over the API computes git's commit id


def test_batch_lands_as_one_commit_with_trailers(api):
    owner, bare = new_repo(api)
    commit_files(bare, {"README.md": "hand written\n"})
    pages = [{"path": f"jobs/p{i}.md", "content": f"page {i}", "report": "BAD" if i == 2
              else "GOOD", "note": f"note {i}"} for i in range(5)]
    result = client(api).post_many(owner, "status", pages)
    assert result.status_code == 201 and len(result.created) == 5
    assert git("rev-list", "--count", "main", cwd=bare).strip() == "2"
    assert git("rev-parse", "main", cwd=bare).strip() == result.sha
    message = git("log", "-1", "--format=%B", "main", cwd=bare)
    assert [(p.path, p.report, p.note) for p in parse_trailers(message)] == [
        (f"jobs/p{i}.md", "BAD" if i == 2 else "GOOD", f"note {i}") for i in range(5)]
    names = git("ls-tree", "-r", "--name-only", "main", cwd=bare).split()
    assert names == ["README.md", *[f"jobs/p{i}.md" for i in range(5)]]
    kinds = api.kinds()
    assert [kinds.count(k) for k in ("create-tree", "create-commit", "update-ref")] == [1, 1, 1]


def test_a_batch_on_an_empty_repository_and_a_binary_file(api):
    owner, bare = new_repo(api)
    store = ApiStore(owner, "status", api_url=api.url)
    files = {"a.md": b"text", "bin/blob.dat": b"\xff\x00\xfe", "b.md": b"more"}
    result = store.publish(lambda _store, _tip: Change(files, "seed\n", FIXED))
    assert result.created == ("a.md", "bin/blob.dat", "b.md")
    raw = subprocess.run(["git", "cat-file", "blob", "main:bin/blob.dat"], cwd=bare,
                         capture_output=True, check=True).stdout
    assert raw == b"\xff\x00\xfe" and show(bare, "b.md") == "more"
    # GitHub's Git Data API refuses empty repositories: the first file seeds the branch
    assert log(bare) == ["seed", "seed"] and "create-blob" in api.kinds()


def test_conflict_mid_batch_is_retried_and_both_land(api):
    owner, bare = new_repo(api)
    commit_files(bare, {"seed.md": "seed"})
    api.inject_commit({"other.md": "theirs"}, before="update-ref")
    result = client(api).post_many(owner, "status", [{"path": "x.md", "content": "x"},
                                                     {"path": "y.md", "content": "y"}])
    assert result.attempts == 2
    assert log(bare) == ["pulseox: post 2 pages (2 GOOD, 0 BAD)", "their commit", "hand edit"]
    assert show(bare, "other.md") == "theirs" and parse(show(bare, "x.md")).content == "x"
    assert api.kinds().count("update-ref") == 2


def test_single_post_conflict_is_reread_and_retried(api):
    owner, bare = new_repo(api)
    client(api).post(owner, "status", "a.md", "mine")
    api.inject_commit({"a.md": "edited meanwhile"}, before="contents-put")
    result = client(api).post(owner, "status", "a.md", "mine again")
    assert result.attempts == 2 and result.status_code == 200
    assert log(bare) == ["pulseox: a.md GOOD", "their commit", "pulseox: a.md GOOD"]
    assert parse(show(bare, "a.md")).content == "mine again"


def test_paths_through_symlinks_or_onto_folders_are_refused(api, cli):
    owner, bare = new_repo(api)
    commit_files(bare, {"dir/inner.md": "x"}, symlinks={"link": "/tmp"})
    before = refs(bare)
    for path, kind in (("link/x.md", "symlink"), ("dir", "folder")):
        code, _out, err = cli("post", "--owner", owner, "--repo", "status", "--path", path,
                              "--content", "x", "--transport", "api", "--api-url", api.url)
        assert code == 2 and repr(path) in err and kind in err, err
    assert refs(bare) == before


def test_rate_limit_with_retry_after_is_waited_out(api):
    owner, bare = new_repo(api)
    waits: list[float] = []
    api.rate_limit(2, retry_after=1)
    store = ApiStore(owner, "status", api_url=api.url, sleep=waits.append)
    store.publish(lambda _s, _tip: Change({"a.md": b"x"}, "one\n", FIXED))
    assert waits[:2] == [1.0, 1.0] and log(bare) == ["one"]


def test_rate_limit_waits_for_real_from_the_cli(api, cli):
    owner, bare = new_repo(api)
    api.rate_limit(1, retry_after=1, status=429)
    code, _out, err = cli("post", "--owner", owner, "--repo", "status", "--path", "a.md",
                          "--content", "x", "--transport", "api", "--api-url", api.url)
    assert code == 0 and "secondary rate limit" in err and "waiting 1s" in err
    assert log(bare) == ["pulseox: a.md GOOD"]


@pytest.mark.parametrize("retry_after, named", [
    (30, "secondary rate limit (Retry-After: 30)"),
    (None, "core rate limit of 5000 requests (resets at")])
def test_a_longer_rate_limit_fails_naming_the_limit(api, cli, monkeypatch, retry_after, named):
    owner, bare = new_repo(api)
    monkeypatch.setenv("PULSEOX_API_MAX_WAIT", "5")
    api.rate_limit(1, retry_after=retry_after, reset_in=3600)
    code, _out, err = cli("post", "--owner", owner, "--repo", "status", "--path", "a.md",
                          "--content", "x", "--transport", "api", "--api-url", api.url)
    assert code == 1 and named in err and "PULSEOX_API_MAX_WAIT" in err, err
    assert "Traceback" not in err and refs(bare) == ""
    with pytest.raises(RateLimitError):
        api.rate_limit(1, retry_after=retry_after, reset_in=3600)
        ApiStore(owner, "status", api_url=api.url).tip()


def test_wrong_token_fails_clearly_without_the_token(api, cli, monkeypatch):
    owner, bare = new_repo(api)
    api.set_token(TOKEN)
    monkeypatch.setenv("PULSEOX_TOKEN", "wrong-" + TOKEN)
    args = ["post", "--owner", owner, "--repo", "status", "--path", "a.md", "--content", "x",
            "--transport", "api", "--api-url", api.url]
    code, out, err = cli(*args)
    assert code == 1 and "rejected the token" in err and "401 Bad credentials" in err
    assert TOKEN not in out + err and "Traceback" not in err
    code, out, err = cli(*args, "-v")  # not in the details either
    assert code == 1 and "Traceback" in err and TOKEN not in out + err
    assert refs(bare) == ""
    with pytest.raises(AuthError) as info:
        ApiStore(owner, "status", token="nope-" + TOKEN, api_url=api.url).tip()
    assert TOKEN not in str(info.value) + repr(info.value)


def test_right_token_goes_only_in_the_authorization_header(api, cli, monkeypatch, cache_dir):
    owner, bare = new_repo(api)
    api.set_token(TOKEN)
    monkeypatch.setenv("PULSEOX_TOKEN", TOKEN)
    code, out, err = cli("post", "--owner", owner, "--repo", "status", "--path", "a.md",
                         "--content", "x", "--transport", "api", "--api-url", api.url, "-v")
    assert code == 0, err
    assert all(had_auth for *_rest, had_auth in api.requests)
    assert TOKEN not in out + err + "".join(str(r) for r in api.requests)
    assert not any(TOKEN in p.read_text(errors="replace") for p in cache_dir.rglob("*")
                   if p.is_file()) and log(bare) == ["pulseox: a.md GOOD"]


def test_no_token_on_a_private_repository_and_missing_repositories_say_so(api, cli):
    owner, _bare = new_repo(api)
    api.set_token(TOKEN)
    code, _out, err = cli("post", "--owner", owner, "--repo", "status", "--path", "a.md",
                          "--content", "x", "--transport", "api", "--api-url", api.url)
    assert code == 1 and f"no repository {owner}/status" in err and "no token" in err
    api.set_token(None)
    code, _out, err = cli("post", "--owner", owner, "--repo", "nothere", "--path", "a.md",
                          "--content", "x", "--transport", "api", "--api-url", api.url)
    assert code == 1 and f"no repository {owner}/nothere at {api.url}" in err


def test_server_errors_are_retried_then_reported(api, cli):
    owner, bare = new_repo(api)
    api.fail(1, 502)
    assert client(api).post(owner, "status", "a.md", "x").status_code == 201
    api.fail(3, 503)
    code, _out, err = cli("post", "--owner", owner, "--repo", "status", "--path", "b.md",
                          "--content", "x", "--transport", "api", "--api-url", api.url)
    assert code == 1 and "failed with 503" in err and "3 attempts" in err
    assert log(bare) == ["pulseox: a.md GOOD"]


def test_a_silent_api_times_out():
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        store = ApiStore("o", "r", api_url=url, timeout=0.3)
        with pytest.raises(UnreachableApiError, match=r"did not answer within 0.3s"):
            store.tip()


def test_history_over_the_api_equals_git_history(api):
    owner, bare = new_repo(api)
    c = client(api)
    c.post_many(owner, "status", [{"path": "a.md", "content": "x"},
                                  {"path": "b.md", "content": "y", "report": "BAD",
                                   "note": "boom"}])
    commit_files(bare, {"a.md": "no footer", "c.md": "z"}, date="2026-05-01T13:00:00Z")
    commit_files(bare, {"b.md": None}, date="2026-05-01T14:00:00Z")
    c.post(owner, "status", "a.md", "back", report="BAD", note="again")
    paths = ["a.md", "b.md", "never.md"]
    over_api = c.store(owner, "status")
    by_api = over_api.run(lambda tip: over_api.history(tip, paths))
    by_git_store = GitStore(f"file://{bare}")
    by_git = by_git_store.run(lambda tip: by_git_store.history(tip, paths, cache=False))
    assert by_api == by_git
    assert [(r.report, r.problem) for r in by_api["a.md"]] == [
        ("BAD", None), (None, "no metadata footer"), ("GOOD", None)]
    assert by_api["b.md"][0].problem == "deleted"


def test_auto_uses_git_and_falls_back_only_for_transport_reasons(api, http, http_repo,
                                                                 caplog, monkeypatch):
    owner, bare = new_repo(api)
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
    assert open_store("o", "r").git.__func__ is GitStore.git  # store.git(...) is git's


def test_auto_falls_back_when_git_is_not_on_path(api, tmp_path):
    """The CLI in a subprocess whose PATH has python but no git: same results via the API."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSEOX")}
    env.update(PATH=str(bin_dir), PULSEOX_API_URL=api.url,
               PULSEOX_GIT_REMOTE=os.environ["PULSEOX_GIT_REMOTE"],
               PULSEOX_GIT_CACHE=str(tmp_path / "cache"))
    assert shutil.which("git", path=env["PATH"]) is None
    results = {}
    for name, transport in (("fallback", "auto"), ("git", "git")):
        owner, bare = new_repo(api)
        commit_files(bare, {"README.md": "status pages\n"})
        (tmp_path / "pages.toml").write_text(
            '[[page]]\npath = "jobs/a.md"\ncontent = "a"\n\n'
            '[[page]]\npath = "jobs/b.md"\ncontent = "b"\nreport = "BAD"\nnote = "n"\n')
        run_env = env if name == "fallback" else {**os.environ}
        proc = subprocess.run(
            [sys.executable, "-m", "pulseox_git", "batch", "--owner", owner, "--repo",
             "status", str(tmp_path / "pages.toml"), "--transport", transport],
            capture_output=True, text=True, env=run_env, timeout=60)
        assert proc.returncode == 0, proc.stderr
        results[name] = (proc, bare)
    proc, bare = results["fallback"]
    assert "falling back to the GitHub API" in proc.stderr
    assert "git is not installed or not on PATH" in proc.stderr
    _git_proc, git_bare = results["git"]
    for path in ("jobs/a.md", "jobs/b.md"):
        mine, theirs = parse(show(bare, path)), parse(show(git_bare, path))
        assert (mine.content, mine.report, mine.note) == (theirs.content, theirs.report,
                                                          theirs.note)
    assert git("log", "--format=%B", "main", cwd=bare) == git(
        "log", "--format=%B", "main", cwd=git_bare)
    assert git("rev-list", "--count", "main", cwd=bare).strip() == "2"  # README, the batch
    forced = subprocess.run(  # --transport git without git: a clear error, no fallback
        [sys.executable, "-m", "pulseox_git", "batch", "--owner", "o", "--repo", "r",
         str(tmp_path / "pages.toml"), "--transport", "git"],
        capture_output=True, text=True, env=env, timeout=60)
    assert forced.returncode == 1 and forced.stderr.splitlines()[-1] == (
        "error: git is not installed or not on PATH")


def test_unknown_transport_and_bad_api_url_are_bad_input(cli):
    code, _out, err = cli("post", "--owner", "o", "--repo", "r", "--path", "a.md",
                          "--content", "x", "--transport", "carrier-pigeon")
    assert code == 2 and "'carrier-pigeon'" in err
    code, _out, err = cli("post", "--owner", "o", "--repo", "r", "--path", "a.md",
                          "--content", "x", "--transport", "api", "--api-url", "ftp://x")
    assert code == 2 and "'ftp://x'" in err


def test_errors_are_remote_errors():
    assert issubclass(RateLimitError, RemoteError) and issubclass(UnreachableApiError,
                                                                  RemoteError)


def test_a_dashboard_refresh_over_the_api_equals_the_git_one(api):
    """Same repositories, same clock: the same sections, notes and Changes either way;
    the API writes its summary, spec file and state as ONE commit."""
    from datetime import timedelta

    from pulseox_git.dashboard import STATE_FILE, PulseOxDashboard
    from pulseox_git.page import render
    from pulseox_git.specs import PulseOxSpec

    owner, bare = new_repo(api)
    other, _other_bare = new_repo(api)
    day = timedelta(days=1)

    def poster(at):
        return PulseOxClient(transport="git", clock=lambda: at)

    poster(FIXED - 3 * day).post(owner, "status", "jobs/stale.md", "old")
    poster(FIXED).post_many(owner, "status", [
        {"path": "jobs/ok.md", "content": "fine"},
        {"path": "jobs/bad.md", "content": "x", "report": "BAD", "note": "exit 3"}])
    commit_files(bare, {"jobs/hand.md": "edited without a footer",
                        "jobs/copied.md": render("jobs/copied.md", "x", "GOOD", FIXED - 2 * day)},
                 date="2026-05-01T12:00:00Z")
    poster(FIXED).post(other, "status", "elsewhere.md", "x", note="far away")
    specs = [PulseOxSpec(owner, "status", f"jobs/{name}.md", "1d")
             for name in ("ok", "bad", "stale", "hand", "copied", "never")]
    specs.append(PulseOxSpec(other, "status", "elsewhere.md", "2h", "10m"))

    def board(transport, at, **kw):
        c = PulseOxClient(transport=transport, api_url=api.url, clock=lambda: at)
        return PulseOxDashboard(owner=owner, repo="status", spec_list=specs,
                                clock=lambda: at, client=c, **kw)

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
        ("jobs/ok.md", "OK", "ERROR"), ("elsewhere.md", "OK", "MISSING")]


def test_spec_add_and_dashboard_refresh_from_the_cli_over_the_api(api, cli):
    owner, bare = new_repo(api)
    over_api = ["--transport", "api", "--api-url", api.url]
    code, _out, err = cli("post", "--owner", owner, "--repo", "status", "--path", "jobs/a.md",
                          "--content", "ok", *over_api)
    assert code == 0, err
    code, out, err = cli("spec", "add", "--owner", owner, "--repo", "status", "--path",
                         "jobs/a.md", "--schedule", "1d", *over_api)
    assert code == 0 and "watch" in out, err
    code, out, err = cli("dashboard", "refresh", "--owner", owner, "--repo", "status",
                         *over_api)
    assert code == 0 and "# OK\n- [jobs/a.md](jobs/a.md)" in out, err
    assert f"to {api.url}/repos/{owner}/status" in err
    code, shown, err = cli("dashboard", "show", "--owner", owner, "--repo", "status",
                           *over_api)
    assert code == 0 and shown == out, err
    assert log(bare) == ["pulseox: dashboard 0 ERROR, 0 MISSING, 1 OK (1 changed)",
                         f"pulseox: watch {owner}/status:jobs/a.md every 1d",
                         "pulseox: jobs/a.md GOOD"]


def test_history_command_through_auto_and_over_the_api(api, cli, monkeypatch):
    owner, _bare = new_repo(api)
    client(api).post(owner, "status", "a.md", "x", note="first")
    client(api).post(owner, "status", "a.md", "y", report="BAD", note="second")
    monkeypatch.setenv("PULSEOX_API_URL", api.url)  # auto may fall back: an AutoStore
    outputs = []
    for extra in ([], ["--transport", "api"], ["--remote", "http://127.0.0.1:9/o/r.git"]):
        code, out, err = cli("history", "--owner", owner, "--repo", "status", "--path", "a.md",
                             *extra)
        assert code == 0, err
        outputs.append(out)
    assert outputs[0] == outputs[1] == outputs[2]
    assert [line.split()[3::2] for line in outputs[0].splitlines()] == [
        ["BAD", "second"], ["GOOD", "first"]]


@pytest.mark.parametrize("pages", [1, 2])
def test_a_refused_write_is_reported_not_retried(api, cli, pages):
    """A 409/422 when the branch did not move is GitHub refusing (a ruleset), not a race."""
    owner, bare = new_repo(api)
    commit_files(bare, {"a.md": "x"})
    before = refs(bare)
    api.protect()
    store = ApiStore(owner, "status", api_url=api.url)
    files = {f"p{i}.md": b"x" for i in range(pages)}
    with pytest.raises(RemoteError, match="Repository rule violations found") as info:
        store.publish(lambda _s, _tip: Change(files, "m\n", FIXED))
    assert "nothing was written" in str(info.value) and refs(bare) == before
    assert api.kinds().count("update-ref") + api.kinds().count("contents-put") == 1


def test_rate_limit_reset_time_is_waited_out(api):
    owner, bare = new_repo(api)
    commit_files(bare, {"a.md": "x"})
    waits: list[float] = []
    api.rate_limit(1, retry_after=None, reset_in=1)
    assert ApiStore(owner, "status", api_url=api.url, sleep=waits.append).tip()
    assert waits == [1.0]


def test_history_follows_pagination_over_many_commits(api):
    """250 commits touching one page (three pages of 100 from the API), made with
    fast-import, read the same over the API as with git log."""
    owner, bare = new_repo(api)
    stream = []
    for i in range(250):
        report = "BAD" if i % 7 == 0 else "GOOD"
        message = f"post {i}\n\nPulseox-Page: {{\"path\":\"a.md\",\"report\":\"{report}\"}}\n"
        body = f"run {i}\n"
        stream.append(f"commit refs/heads/main\ncommitter F <f@x> {1_700_000_000 + i} +0000\n"
                      f"data {len(message)}\n{message}\n"
                      + f"M 100644 inline a.md\ndata {len(body)}\n{body}\n"
                      + (f"M 100644 inline other{i % 3}.md\ndata 4\n{i:03}\n\n" if i % 2 else ""))
    git("fast-import", "--quiet", cwd=bare, input="".join(stream))
    store = ApiStore(owner, "status", api_url=api.url)
    by_api = store.run(lambda tip: store.history(tip, ["a.md", "other1.md"]))
    by_git_store = GitStore(f"file://{bare}")
    by_git = by_git_store.run(lambda tip: by_git_store.history(tip, ["a.md", "other1.md"],
                                                               cache=False))
    assert len(by_api["a.md"]) == 250 and len(by_api["other1.md"]) == 42 and by_api == by_git
    assert {r.problem for r in by_api["other1.md"]} == {"no metadata footer"}  # no trailer
    assert api.kinds().count("list-commits") == 3 + 1  # a.md: 3 pages of 100; other1.md: 1
