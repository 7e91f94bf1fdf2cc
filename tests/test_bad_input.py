"""Bad input, table-driven over every command and the Python API.

Every row is one bad value. Each must give exit code 2 (BadInputError in
Python), a one-line message that names the value, no traceback, and leave the
remote's refs exactly as they were. `-s` prints how many were tried.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from fixtures.repos import commit_files, make_bare, refs
from pulseox_git.errors import BadInputError

# hundreds of CLI runs: part of the whole suite, left out of the fast loop
pytestmark = pytest.mark.slow

GOOD_SPECS = '[[spec]]\nowner = "owner"\nrepo = "repo"\npath = "jobs/a.md"\nschedule = "1h"\n'
TOKEN = "tok-bad-input-4c1d"

POST = ["post", "--owner", "owner", "--repo", "repo", "--path", "a.md", "--content", "hi"]
HISTORY = ["history", "--owner", "owner", "--repo", "repo", "--path", "jobs/a.md"]
SPEC_ADD = [
    "spec",
    "add",
    "--owner",
    "owner",
    "--repo",
    "repo",
    "--path",
    "jobs/b.md",
    "--schedule",
    "1h",
]
REFRESH = ["dashboard", "refresh", "--owner", "owner", "--repo", "repo"]
PAUSE = ["spec", "pause", "--owner", "owner", "--repo", "repo", "--path", "jobs/a.md"]
BAD_GLOBS = ["", " jobs/*", "jobs/[a", "/jobs/*", "a\nb", "jobs/\x7f"]
RUN = ["run", "--owner", "owner", "--repo", "repo", "--path", "jobs/r.md"]


def run_rows(option: str, values: list, named: str | None = None) -> list:
    """Rows for `run`: the bad option among run's own, then the command after `--`."""
    return [
        pytest.param([*swap(RUN, option, v), "--", "true"], named or v, id=f"run {option}={v!r}")
        for v in values
    ]


CHECK = [
    "check",
    "exists",
    "--owner",
    "owner",
    "--repo",
    "repo",
    "--path",
    ".",
    "--hc-path",
    "check.md",
]


def swap(base: list[str], option: str, value: str) -> list[str]:
    """`base` with `option`'s value replaced (or the option added)."""
    args = list(base)
    if option in args:
        args[args.index(option) + 1] = value
    else:
        args += [option, value]
    return args


def rows(base: str, argv: list[str], option: str, values: list, named: str | None = None) -> list:
    """One row per bad value. The message must name the value, or `named` where
    the value is composite or secret (JSON, content) or typer words the error."""
    return [
        pytest.param(swap(argv, option, v), named or v, id=f"{base} {option}={v!r}") for v in values
    ]


BAD_PATHS = [
    "",
    " ",
    "/etc/passwd",
    "../x.md",
    "a/../../x.md",
    "a//b.md",
    "./a.md",
    "dir/",
    ".git/config",
    "sub/.GIT/hooks/pre-commit",
    ".git./config",
    "GIT~1/config",
    "a\\b.md",
    "C:/x.md",
    "a\nb.md",
    "a\tb.md",
    "\x7f.md",
    "a\u2028b.md",
    " a.md",
    "jobs /a.md",
    "a.md ",
    "c:x.md",
]
# the dashboard's own files: a spec may watch them, a post may not overwrite them
DASHBOARD_PATHS = [
    "pulseox.toml",
    "pulseox-state.json",
    "summary.md",
    "summary.org",
    "index.html",
    "badges/status.svg",
]
BAD_NAMES = ["", "a b", "-x", "../x", "a/b", "x;rm -rf", "é"]
BAD_BRANCHES = [
    "a..b",
    "-x",
    "x.lock",
    "a b",
    "/x",
    "x/",
    "@{-1}^",
    "a/.b",
    "a//b",
    "a.lock/b",
    "HEAD",
    "a/b.",
]
BAD_URLS = [
    "ext::sh -c touch% /tmp/pwned",
    "-uhelp",
    "--upload-pack=touch /tmp/pwned",
    "fd::17",
    "file:///tmp/x\n",
    " file:///tmp/x",
    "ssh://-oProxyCommand=x/r.git",
    "file:///srv/{owner}/{rep}.git",
]
BAD_SCHEDULES = [
    "",
    "10x",
    "0m",
    "0s",
    "-5m",
    "soon",
    "* * *",
    "61 * * * *",
    "* * * * * * *",
    "1h 2",
    "0 0 31 2 *",
    "0 0 30 2 *",
]
BAD_DURATIONS = ["-1m", "soon", "1.5h", "m"]
BAD_ZONES = ["Mars/Olympus", "../../etc/passwd", "/etc/localtime", "", "UTC+99"]

