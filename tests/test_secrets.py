"""Secrets and confinement, end to end.

A unique canary token guards the smart-HTTP fixture. Every command runs as a
real subprocess, in success and failure modes (right token, --token, wrong
token, unreachable remote, a push the remote declines, a git error), with git
tracing to files and a `git` wrapper first on PATH that records the argv of
every git process. Then the token (and its base64 forms) must appear in no
stdout, stderr, trace, argv, file under the cache, temp or home dirs, nor in
exception text; and the right-token runs must really have used it (the
commits landed). Confinement: symlinks committed by someone else and
command-running URLs are refused with exit 2.
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
import socket
import subprocess
import sys
import traceback
import uuid
from pathlib import Path

import pytest

from fixtures.repos import commit_files, log, refs, show
from pulseox_git.errors import AuthError, PulseOxError

ROOT = Path(__file__).resolve().parent.parent
TOKEN = f"canary{uuid.uuid4().hex}"
FORMS = {
    TOKEN,
    base64.b64encode(TOKEN.encode()).decode(),
    base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode(),
    base64.urlsafe_b64encode(f"x-access-token:{TOKEN}".encode()).decode(),
}
SPECS = '[[spec]]\nowner = "{owner}"\nrepo = "status"\npath = "jobs/a.md"\nschedule = "1h"\n'
ARGV_WRAPPER = f"""#!/bin/bash
printf '%s\\n' "git $*" >> "$ARGV_LOG"
exec "{shutil.which("git")}" "$@"
"""


def leaked(text: str) -> bool:
    return any(form in text for form in FORMS)


def commands(owner: str, work: Path) -> dict[str, list[str]]:
    """Every command of the CLI, with arguments that make it touch the remote."""
    (work / "pages.toml").write_text("[[page]]\npath = 'jobs/c.md'\ncontent = 'batch'\n")
    (work / "present.txt").write_text("here")
    o = ["--owner", owner, "--repo", "status"]
    return {
        "post": ["post", *o, "--path", "jobs/a.md", "--content", "hello"],
        "batch": ["batch", *o, str(work / "pages.toml")],
        "client post": ["client", "post", *o, "--path", "jobs/b.md", "--content", "x"],
        "history": ["history", *o, "--path", "jobs/a.md"],
        "spec add": ["spec", "add", *o, "--path", "jobs/b.md", "--schedule", "2h"],
        "spec list": ["spec", "list", *o],
        "spec remove": ["spec", "remove", *o, "--path", "jobs/b.md"],
        "dashboard refresh": ["dashboard", "refresh", *o],
        "dashboard show": ["dashboard", "show", *o],
        "init": ["init", *o],
        "check exists": [
            "check",
            "exists",
            *o,
            "--path",
            str(work / "present.txt"),
            "--hc-path",
            "check.md",
        ],
        "check rdashboard": ["check", "rdashboard", *o],
        # --strict: a post that fails exits 1, like the other commands
        "run": ["run", *o, "--path", "jobs/r.md", "--strict", "--", "sh", "-c", "echo ran"],
    }


def with_options(argv: list[str], *options: str) -> list[str]:
    """`argv` with more options for pulseox-git: before `--`, where `run`'s command begins."""
    at = argv.index("--") if "--" in argv else len(argv)
    return [*argv[:at], *options, *argv[at:]]


READS = {"history", "spec list"}  # need no push; `dashboard show` has no summary to show


