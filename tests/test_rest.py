"""The REST API store against the fake GitHub API (fixtures/github_api.py), on top of
real bare repositories: what the API calls wrote is checked with plain git."""

from __future__ import annotations

import socket
import subprocess
from datetime import UTC, datetime

import pytest

from fixtures.github_api import GitHubApiServer
from fixtures.repos import commit_files, git, log, refs, show
from pulseox_git.client import PulseOxClient
from pulseox_git.errors import AuthError, RateLimitError, RemoteError, UnreachableApiError
from pulseox_git.page import parse, parse_trailers
from pulseox_git.store.api import ApiStore
from pulseox_git.store.base import Change
from pulseox_git.store.git import GitStore

FIXED = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
TOKEN = "canary-api-5d1e9b7c"


def client(api: GitHubApiServer, **kw) -> PulseOxClient:
    """A client that only talks to the fake API, with a fixed clock."""
    return PulseOxClient(transport="api", api_url=api.url, clock=lambda: FIXED, **kw)


def test_post_creates_then_updates_a_page(api):
    owner, bare = api.new_repo()
    first = client(api).post(owner, "status", "jobs/a.md", "all fine\n", note="run 1")
    second = client(api).post(owner, "status", "jobs/a.md", "broken\n", report="BAD")
    assert (first.status_code, second.status_code) == (201, 200)
    assert git("rev-parse", "main", cwd=bare).strip() == second.sha
    assert log(bare) == ["pulseox: jobs/a.md BAD", "pulseox: jobs/a.md GOOD"]
    footer = parse(show(bare, "jobs/a.md"))
    assert (footer.content, footer.report, footer.updated) == ("broken\n", "BAD", FIXED)
    assert git("log", "-1", "--format=%ct %cn", "main", cwd=bare).split()[0] == str(
        int(FIXED.timestamp())
    )
    assert api.kinds().count("contents-put") == 2 and "update-ref" not in api.kinds()
    assert git("fsck", "--strict", cwd=bare) == ""


def test_batch_lands_as_one_commit_with_trailers(api):
    owner, bare = api.new_repo()
    commit_files(bare, {"README.md": "hand written\n"})
    pages = [
        {
            "path": f"jobs/p{i}.md",
            "content": f"page {i}",
            "report": "BAD" if i == 2 else "GOOD",
            "note": f"note {i}",
        }
        for i in range(5)
    ]
    result = client(api).post_many(owner, "status", pages)
    assert result.status_code == 201 and len(result.created) == 5
    assert git("rev-list", "--count", "main", cwd=bare).strip() == "2"
    assert git("rev-parse", "main", cwd=bare).strip() == result.sha
    message = git("log", "-1", "--format=%B", "main", cwd=bare)
    assert [(p.path, p.report, p.note) for p in parse_trailers(message)] == [
        (f"jobs/p{i}.md", "BAD" if i == 2 else "GOOD", f"note {i}") for i in range(5)
    ]
    names = git("ls-tree", "-r", "--name-only", "main", cwd=bare).split()
    assert names == ["README.md", *[f"jobs/p{i}.md" for i in range(5)]]
    kinds = api.kinds()
    assert [kinds.count(k) for k in ("create-tree", "create-commit", "update-ref")] == [1, 1, 1]


def test_a_batch_on_an_empty_repository_and_a_binary_file(api):
    owner, bare = api.new_repo()
    store = ApiStore(owner, "status", api_url=api.url)
    files = {"a.md": b"text", "bin/blob.dat": b"\xff\x00\xfe", "b.md": b"more"}
    result = store.publish(lambda _store, _tip: Change(files, "seed\n", FIXED))
    assert result.created == ("a.md", "bin/blob.dat", "b.md")
    raw = subprocess.run(
        ["git", "cat-file", "blob", "main:bin/blob.dat"], cwd=bare, capture_output=True, check=True
    ).stdout
    assert raw == b"\xff\x00\xfe" and show(bare, "b.md") == "more"
    # GitHub's Git Data API refuses empty repositories: the first file seeds the branch
    assert log(bare) == ["seed", "seed"] and "create-blob" in api.kinds()


def test_conflict_mid_batch_is_retried_and_both_land(api):
    owner, bare = api.new_repo()
    commit_files(bare, {"seed.md": "seed"})
    api.inject_commit({"other.md": "theirs"}, before="update-ref")
    result = client(api).post_many(
        owner, "status", [{"path": "x.md", "content": "x"}, {"path": "y.md", "content": "y"}]
    )
    assert result.attempts == 2
    assert log(bare) == ["pulseox: post 2 pages (2 GOOD, 0 BAD)", "their commit", "hand edit"]
    assert show(bare, "other.md") == "theirs" and parse(show(bare, "x.md")).content == "x"
    assert api.kinds().count("update-ref") == 2