CLI_CASES = [
    *rows("post", POST, "--path", BAD_PATHS),
    *rows("post", POST, "--path", DASHBOARD_PATHS),
    *rows("post", POST, "--report", ["OK", "good", "", "WARN"]),
    *rows("post", POST, "--note", ["a\nb", "a\rb", "x\x00y", "a\u2028b", "a\x85b"]),
    *rows("post", POST, "--owner", BAD_NAMES),
    *rows("post", POST, "--repo", BAD_NAMES[:4]),
    *rows("post", POST, "--branch", BAD_BRANCHES),
    *rows("post", POST, "--remote", BAD_URLS),
    *rows("post", POST, "--message", ["two\nlines", " "]),
    *rows("post", POST, "--max-page-bytes", ["abc"], named="--max-page-bytes"),
    *rows("post", POST, "--max-page-bytes", ["-1", "0"]),
    *rows("post", POST, "--transport", ["ftp", "GIT", ""]),
    *rows(
        "post",
        [*POST, "--transport", "api"],
        "--api-url",
        ["not a url", "ftp://x/api", "file:///etc", "-x", ""],
    ),
    *rows(
        "post",
        [*POST, "--transport", "api"],
        "--api-url",
        ["http://user:pw@127.0.0.1:1/api"],
        named="127.0.0.1:1/api",
    ),  # credentials hidden
    *rows("post", POST, "--content", ["x\x00y"], named="NUL"),
    *rows("client post", ["client", *POST], "--path", ["../x.md", ".git/HEAD"]),
    *rows("client post", ["client", *POST], "--report", ["MEH"]),
    *rows("history", HISTORY, "--path", ["../x.md", "/abs.md"]),
    *rows("history", HISTORY, "--limit", ["0", "-3", "many"], named="--limit"),
    *rows("history", HISTORY, "--owner", ["a b"]),
    *rows("spec add", SPEC_ADD, "--schedule", BAD_SCHEDULES),
    *rows("spec add", SPEC_ADD, "--grace", BAD_DURATIONS),
    *rows("spec add", SPEC_ADD, "--max-duration", ["0", "0s", "-5m", "soon"]),
    *rows("spec add", SPEC_ADD, "--min-duration", ["0", "-1m", "1.5h"]),
    # a minimum at or over the maximum can never be met
    *rows("spec add", [*SPEC_ADD, "--max-duration", "1h"], "--min-duration", ["1h", "2h"]),
    *rows("spec add", SPEC_ADD, "--path", ["../x.md", ".git/config", ""]),
    *rows("spec add", SPEC_ADD, "--fail-after", ["0", "-2"]),
    *rows("spec add", SPEC_ADD, "--fail-after", ["many"], named="--fail-after"),
    *rows("spec add", SPEC_ADD, "--missing-after", ["0"]),
    *rows("spec add", SPEC_ADD, "--remind-every", ["0", "-4h", "soon"]),
    *rows("spec add", SPEC_ADD, "--depends-on", ["nope.md"], named="'owner/repo:nope.md'"),
    *rows("spec add", SPEC_ADD, "--depends-on", ["../x.md", "a b/c:x.md"]),
    # jobs/a.md is watched: depending on itself is a cycle
    *rows(
        "spec add",
        swap(SPEC_ADD, "--path", "jobs/a.md"),
        "--depends-on",
        ["jobs/a.md"],
        named="dependency cycle",
    ),
    *rows("spec add", SPEC_ADD, "--tag", ["a b", "-x", ""]),
    *rows("dashboard refresh", REFRESH, "--notify", ['{"slack": {"tags": "db"}}'], named="'db'"),
    *rows(
        "dashboard refresh", REFRESH, "--notify", ['{"slack": {"tags": ["a b"]}}'], named="'a b'"
    ),
    *rows("spec pause", PAUSE, "--path", BAD_GLOBS),
    *rows("spec pause", PAUSE, "--path", ["nothing/*"]),  # matches no spec
    *rows("spec pause", PAUSE, "--until", ["soon", "0", "-1h", "2020-01-01T00:00Z", "2026-13-01"]),
    *rows("spec pause", PAUSE, "--reason", ["a\nb"]),
    *rows("spec resume", ["spec", "resume", *PAUSE[2:]], "--path", ["jobs/a.md", "[x"]),
    *rows("spec add", SPEC_ADD, "--page-owner", ["a b", "-x"]),
    *rows("spec add", SPEC_ADD, "--page-repo", ["../x"]),
    *rows(
        "spec remove",
        ["spec", "remove", "--owner", "owner", "--repo", "repo", "--path", "x.md"],
        "--path",
        ["../x.md"],
    ),
    *rows("spec list", ["spec", "list", "--owner", "owner", "--repo", "repo"], "--owner", ["a b"]),
    *rows("dashboard refresh", REFRESH, "--tz", BAD_ZONES),
    *rows("dashboard refresh", REFRESH, "--mode", ["html", "MD", ""]),
    # the JSON may hold a webhook URL, so the message names the option or the part
    *rows("dashboard refresh", REFRESH, "--notify", ["not json"], named="--notify"),
    *rows("dashboard refresh", REFRESH, "--notify", ["[1, 2]"]),
    *rows("dashboard refresh", REFRESH, "--notify", ['{"slack": 5}'], named="notify.slack"),
    *rows("dashboard refresh", REFRESH, "--notify", ['{"bad name!": {}}'], named="'bad name!'"),
    *rows("dashboard refresh", REFRESH, "--notify", ['"x"'], named="'x'"),
    *rows(
        "dashboard refresh",
        REFRESH,
        "--notify",
        ['{"nosuchprovider": {}}'],
        named="'nosuchprovider'",
    ),
    *rows(
        "dashboard refresh",
        [*REFRESH, "--strict-notify"],
        "--notify",
        ['{"slack": {"webhook_url_env": "PULSEOX_UNSET_VAR"}}'],
        named="PULSEOX_UNSET_VAR",
    ),
    *rows(
        "dashboard refresh",
        REFRESH,
        "--notify",
        ['{"slack": {"webhook_url_env": "no var"}}'],
        named="'no var'",
    ),
    *rows("dashboard refresh", REFRESH, "--fail-on", ["ERROR,BOGUS", "late"]),
    *rows(
        "dashboard refresh",
        [*REFRESH, "--no-write"],
        "--as-of",
        ["not-a-rev", "2026-13-45T00:00Z", "-x", "HEAD~99", "--"],
    ),
    *rows("dashboard refresh", REFRESH, "--as-of", ["HEAD"]),  # the past is never written
    *rows(
        "dashboard show",
        ["dashboard", "show", "--owner", "owner", "--repo", "repo"],
        "--repo",
        ["a/b"],
    ),
    *rows("check exists", CHECK, "--hc-path", ["../x.md"]),
    *rows("check exists", CHECK, "--note", ["a\nb"]),
    *rows(
        "check rdashboard",
        ["check", "rdashboard", "--owner", "owner", "--repo", "repo"],
        "--tz",
        ["Nowhere/City"],
    ),
    *rows("init", ["init", "--owner", "owner", "--repo", "repo"], "--owner", ["-x"]),
    *rows("init", ["init", "--owner", "owner", "--repo", "repo"], "--install", ["a b", "$(id)"]),
    *rows(
        "check rdashboard",
        ["check", "rdashboard", "--owner", "owner", "--repo", "repo"],
        "--dpath",
        ["index.html", "notes.txt", "/abs.md"],
    ),
    pytest.param(RUN, "COMMAND", id="run with no command"),
    pytest.param([*RUN, "--"], "COMMAND", id="run with nothing after --"),
    *run_rows("--timeout", ["0", "0s", "-5m", "soon"]),
    *run_rows("--kill-after", ["0", "x"]),
    *run_rows("--redact-env", ["A B", "1X", "X-Y"]),
    *run_rows("--tail-lines", ["-1"]),
    *run_rows("--tail-lines", ["many"], named="--tail-lines"),
    *run_rows("--tail-bytes", ["0"]),
    *run_rows("--note", ["a\nb"]),
    *run_rows("--path", ["../x.md", ".git/x", "pulseox.toml"]),
    *run_rows("--owner", ["a b"]),
    *run_rows("--remote", ["ext::sh -c x"]),
    *run_rows("--message", ["two\nlines"]),
    *run_rows("--content", ["-"], named="--content -"),
    *run_rows("--content", ["x\x00y"], named="NUL"),
    *run_rows("--max-page-bytes", ["100"], named="no room for the run record"),
]