class Harness:
    """Runs pulseox-git as a subprocess with traced git and recorded argv."""

    def __init__(self, tmp: Path, template: str) -> None:
        self.tmp = tmp
        bin_dir = tmp / "bin"
        bin_dir.mkdir()
        (bin_dir / "git").write_text(ARGV_WRAPPER)
        (bin_dir / "git").chmod(0o755)
        self.dirs = {name: tmp / name for name in ("cache", "tmpdir", "home", "trace")}
        for path in self.dirs.values():
            path.mkdir()
        trace = self.dirs["trace"]
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "PULSEOX_GIT_REMOTE": template,
            "PULSEOX_GIT_CACHE": str(self.dirs["cache"]),
            "TMPDIR": str(self.dirs["tmpdir"]),
            "HOME": str(self.dirs["home"]),
            "ARGV_LOG": str(trace / "argv.log"),
            "GIT_TRACE": str(trace / "trace.log"),
            "GIT_TRACE_CURL": str(trace / "curl.log"),
            "GIT_TRACE_PACKET": str(trace / "pkt.log"),
            "PULSEOX_GIT_TIMEOUT": "20",
        }
        self.outputs: list[str] = []
        self.runs = 0

    def run(self, argv: list[str], env: dict | None = None) -> tuple[int, str, str]:
        proc = subprocess.run(
            [sys.executable, "-m", "pulseox_git", *argv],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.outputs += [proc.stdout, proc.stderr]
        self.runs += 1
        return proc.returncode, proc.stdout, proc.stderr

    def leaks(self, *extra_roots: Path) -> list[str]:
        found = [f"output {i}" for i, text in enumerate(self.outputs) if leaked(text)]
        for root in [*self.dirs.values(), *extra_roots]:
            for path in root.rglob("*"):
                if (
                    path.is_file()
                    and not path.is_symlink()
                    and leaked(path.read_bytes().decode("latin-1"))
                ):
                    found.append(str(path))
        return found

    def argv_log(self) -> str:
        path = self.dirs["trace"] / "argv.log"
        return path.read_text() if path.exists() else ""  # the API transport runs no git


@pytest.fixture
def harness(tmp_path: Path, http) -> Harness:
    http.set(token=TOKEN)
    return Harness(tmp_path, http.template)


@pytest.fixture
def repo(http_repo) -> tuple[str, Path]:
    owner, _repo, bare = http_repo
    commit_files(bare, {"pulseox.toml": SPECS.format(owner=owner), "jobs/a.md": "seed\n"})
    return owner, bare


def report(what: str, harness: Harness) -> None:
    print(
        f"\nRELIABILITY secrets: {what}: {harness.runs} runs, token found nowhere "
        f"(output, traces, argv of {harness.argv_log().count(chr(10))} git processes, files)"
    )


@pytest.mark.slow
def test_every_command_with_the_right_token_uses_it_and_shows_it_nowhere(
    harness, repo, http, tmp_path
):
    owner, bare = repo
    for name, argv in commands(owner, tmp_path).items():
        code, _out, err = harness.run(argv, env={"PULSEOX_TOKEN": TOKEN})
        assert code == 0, (name, err)
    # the same post with the token on pulseox-git's own command line
    code, _out, err = harness.run(
        [*commands(owner, tmp_path)["post"], "--token", TOKEN, "--content", "via --token"]
    )
    assert code == 0, err
    # it was really used: the writes landed, and every request carried it
    assert show(bare, "jobs/a.md").startswith("via --token\n")
    assert {"pulseox: jobs/c.md GOOD", "pulseox: jobs/b.md GOOD"} <= set(log(bare))
    assert all(auth for _method, _path, auth in http.requests)
    assert harness.argv_log().count("git ") > 20
    # and GIT_TRACE logged the argv of every process git itself started (remote helpers)
    assert "run_command: git remote-http" in (harness.dirs["trace"] / "trace.log").read_text()
    assert harness.leaks(bare) == []
    planted = harness.dirs["tmpdir"] / "planted"  # the scan itself can find a leak
    planted.write_text(sorted(FORMS)[0])
    assert harness.leaks() == [str(planted)]
    planted.unlink()
    report("every command with the right token", harness)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


FAILURES = ["wrong token", "unreachable", "push declined", "git error"]


@pytest.mark.slow
@pytest.mark.parametrize("mode", FAILURES)
def test_every_command_failing_shows_the_token_nowhere(harness, repo, http, tmp_path, mode):
    owner, bare = repo
    env = {"PULSEOX_TOKEN": TOKEN}
    if mode == "wrong token":
        env["PULSEOX_TOKEN"] = "wrong" + TOKEN[::-1]
    elif mode == "unreachable":
        env["PULSEOX_GIT_REMOTE"] = f"http://127.0.0.1:{_closed_port()}/{{owner}}/{{repo}}.git"
    elif mode == "push declined":
        hook = bare / "hooks" / "pre-receive"
        hook.write_text("#!/bin/sh\necho 'declined by policy' >&2\nexit 1\n")
        hook.chmod(0o755)
    else:  # git error: the repository is not there
        env["PULSEOX_GIT_REMOTE"] = http.template.replace("{repo}", "{repo}-missing")
    before = refs(bare)
    for name, argv in commands(owner, tmp_path).items():
        if name == "spec remove":  # the spec that is there (spec add failed)
            argv = [a.replace("jobs/b.md", "jobs/a.md") for a in argv]
        code, out, err = harness.run([*argv, "-v"] if name == "post" else argv, env=env)
        reads_ok = mode == "push declined" and name in READS
        # no summary could be written, so there is nothing to show (bad usage, exit 2)
        nothing_to_show = mode == "push declined" and name == "dashboard show"
        assert code == (2 if nothing_to_show else 0 if reads_ok else 1), (name, code, out, err)
        if code:
            assert "error: " in err and "Traceback" not in err.split("error: ")[0], (name, err)
        if mode == "wrong token" and code:
            assert "authentication failed" in err, (name, err)
    assert refs(bare) == before
    assert harness.leaks(bare) == []
    report(mode, harness)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["right token", "wrong token"])