def test_single_post_conflict_is_reread_and_retried(api):
    owner, bare = api.new_repo()
    client(api).post(owner, "status", "a.md", "mine")
    api.inject_commit({"a.md": "edited meanwhile"}, before="contents-put")
    result = client(api).post(owner, "status", "a.md", "mine again")
    assert result.attempts == 2 and result.status_code == 200
    assert log(bare) == ["pulseox: a.md GOOD", "their commit", "pulseox: a.md GOOD"]
    assert parse(show(bare, "a.md")).content == "mine again"


def test_paths_through_symlinks_or_onto_folders_are_refused(api, cli):
    owner, bare = api.new_repo()
    commit_files(bare, {"dir/inner.md": "x"}, symlinks={"link": "/tmp"})
    before = refs(bare)
    for path, kind in (("link/x.md", "symlink"), ("dir", "folder")):
        code, _out, err = cli(
            "post",
            "--owner",
            owner,
            "--repo",
            "status",
            "--path",
            path,
            "--content",
            "x",
            "--transport",
            "api",
            "--api-url",
            api.url,
        )
        assert code == 2 and repr(path) in err and kind in err, err
    assert refs(bare) == before


def test_rate_limit_with_retry_after_is_waited_out(api):
    owner, bare = api.new_repo()
    waits: list[float] = []
    api.rate_limit(2, retry_after=1)
    store = ApiStore(owner, "status", api_url=api.url, sleep=waits.append)
    store.publish(lambda _s, _tip: Change({"a.md": b"x"}, "one\n", FIXED))
    assert waits[:2] == [1.0, 1.0] and log(bare) == ["one"]


@pytest.mark.slow
def test_rate_limit_waits_for_real_from_the_cli(api, cli):
    owner, bare = api.new_repo()
    api.rate_limit(1, retry_after=1, status=429)
    code, _out, err = cli(
        "post",
        "--owner",
        owner,
        "--repo",
        "status",
        "--path",
        "a.md",
        "--content",
        "x",
        "--transport",
        "api",
        "--api-url",
        api.url,
    )
    assert code == 0 and "secondary rate limit" in err and "waiting 1s" in err
    assert log(bare) == ["pulseox: a.md GOOD"]


@pytest.mark.parametrize(
    "retry_after, named",
    [
        (30, "secondary rate limit (Retry-After: 30)"),
        (None, "core rate limit of 5000 requests (resets at"),
    ],
)
def test_a_longer_rate_limit_fails_naming_the_limit(api, cli, monkeypatch, retry_after, named):
    owner, bare = api.new_repo()
    monkeypatch.setenv("PULSEOX_API_MAX_WAIT", "5")
    api.rate_limit(1, retry_after=retry_after, reset_in=3600)
    code, _out, err = cli(
        "post",
        "--owner",
        owner,
        "--repo",
        "status",
        "--path",
        "a.md",
        "--content",
        "x",
        "--transport",
        "api",
        "--api-url",
        api.url,
    )
    assert code == 1 and named in err and "PULSEOX_API_MAX_WAIT" in err, err
    assert "Traceback" not in err and refs(bare) == ""
    with pytest.raises(RateLimitError):
        api.rate_limit(1, retry_after=retry_after, reset_in=3600)
        ApiStore(owner, "status", api_url=api.url).tip()


def test_wrong_token_fails_clearly_without_the_token(api, cli, monkeypatch):
    owner, bare = api.new_repo()
    api.set_token(TOKEN)
    monkeypatch.setenv("PULSEOX_TOKEN", "wrong-" + TOKEN)
    args = [
        "post",
        "--owner",
        owner,
        "--repo",
        "status",
        "--path",
        "a.md",
        "--content",
        "x",
        "--transport",
        "api",
        "--api-url",
        api.url,
    ]
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
    owner, bare = api.new_repo()
    api.set_token(TOKEN)
    monkeypatch.setenv("PULSEOX_TOKEN", TOKEN)
    code, out, err = cli(
        "post",
        "--owner",
        owner,
        "--repo",
        "status",
        "--path",
        "a.md",
        "--content",
        "x",
        "--transport",
        "api",
        "--api-url",
        api.url,
        "-v",
    )
    assert code == 0, err
    assert all(had_auth for *_rest, had_auth in api.requests)
    assert TOKEN not in out + err + "".join(str(r) for r in api.requests)
    assert not any(
        TOKEN in p.read_text(errors="replace") for p in cache_dir.rglob("*") if p.is_file()
    ) and log(bare) == ["pulseox: a.md GOOD"]