@pytest.fixture(scope="module")
def shared_remote(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One remote for the whole table (nothing may change it), with a watched page and
    a spec file."""
    bare = make_bare(tmp_path_factory.mktemp("bad-input") / "owner" / "repo.git")
    commit_files(bare, {"pulseox.toml": GOOD_SPECS, "jobs/a.md": "hand written\n"})
    return bare


@pytest.fixture
def remote(shared_remote: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(
        "PULSEOX_GIT_REMOTE", f"file://{shared_remote.parent.parent}/{{owner}}/{{repo}}.git"
    )
    return shared_remote


@pytest.fixture
def seeded(remote: Path) -> str:
    """The remote's refs before the test."""
    return refs(remote)


def assert_refused(code: int, out: str, err: str, value: str) -> None:
    errors = [line for line in err.splitlines() if line.startswith(("error:", "Error:"))]
    assert code == 2, (code, out, err)
    assert "Traceback" not in err and len(errors) == 1, err
    named = {value, repr(value), repr(value)[1:-1], value.strip()} - {""}
    assert not value.strip() or any(form in err for form in named), err


@pytest.mark.parametrize("argv, value", CLI_CASES)
def test_cli_refuses_bad_values(cli, seeded, remote, argv, value):
    code, out, err = cli(*argv)
    assert_refused(code, out, err, value)
    assert refs(remote) == seeded


ENV_CASES = (
    [
        (name, value)
        for name in ("PULSEOX_GIT_TIMEOUT", "PULSEOX_LOCK_TIMEOUT")
        for value in ("abc", "-5", "0", "nan")
    ]
    + [("PULSEOX_PUSH_ATTEMPTS", v) for v in ("x", "0", "2.5")]
    + [("PULSEOX_GIT_STALL_SECONDS", v) for v in ("abc", "0", "-1", "1.5")]
    + [("PULSEOX_GIT_BLOBLESS", v) for v in ("abc", "2")]
    + [
        ("PULSEOX_GIT_REMOTE", v)
        for v in ("file:///no/placeholders.git", "ext::sh -c x {owner}{repo}")
    ]
)


@pytest.mark.parametrize("name, value", ENV_CASES)
def test_bad_environment_values_are_refused_not_ignored(
    cli, seeded, remote, monkeypatch, name, value
):
    """A typo in CI's environment must not switch a timeout off or end in a traceback."""
    monkeypatch.setenv(name, value)
    code, out, err = cli(*POST)
    assert_refused(code, out, err, value.replace("{owner}", "owner").replace("{repo}", "repo"))
    assert name in err or "remote" in err
    assert refs(remote) == seeded


API_ENV_CASES = [
    (name, value)
    for name in ("PULSEOX_API_TIMEOUT", "PULSEOX_API_MAX_WAIT", "PULSEOX_PUSH_ATTEMPTS")
    for value in ("abc", "-1")
]


@pytest.mark.parametrize("name, value", API_ENV_CASES)
def test_bad_api_environment_values_are_refused(cli, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    code, out, err = cli(*POST, "--transport", "api", "--api-url", "http://127.0.0.1:1/api")
    assert_refused(code, out, err, value)
    assert name in err


def test_count_of_bad_inputs_tried():
    total = (
        len(CLI_CASES)
        + len(FILE_CASES)
        + len(MANIFESTS)
        + len(SPEC_FILES)
        + len(API_CASES)
        + len(ENV_CASES)
        + len(API_ENV_CASES)
    )
    print(
        f"\nRELIABILITY bad inputs tried: {total} ({len(CLI_CASES)} CLI values, "
        f"{len(FILE_CASES)} content files, {len(MANIFESTS)} manifests, "
        f"{len(SPEC_FILES)} spec files, {len(ENV_CASES) + len(API_ENV_CASES)} environment "
        "values, "
        f"{len(API_CASES)} Python API calls)"
    )
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    documented = re.search(r"\| bad inputs tried \| (\d+) \(", readme)
    assert documented and int(documented.group(1)) == total, "update the README's count"


# -- files: content files, cache dirs, manifests, spec files -------------------------------

FILE_CASES = {
    "missing content file": ("post", "--content-file", "missing.txt"),
    "content file is a folder": ("post", "--content-file", "folder"),
    "content file not UTF-8": ("post", "--content-file", "latin1.txt"),
    "content file holds NUL": ("post", "--content-file", "nul.txt"),
    "content over --max-page-bytes": ("post", "--content-file", "big.txt"),
    "cache dir is a file": ("post", "--cache-dir", "plain-file"),
    "manifest missing": ("batch", None, "missing.toml"),
    "manifest is a folder": ("batch", None, "folder"),
}


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "folder").mkdir()
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (tmp_path / "nul.txt").write_bytes(b"a\0b")
    (tmp_path / "big.txt").write_text("x" * 2000)
    (tmp_path / "huge.txt").write_text("x" * (1024 * 1024 + 1))  # 1 byte over the default
    (tmp_path / "plain-file").write_text("not a folder")
    return tmp_path


@pytest.mark.parametrize("case", list(FILE_CASES))
def test_cli_refuses_bad_files(cli, seeded, remote, files, case):
    command, option, name = FILE_CASES[case]
    target = str(files / name)
    if command == "post":
        argv = [
            "post",
            "--owner",
            "owner",
            "--repo",
            "repo",
            "--path",
            "a.md",
            "--max-page-bytes",
            "1000",
            option,
            target,
        ]
        if option != "--content-file":
            argv += ["--content", "hi"]
    else:
        argv = ["batch", "--owner", "owner", "--repo", "repo", target]
    code, out, err = cli(*argv)
    shown = target if "big" not in name and "latin1" not in name and "nul" not in name else ""
    assert_refused(code, out, err, shown)
    assert refs(remote) == seeded


def test_content_and_content_file_together_or_neither(cli, seeded, remote, files):
    for extra in (["--content", "x", "--content-file", str(files / "big.txt")], []):
        code, out, err = cli("post", "--owner", "owner", "--repo", "repo", "--path", "a.md", *extra)
        assert out == "" and code == 2 and "--content" in err and "Traceback" not in err
    assert refs(remote) == seeded


def test_a_token_with_a_line_break_is_refused_without_showing_it(cli, seeded, remote):
    code, out, err = cli(*POST, "--token", f"{TOKEN}\nX-Evil: 1")
    assert code == 2 and "token" in err and TOKEN not in out + err
    assert refs(remote) == seeded


MANIFESTS = {
    "not TOML": ("[[page]\npath = 'a.md'", "not valid TOML"),
    "empty": ("", "[[page]]"),
    "unknown key": ("[[page]]\npath = 'a.md'\ncontent = 'x'\ncolour = 'red'\n", "'colour'"),
    "no path": ("[[page]]\ncontent = 'x'\n", "no path"),
    "no content": ("[[page]]\npath = 'a.md'\n", "content"),
    "content and content_file": (
        "[[page]]\npath = 'a.md'\ncontent = 'x'\ncontent_file = 'c.txt'\n",
        "content_file",
    ),
    "content_file missing": ("[[page]]\npath = 'a.md'\ncontent_file = 'nope.txt'\n", "'nope.txt'"),
    "content_file not UTF-8": (
        "[[page]]\npath = 'a.md'\ncontent_file = 'latin1.txt'\n",
        "'latin1.txt'",
    ),
    "number as note": ("[[page]]\npath = 'a.md'\ncontent = 'x'\nnote = 5\n", "note"),
    "top-level key": ("title = 'x'\n[[page]]\npath = 'a.md'\ncontent = 'x'\n", "[[page]]"),
    "page is not a table": ("page = ['a.md']\n", "not a table"),
    "same path twice": (
        "[[page]]\npath = 'a.md'\ncontent = 'x'\n[[page]]\npath = 'a.md'\ncontent = 'y'\n",
        "'a.md'",
    ),
    "bad path": ("[[page]]\npath = '../a.md'\ncontent = 'x'\n", "'../a.md'"),
    "bad report": ("[[page]]\npath = 'a.md'\ncontent = 'x'\nreport = 'MEH'\n", "'MEH'"),
    "bad note": ("[[page]]\npath = 'a.md'\ncontent = 'x'\nnote = \"a\\nb\"\n", "note"),
    "one bad page among good ones": (
        "[[page]]\npath = 'ok.md'\ncontent = 'x'\n[[page]]\npath = '.git/x'\ncontent = 'y'\n",
        "'.git/x'",
    ),
    "not UTF-8": (b"[[page]]\npath = 'caf\xe9.md'\ncontent = 'x'\n", "manifest"),
    "content_file over the size limit": (
        "[[page]]\npath = 'a.md'\ncontent_file = 'huge.txt'\n",
        "page 'a.md': content is 1048577 bytes, over",
    ),
}


@pytest.mark.parametrize("case", list(MANIFESTS))
def test_batch_refuses_bad_manifests(cli, seeded, remote, files, case):
    text, named = MANIFESTS[case]
    manifest = files / "pages.toml"
    manifest.write_bytes(text if isinstance(text, bytes) else text.encode())
    code, out, err = cli("batch", "--owner", "owner", "--repo", "repo", manifest)
    assert_refused(code, out, err, "")
    assert named in err, err
    assert refs(remote) == seeded


SPEC = '[[spec]]\nowner = "owner"\nrepo = "repo"\npath = "{}"\nschedule = "1h"\n'
WINDOW = '[[maintenance]]\nstart = "0 2 * * *"\nduration = "1h"\n'
SPEC_FILES = {
    "fail_after zero": (GOOD_SPECS + "fail_after = 0\n", "bad fail_after 0"),
    "missing_after text": (GOOD_SPECS + 'missing_after = "2"\n', "bad missing_after '2'"),
    "remind_every zero": (GOOD_SPECS + 'remind_every = "0s"\n', "'0s'"),
    "bad tag": (GOOD_SPECS + 'tags = ["a b"]\n', "'a b'"),
    "tags not a list": (GOOD_SPECS + 'tags = "db"\n', "'db'"),
    "depends_on not a list": (GOOD_SPECS + 'depends_on = "a.md"\n', "'a.md'"),
    "unknown depends_on": (GOOD_SPECS + 'depends_on = ["b.md"]\n', "'owner/repo:b.md'"),
    "dependency cycle": (
        SPEC.format("a.md")
        + 'depends_on = ["b.md"]\n'
        + SPEC.format("b.md")
        + 'depends_on = ["a.md"]\n',
        "dependency cycle",
    ),
    "pause with a bad glob": (GOOD_SPECS + '[[pause]]\npath = "jobs/[a"\n', "'jobs/[a'"),
    "pause with a bad until": (GOOD_SPECS + '[[pause]]\npath = "a"\nuntil = "soon"\n', "'soon'"),
    "pause not a table": ('pause = "all"\n' + GOOD_SPECS, "[[pause]]"),
    "zero-duration window": (WINDOW.replace('"1h"', '"0s"'), "'0s'"),
    "window with a bad cron": (WINDOW.replace("0 2 * * *", "0 25 * * *"), "'0 25 * * *'"),
    "window with a bad zone": (WINDOW + 'tz = "Mars/Base"\n', "'Mars/Base'"),
    "window with a bad glob": (WINDOW + 'paths = ["/abs"]\n', "'/abs'"),
    "window without a duration": ('[[maintenance]]\nstart = "0 2 * * *"\n', "no duration"),
    "dashboard schedule never runs": ('[dashboard]\nschedule = "0 0 31 2 *"\n', "never runs"),
    "heartbeat URL stored": (
        '[dashboard]\nheartbeat_url_env = "https://hc-ping.com/x"\n',
        "bad heartbeat_url_env",
    ),
    "not TOML": ("[[spec]\n", "not valid TOML"),
    "unknown table": ("[colours]\nred = 1\n", "'colours'"),
    "bad schedule": (GOOD_SPECS.replace('"1h"', '"often"'), "'often'"),
    "bad cron": (GOOD_SPECS.replace('"1h"', '"99 * * * *"'), "'99 * * * *'"),
    "negative grace": (GOOD_SPECS + 'grace = "-5m"\n', "'-5m'"),
    "bad path": (GOOD_SPECS.replace("jobs/a.md", "../a.md"), "'../a.md'"),
    "bad zone": ('[dashboard]\ntz = "Mars/Olympus"\n', "'Mars/Olympus'"),
    "bad mode": ('[dashboard]\nmode = "pdf"\n', "'pdf'"),
    "bad tolerance": ('[dashboard]\ntolerance = "soon"\n', "'soon'"),
    "stored secret": (
        '[notify.slack]\nwebhook_url = "https://hooks.example/T0/B0/x"\n',
        "webhook_url",
    ),
    "same spec twice": (GOOD_SPECS * 2, "appears twice"),
    "zero max_duration": (GOOD_SPECS + 'max_duration = "0s"\n', "'0s'"),
    "bad min_duration": (GOOD_SPECS + 'min_duration = "soon"\n', "'soon'"),
    "min_duration over max_duration": (
        GOOD_SPECS + 'max_duration = "1h"\nmin_duration = "2h"\n',
        "must be shorter than max_duration",
    ),
}


@pytest.mark.parametrize("case", list(SPEC_FILES))
def test_dashboard_refuses_bad_spec_files(cli, tmp_path, monkeypatch, case):
    text, named = SPEC_FILES[case]
    remote = make_bare(tmp_path / "remotes" / "owner" / "repo.git")
    monkeypatch.setenv("PULSEOX_GIT_REMOTE", f"file://{tmp_path}/remotes/{{owner}}/{{repo}}.git")
    commit_files(remote, {"pulseox.toml": text, "jobs/a.md": "x"})
    before = refs(remote)
    for argv in (REFRESH, ["spec", "list", "--owner", "owner", "--repo", "repo"]):
        code, out, err = cli(*argv)
        assert_refused(code, out, err, "")
        assert named in err, err
    assert refs(remote) == before


# -- the Python API ----------------------------------------------------------------


def _client(**kwargs):
    from pulseox_git.client import PulseOxClient

    return PulseOxClient(**kwargs)


def _post(path="a.md", content="hi", report="GOOD", note=""):
    return lambda: _client().post("owner", "repo", path, content, report=report, note=note)


def _many(pages):
    return lambda: _client().post_many("owner", "repo", pages)


def _spec(schedule="1h", grace=None, path="a.md", owner="owner", **limits):
    from pulseox_git.specs import PulseOxSpec

    return lambda: PulseOxSpec(owner, "repo", path, schedule, grace, **limits)


def _run(argv=("true",), **options):
    return lambda: _client().run("owner", "repo", "jobs/r.md", argv, **options)


def _monitor(**options):
    return lambda: _client().monitor("owner", "repo", "jobs/m.md", **options)


def _dashboard(**kwargs):
    from pulseox_git.dashboard import PulseOxDashboard

    return lambda: PulseOxDashboard(**{"owner": "owner", "repo": "repo", **kwargs})


API_CASES = {
    "post path '../x.md'": (_post(path="../x.md"), "'../x.md'"),
    "post path 5": (_post(path=5), "5"),
    "post path '\\ud800'": (_post(path="\ud800.md"), "'\\ud800.md'"),
    "post content None": (_post(content=None), "None"),
    "post content bytes not UTF-8": (_post(content=b"\xff"), "UTF-8"),
    "post report 'ok'": (_post(report="ok"), "'ok'"),
    "post report None": (_post(report=None), "None"),
    "post note 3": (_post(note=3), "3"),
    "post note with a break": (_post(note="a\nb"), "'a\\nb'"),
    "post note lone surrogate": (_post(note="\udcff"), "'\\udcff'"),
    "post owner 'a b'": (lambda: _client().post("a b", "repo", "a.md", "x"), "'a b'"),
    "post_many empty": (_many([]), "empty"),
    "post_many not a dict": (_many([5]), "5"),
    "post_many no content": (_many([{"path": "a.md"}]), "content"),
    "post_many unknown key": (_many([{"path": "a.md", "content": "x", "x": 1}]), "'x'"),
    "post_many twice": (_many([{"path": "a.md", "content": "x"}] * 2), "'a.md'"),
    "client max_page_bytes 0": (lambda: _client(max_page_bytes=0), "0"),
    "client max_page_bytes -5": (lambda: _client(max_page_bytes=-5), "-5"),
    "client remote ext::": (
        lambda: _client(remote="ext::sh -c x").post("owner", "repo", "a.md", "x"),
        "'ext::sh -c x'",
    ),
    "client remote ''": (lambda: _client(remote="").post("owner", "repo", "a.md", "x"), "''"),
    "client branch '-f'": (lambda: _client(branch="-f").post("owner", "repo", "a.md", "x"), "'-f'"),
    "client transport 'ssh'": (
        lambda: _client(transport="ssh").post("owner", "repo", "a.md", "x"),
        "'ssh'",
    ),
    "client token with newline": (lambda: _client(token="a\nb"), "token"),
    "client token 5": (lambda: _client(token=5), "token must be text"),
    "client remote 5": (lambda: _client(remote=5).post("owner", "repo", "a.md", "x"), "5"),
    "post message 5": (lambda: _client().post("owner", "repo", "a.md", "x", message=5), "5"),
    "post message with a break": (
        lambda: _client().post("owner", "repo", "a.md", "x", message="a\nb"),
        "'a\\nb'",
    ),
    "post_many None": (_many(None), "None"),
    "post_many a single dict": (_many({"path": "a.md", "content": "x"}), "'a.md'"),
    "spec schedule '0m'": (_spec("0m"), "'0m'"),
    "spec fail_after 0": (_spec(fail_after=0), "bad fail_after 0"),
    "spec missing_after 1.5": (_spec(missing_after=1.5), "1.5"),
    "spec depends_on a string": (_spec(depends_on="b.md"), "'b.md'"),
    "spec depends_on '../b.md'": (_spec(depends_on=["../b.md"]), "'../b.md'"),
    "spec tags ['a b']": (_spec(tags=["a b"]), "'a b'"),
    "spec remind_every '0'": (_spec(remind_every="0"), "'0'"),
    "dashboard with a cycle": (
        _dashboard(spec_list=[_spec(depends_on=["a.md"])()]),
        "dependency cycle",
    ),
    "spec schedule 'often'": (_spec("often"), "'often'"),
    "spec schedule cron '61 * * * *'": (_spec("61 * * * *"), "'61 * * * *'"),
    "spec schedule cron '0 0 31 2 *'": (_spec("0 0 31 2 *"), "'0 0 31 2 *'"),
    "spec schedule timedelta(0)": (_spec(timedelta(0)), "0s"),
    "spec schedule -1s": (_spec(timedelta(seconds=-1)), "-1s"),
    "spec schedule 5": (_spec(5), "5"),
    "spec grace '-1m'": (_spec(grace="-1m"), "'-1m'"),
    "spec grace -1s": (_spec(grace=timedelta(seconds=-1)), "-1s"),
    "spec grace 'soon'": (_spec(grace="soon"), "'soon'"),
    "spec path '.git/x'": (_spec(path=".git/x"), "'.git/x'"),
    "spec owner ''": (_spec(owner=""), "''"),
    "spec max_duration '0s'": (_spec(max_duration="0s"), "'0s'"),
    "spec max_duration -1s": (_spec(max_duration=timedelta(seconds=-1)), "'-1s'"),
    "spec min_duration 'soon'": (_spec(min_duration="soon"), "'soon'"),
    "spec min_duration == max_duration": (
        _spec(max_duration="1h", min_duration=timedelta(hours=1)),
        "'1h'",
    ),
    "run argv []": (_run([]), "[]"),
    "run argv a string": (_run("ls -l"), "'ls -l'"),
    "run argv with NUL": (_run(["echo", "a\0b"]), "NUL"),
    "run argv [5]": (_run([5]), "[5]"),
    "run timeout '0'": (_run(timeout="0"), "'0'"),
    "run timeout timedelta(0)": (_run(timeout=timedelta(0)), "'0s'"),
    "run kill_after '-1m'": (_run(kill_after="-1m"), "'-1m'"),
    "run tail_lines -1": (_run(tail_lines=-1), "-1"),
    "run tail_bytes 0": (_run(tail_bytes=0), "0"),
    "run tail_lines True": (_run(tail_lines=True), "True"),
    "run redact_env a string": (_run(redact_env="API_KEY"), "'API_KEY'"),
    "run note with a break": (_run(note="a\nb"), "'a\\nb'"),
    "run path '../x'": (lambda: _client().run("owner", "repo", "../x", ["true"]), "'../x'"),
    "monitor note with a break": (_monitor(note="a\nb"), "'a\\nb'"),
    "monitor redact_env ['a b']": (_monitor(redact_env=["a b"]), "'a b'"),
    "monitor path 'index.html'": (
        lambda: _client().monitor("owner", "repo", "index.html"),
        "'index.html'",
    ),
    "dashboard tz 'Nowhere/City'": (_dashboard(tz="Nowhere/City"), "'Nowhere/City'"),
    "dashboard mode 'pdf'": (_dashboard(mode="pdf"), "'pdf'"),
    "dashboard tolerance '-5m'": (_dashboard(tolerance="-5m"), "-5m"),
    "dashboard notify {'x': 5}": (_dashboard(notify={"x": 5}), "x"),
    "dashboard notify ['slack']": (_dashboard(notify=["slack"]), "['slack']"),
    "dashboard repo 'a/b'": (_dashboard(repo="a/b"), "'a/b'"),
    "dashboard notify provider 'nosuchprovider'": (
        lambda: _dashboard(notify={"nosuchprovider": {}})().write_summary(),
        "'nosuchprovider'",
    ),
}


@pytest.mark.parametrize("case", list(API_CASES))
def test_python_api_raises_bad_input_error(seeded, remote, case):
    call, named = API_CASES[case]
    with pytest.raises(BadInputError) as info:
        call()
    message = str(info.value)
    assert named in message and "\n" not in message, message
    assert isinstance(info.value, ValueError)  # documented: BadInputError is a ValueError
    assert refs(remote) == seeded


def test_every_command_has_a_row():
    """A new command must come with bad-input rows here."""
    from pulseox_git.cli import app

    def commands(group, prefix=""):
        for info in group.registered_commands:
            yield prefix + (info.name or info.callback.__name__)
        for sub in group.registered_groups:
            yield from commands(sub.typer_instance, prefix + sub.name + " ")

    covered = {param.id.split(" -")[0] for param in CLI_CASES} | {"batch"}
    assert set(commands(app)) - covered == set()


def test_a_refused_post_creates_nothing_on_an_empty_remote(tmp_path, cli):
    """A refused post to a remote that does not exist yet creates nothing there."""
    target = tmp_path / "new" / "repo.git"
    make_bare(target)
    code, _out, _err = cli(
        "post",
        "--owner",
        "o",
        "--repo",
        "r",
        "--remote",
        f"file://{target}",
        "--path",
        ".git/x",
        "--content",
        "x",
    )
    assert code == 2 and refs(target) == ""


def test_a_relative_remote_path_is_relative_to_where_the_command_runs(tmp_path, cli, monkeypatch):
    """Not to the cache (git's cwd), where it would name nothing, confusingly."""
    make_bare(tmp_path / "here" / "status.git")
    monkeypatch.chdir(tmp_path / "here")
    code, out, err = cli(
        "post",
        "--owner",
        "o",
        "--repo",
        "r",
        "--remote",
        "status.git",
        "--path",
        "a.md",
        "--content",
        "x",
    )
    assert code == 0, err
    assert f"to {tmp_path}/here/status.git" in out
    assert refs(tmp_path / "here" / "status.git") != ""