def test_every_command_over_the_rest_api_shows_the_token_nowhere(api, tmp_path, mode):
    """The fallback transport: the token travels in an HTTP header of our own."""
    owner, bare = api.new_repo()
    commit_files(bare, {"pulseox.toml": SPECS.format(owner=owner), "jobs/a.md": "seed\n"})
    api.set_token(TOKEN)
    harness = Harness(tmp_path, "unused")
    token = TOKEN if mode == "right token" else "wrong" + TOKEN[::-1]
    env = {"PULSEOX_TOKEN": token, "PULSEOX_API_URL": api.url}
    del harness.env["PULSEOX_GIT_REMOTE"]
    before = refs(bare)
    for name, argv in commands(owner, tmp_path).items():
        code, _out, err = harness.run(with_options(argv, "--transport", "api"), env=env)
        assert code == (0 if mode == "right token" else 1), (name, err)
    if mode == "right token":
        assert {"pulseox: jobs/c.md GOOD", "pulseox: jobs/b.md GOOD"} <= set(log(bare))
        assert all(had_auth for *_rest, had_auth in api.requests)
    else:
        assert refs(bare) == before
    assert harness.leaks(bare) == []
    report(f"REST API transport, {mode}", harness)


def test_exception_text_and_logs_of_the_python_api_hold_no_token(http, repo, caplog):
    from pulseox_git.client import PulseOxClient

    owner, _bare = repo
    http.set(token=TOKEN)
    caplog.set_level(logging.DEBUG, logger="pulseox_git")
    client = PulseOxClient(token="wrong" + TOKEN, remote=http.template)
    errors = []
    for attempt in (
        client,
        PulseOxClient(
            token=TOKEN, remote=http.template.replace(str(http.port), str(_closed_port()))
        ),
    ):
        with pytest.raises(PulseOxError) as info:
            attempt.post(owner, "status", "a.md", "x")
        errors.append(info.value)
    assert isinstance(errors[0], AuthError)
    text = "".join("".join(traceback.format_exception(e)) + repr(e) for e in errors)
    text += repr(client) + repr(client.token) + caplog.text
    assert not leaked(text) and "wrong" + TOKEN not in text
    ok = PulseOxClient(token=TOKEN, remote=http.template).post(owner, "status", "a.md", "x")
    assert ok.sha and not leaked(repr(ok) + caplog.text)


# -- credentials written into URLs -------------------------------------------------------


@pytest.mark.parametrize("where", ["--remote", "PULSEOX_GIT_REMOTE"])
def test_credentials_in_a_url_are_stripped_with_a_warning_and_never_stored(
    harness, repo, http, tmp_path, where
):
    owner, bare = repo
    url = http.url(owner, "status").replace("http://", f"http://x-access-token:{TOKEN}@")
    argv = commands(owner, tmp_path)["post"]
    env = {"PULSEOX_TOKEN": TOKEN}
    if where == "--remote":
        argv = [*argv, "--remote", url]
    else:
        env["PULSEOX_GIT_REMOTE"] = url.replace(owner, "{owner}").replace("status", "{repo}")
    code, _out, err = harness.run(argv, env=env)
    assert code == 0, err
    assert "warning: dropped the credentials" in err
    assert show(bare, "jobs/a.md").startswith("hello\n")  # posted with PULSEOX_TOKEN instead
    assert harness.leaks(bare) == []
    assert "x-access-token@" not in harness.argv_log()
    report(f"credentials in {where} stripped", harness)