def test_no_token_on_a_private_repository_and_missing_repositories_say_so(api, cli):
    owner, _bare = api.new_repo()
    api.set_token(TOKEN)
    code, _out, err = cli(
        "post",
        "--owner",
        owner,
        "--repo",
        "status",
        "--path",
        "a.md",
        "--content",
        "x",
        "--transport",
        "api",
        "--api-url",
        api.url,
    )
    assert code == 1 and f"no repository {owner}/status" in err and "no token" in err
    api.set_token(None)
    code, _out, err = cli(
        "post",
        "--owner",
        owner,
        "--repo",
        "nothere",
        "--path",
        "a.md",
        "--content",
        "x",
        "--transport",
        "api",
        "--api-url",
        api.url,
    )
    assert code == 1 and f"no repository {owner}/nothere at {api.url}" in err


def test_server_errors_are_retried_then_reported(api):
    """A 5xx is tried again after 0.5 s, then 1 s (the sleep is injected), and
    reported after the third attempt."""
    owner, bare = api.new_repo()
    commit_files(bare, {"seed.md": "x"})
    waits: list[float] = []
    store = ApiStore(owner, "status", api_url=api.url, sleep=waits.append)
    api.fail(1, 502)
    assert store.tip() is not None and waits == [0.5]
    waits.clear()
    api.fail(3, 503)
    with pytest.raises(RemoteError, match=r"failed with 503 .*\(3 attempts\); try again later"):
        store.tip()
    assert waits == [0.5, 1.0]


def test_a_silent_api_times_out():
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        store = ApiStore("o", "r", api_url=url, timeout=0.3)
        with pytest.raises(UnreachableApiError, match=r"did not answer within 0.3s"):
            store.tip()


def test_history_over_the_api_equals_git_history(api):
    owner, bare = api.new_repo()
    c = client(api)
    c.post_many(
        owner,
        "status",
        [
            {"path": "a.md", "content": "x"},
            {"path": "b.md", "content": "y", "report": "BAD", "note": "boom"},
        ],
    )
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
        ("BAD", None),
        (None, "no metadata footer"),
        ("GOOD", None),
    ]
    assert by_api["b.md"][0].problem == "deleted"


def test_errors_are_remote_errors():
    assert issubclass(RateLimitError, RemoteError) and issubclass(UnreachableApiError, RemoteError)


@pytest.mark.parametrize("pages", [1, 2])
def test_a_refused_write_is_reported_not_retried(api, cli, pages):
    """A 409/422 when the branch did not move is GitHub refusing (a ruleset), not a race."""
    owner, bare = api.new_repo()
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
    owner, bare = api.new_repo()
    commit_files(bare, {"a.md": "x"})
    waits: list[float] = []
    api.rate_limit(1, retry_after=None, reset_in=1)
    assert ApiStore(owner, "status", api_url=api.url, sleep=waits.append).tip()
    assert waits == [1.0]


def test_history_follows_pagination_over_many_commits(api):
    """250 commits touching one page (three pages of 100 from the API), made with
    fast-import, read the same over the API as with git log."""
    owner, bare = api.new_repo()
    stream = []
    for i in range(250):
        report = "BAD" if i % 7 == 0 else "GOOD"
        message = f'post {i}\n\nPulseox-Page: {{"path":"a.md","report":"{report}"}}\n'
        body = f"run {i}\n"
        stream.append(
            f"commit refs/heads/main\ncommitter F <f@x> {1_700_000_000 + i} +0000\n"
            f"data {len(message)}\n{message}\n"
            + f"M 100644 inline a.md\ndata {len(body)}\n{body}\n"
            + (f"M 100644 inline other{i % 3}.md\ndata 4\n{i:03}\n\n" if i % 2 else "")
        )
    git("fast-import", "--quiet", cwd=bare, input="".join(stream))
    store = ApiStore(owner, "status", api_url=api.url)
    by_api = store.run(lambda tip: store.history(tip, ["a.md", "other1.md"]))
    by_git_store = GitStore(f"file://{bare}")
    by_git = by_git_store.run(
        lambda tip: by_git_store.history(tip, ["a.md", "other1.md"], cache=False)
    )
    assert len(by_api["a.md"]) == 250 and len(by_api["other1.md"]) == 42 and by_api == by_git
    assert {r.problem for r in by_api["other1.md"]} == {"no metadata footer"}  # no trailer
    assert api.kinds().count("list-commits") == 3 + 1  # a.md: 3 pages of 100; other1.md: 1