# -- confinement ---------------------------------------------------------------------------

CONFINED = [  # (page path, what the message says)
    ("link.md", "a symlink"),  # a symlinked page
    ("linkdir/x.md", "'linkdir'"),  # through a symlinked folder
    ("linkdir/deeper/x.md", "'linkdir'"),
    ("gitlink/x.md", "'gitlink'"),  # a symlink to .git
    ("sub/x.md", "'sub'"),  # through a submodule
    ("jobs/a.md/x.md", "'jobs/a.md'"),  # through a file
    (".git/hooks/post-update", ".git"),
    ("jobs/../.git/config", ".."),
]


def test_posts_never_write_through_symlinks_or_into_git(remote, cli, tmp_path):
    from fixtures.repos import git

    commit_files(
        remote,
        {"jobs/a.md": "x"},
        symlinks={"link.md": "/etc/passwd", "linkdir": "/tmp", "gitlink": ".git"},
    )
    # a submodule entry, as another tool would commit it
    tree = git("ls-tree", "main", cwd=remote)
    tree += f"160000 commit {git('rev-parse', 'main', cwd=remote).strip()}\tsub\n"
    new_tree = git("mktree", cwd=remote, input=tree).strip()
    commit = git("commit-tree", new_tree, "-p", "main", "-m", "add submodule", cwd=remote).strip()
    git("update-ref", "refs/heads/main", commit, cwd=remote)
    before = refs(remote)
    for path, named in CONFINED:
        code, out, err = cli(
            "post", "--owner", "owner", "--repo", "repo", "--path", path, "--content", "x"
        )
        assert code == 2 and named in err and "Traceback" not in err, (path, err)
        # one bad page spoils the batch: nothing at all is written
        manifest = tmp_path / "m.toml"
        manifest.write_text(
            f"[[page]]\npath = 'ok.md'\ncontent = 'x'\n\n[[page]]\npath = '{path}'\ncontent = 'x'\n"
        )
        code, out, err = cli("batch", "--owner", "owner", "--repo", "repo", manifest)
        assert code == 2 and out == "" and named in err, (path, err)
    assert refs(remote) == before
    print(f"\nRELIABILITY confinement: {len(CONFINED)} escaping paths refused (post and batch)")


@pytest.mark.parametrize("link", ["summary.md", "badges", "pulseox-state.json"])
def test_the_dashboard_never_writes_through_a_symlink_either(remote, cli, link):
    spec = '[[spec]]\nowner = "owner"\nrepo = "repo"\npath = "a.md"\nschedule = "1h"\n'
    commit_files(remote, {"pulseox.toml": spec, "a.md": "x"}, symlinks={link: "/tmp"})
    before = refs(remote)
    code, _out, err = cli("dashboard", "refresh", "--owner", "owner", "--repo", "repo")
    assert code == 2 and f"'{link}" in err and "symlink" in err and "Traceback" not in err
    assert refs(remote) == before


@pytest.mark.parametrize(
    "url",
    [
        "ext::sh -c touch% {marker}",
        "ext::sh -c touch% {marker}% &&% echo",
        "-u{marker}",
        "--upload-pack=touch {marker}",
        "fd::0",
        "ssh://-oProxyCommand=touch% {marker}/x.git",
        "user@-oProxyCommand=touch {marker}:x.git",
        "file::/tmp/x.git",
    ],
)
@pytest.mark.parametrize("where", ["--remote", "PULSEOX_GIT_REMOTE"])
def test_urls_that_would_run_commands_are_refused(cli, tmp_path, monkeypatch, url, where):
    marker = tmp_path / "pwned"
    url = url.format(marker=marker)
    argv = ["post", "--owner", "owner", "--repo", "repo", "--path", "a.md", "--content", "x"]
    if where == "--remote":
        argv += ["--remote", url]
    else:
        monkeypatch.setenv("PULSEOX_GIT_REMOTE", url + "/{owner}/{repo}")
    code, _out, err = cli(*argv)
    assert code == 2 and "bad remote URL" in err and "Traceback" not in err, err
    assert not marker.exists()
