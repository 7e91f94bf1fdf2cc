"""The dashboard's commands, run in-process against a real bare repository."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fixtures.repos import git, log, refs, show
from pulseox_git.client import PulseOxClient
from pulseox_git.page import parse

REPO = ("--owner", "owner", "--repo", "repo")


def post(path: str, report: str = "GOOD", note: str = "") -> None:
    PulseOxClient().post("owner", "repo", path, "output", report, note)


@pytest.fixture
def watched(remote: Path, cli) -> Path:
    """a.md GOOD, b.md BAD, c.md never posted; all three watched."""
    post("a.md")
    post("b.md", "BAD", "disk full")
    for path, schedule in (("a.md", "1d"), ("b.md", "1h"), ("c.md", "0 9 * * 1")):
        code, _out, err = cli("spec", "add", *REPO, "--path", path, "--schedule", schedule)
        assert code == 0, err
    return remote


def test_spec_add_list_remove_are_commits(remote: Path, cli):
    code, out, _err = cli(
        "spec", "add", *REPO, "--path", "jobs/a.md", "--schedule", "2h", "--grace", "10m"
    )
    assert (code, out) == (
        0,
        f"pulseox: watch owner/repo:jobs/a.md every 2h grace 10m "
        f"({git('rev-parse', '--short=12', 'main', cwd=remote).strip()})\n",
    )
    cli(
        "spec",
        "add",
        *REPO,
        "--path",
        "x.md",
        "--schedule",
        "*/5 * * * *",
        "--page-owner",
        "acme",
        "--page-repo",
        "other",
    )
    # a change keeps the spec's place and every setting it does not give
    cli("spec", "add", *REPO, "--path", "jobs/a.md", "--schedule", "3h", "--tag", "etl")
    _code, out, _err = cli("spec", "list", *REPO)
    assert out.splitlines() == [
        "owner/repo:jobs/a.md every 3h grace 10m tag etl",
        "acme/other:x.md every */5 * * * *",
    ]
    code, out, _err = cli(
        "spec", "remove", *REPO, "--path", "x.md", "--page-owner", "acme", "--page-repo", "other"
    )
    assert code == 0
    assert log(remote) == [
        "pulseox: stop watching acme/other:x.md",
        "pulseox: change owner/repo:jobs/a.md every 3h grace 10m tag etl",
        "pulseox: watch acme/other:x.md every */5 * * * *",
        "pulseox: watch owner/repo:jobs/a.md every 2h grace 10m",
    ]
    assert 'path = "jobs/a.md"' in show(remote, "pulseox.toml")


@pytest.mark.parametrize(
    "args, message",
    [
        (("--schedule", "0 9 * * 8"), "bad cron schedule '0 9 * * 8'"),
        (("--schedule", "0 0 31 2 *"), "bad cron schedule '0 0 31 2 *': it never runs"),
        (("--schedule", "0m"), "bad schedule '0m'"),
        (("--schedule", "1h", "--grace", "-5m"), "bad grace period '-5m'"),
        (("--schedule", "fortnightly"), "bad schedule 'fortnightly'"),
        (("--schedule", "1h", "--page-owner", "bad owner"), "bad owner 'bad owner'"),
    ],
)
def test_bad_specs_are_refused_and_the_remote_is_unchanged(watched: Path, cli, args, message):
    before = refs(watched)
    code, _out, err = cli("spec", "add", *REPO, "--path", "d.md", *args)
    assert code == 2 and err.startswith(f"error: {message}")
    assert "Traceback" not in err and refs(watched) == before


def test_removing_an_unwatched_page_is_refused(watched: Path, cli):
    before = refs(watched)
    code, _out, err = cli("spec", "remove", *REPO, "--path", "zzz.md")
    assert code == 2 and "does not watch 'owner/repo:zzz.md'" in err
    assert refs(watched) == before


def test_refresh_prints_and_commits_the_summary(watched: Path, cli):
    code, out, err = cli("dashboard", "refresh", *REPO)
    assert code == 0, err
    assert out == show(watched, "summary.md")
    assert [line for line in out.splitlines() if line.startswith("# ")] == [
        "# Changes",
        "# ERROR",
        "# MISSING",
        "# OK",
        "# Metadata",
    ]
    assert "committed summary.md as" in err and "(1 ERROR, 1 MISSING, 1 OK, 3 changed)" in err
    code, out, err = cli("dashboard", "show", *REPO)
    assert (code, out) == (0, show(watched, "summary.md"))


def test_json_output(watched: Path, cli):
    _code, out, _err = cli("dashboard", "refresh", *REPO, "--json", "--no-write")
    result = json.loads(out)
    assert result["version"] == 1 and result["commit"] is None
    specs = {s["path"]: s for s in result["specs"]}
    assert {p: (s["status"], s["report"], s["note"], s["problem"]) for p, s in specs.items()} == {
        "a.md": ("OK", "GOOD", "", None),
        "b.md": ("ERROR", "BAD", "disk full", None),
        "c.md": ("MISSING", None, "not in the repository", "not in the repository"),
    }
    assert datetime.fromisoformat(specs["a.md"]["updated"]).tzinfo == UTC
    assert specs["c.md"]["updated"] is None


def test_fail_on_gates_a_ci_step(watched: Path, cli):
    code, _out, err = cli("dashboard", "refresh", *REPO, "--fail-on", "ERROR,MISSING")
    assert code == 3 and "2 spec(s) in ERROR, MISSING" in err
    assert parse(show(watched, "summary.md")).report == "BAD"  # written before the gate
    assert cli("dashboard", "refresh", *REPO, "--fail-on", "missing", "--no-write")[0] == 3
    code, _out, err = cli("dashboard", "refresh", *REPO, "--fail-on", "ERROR,LATE")
    assert code == 2 and "bad --fail-on 'ERROR,LATE'" in err


def test_no_write_dry_run_and_bad_zone_leave_the_remote_unchanged(watched: Path, cli):
    before = refs(watched)
    code, out, err = cli("dashboard", "refresh", *REPO, "--no-write")
    assert code == 0 and "# OK" in out and err == ""
    code, out, err = cli("dashboard", "refresh", *REPO, "--dry-run", "--mode", "org")
    assert code == 0 and "* OK" in out and "would commit summary.org" in err
    code, out, err = cli("dashboard", "refresh", *REPO, "--tz", "Mars/Olympus_Mons")
    assert code == 2 and err == (
        "error: unknown time zone 'Mars/Olympus_Mons': use an IANA "
        "name such as 'UTC' or 'Europe/Paris'\n"
    )
    code, out, err = cli("dashboard", "refresh", *REPO, "--notify", "{slack")
    assert code == 2 and "--notify is not valid JSON" in err
    assert refs(watched) == before


def test_time_zone_is_shown(watched: Path, cli):
    code, out, _err = cli("dashboard", "refresh", *REPO, "--tz", "Asia/Tokyo", "--no-write")
    assert code == 0 and out.count("+09:00 Asia/Tokyo") == 4  # 2 Changes, ERROR, OK


def test_a_new_status_repository_refreshes_with_exit_0_and_says_how_to_add_a_spec(
    remote: Path, cli
):
    code, _out, _err = cli("init", *REPO)
    assert code == 0
    code, out, err = cli("dashboard", "refresh", *REPO)
    assert code == 0, err
    hint = "`pulseox-git spec add --owner owner --repo repo --path PAGE --schedule 1d`"
    assert out.startswith("This dashboard watches nothing yet") and hint in out
    assert show(remote, "summary.md") == out
    assert "- note: 0 ERROR, 0 MISSING, 0 OK" in out and "- report: GOOD" in out


def test_changes_are_listed_worst_first(remote: Path, cli):
    post("ok.md")
    post("bad.md", report="BAD")
    for path in ("ok.md", "gone.md", "bad.md"):
        assert cli("spec", "add", *REPO, "--path", path, "--schedule", "1h")[0] == 0
    _code, out, _err = cli("dashboard", "refresh", *REPO)
    changes = out.split("\n\n")[0].splitlines()[1:]
    assert [line.split("None --> ")[1].split()[0] for line in changes] == [
        "ERROR",
        "MISSING",
        "OK",
    ]


def test_check_rdashboard_is_an_alias(watched: Path, cli):
    code, out, _err = cli("check", "rdashboard", *REPO)
    assert code == 0 and out == show(watched, "summary.md")


def test_nothing_to_watch_and_nothing_to_show(remote: Path, cli):
    post("a.md")
    code, _out, err = cli("dashboard", "show", *REPO)
    assert code == 2 and "no summary in owner/repo yet, nothing to show" in err
    assert "dashboard refresh" in err and "Traceback" not in err


def test_check_exists_posts_good_or_bad(remote: Path, cli, tmp_path: Path):
    present = tmp_path / "backup.tar"
    present.write_text("x")
    code, _out, err = cli("check", "exists", *REPO, "--path", present, "--hc-path", "hc.md")
    assert code == 0, err
    footer = parse(show(remote, "hc.md"))
    assert (footer.report, footer.note) == ("GOOD", "all 1 paths exist")
    assert str(present) in footer.content
    code, _out, err = cli(
        "check",
        "exists",
        *REPO,
        "--path",
        present,
        "--path",
        tmp_path / "missing.tar",
        "--hc-path",
        "hc.md",
    )
    footer = parse(show(remote, "hc.md"))
    assert (code, footer.report, footer.note) == (0, "BAD", "1 of 2 paths missing")
    assert "missing.tar" in footer.content.split("## Present Paths")[0]


def test_init_scaffolds_a_status_repository(remote: Path, cli):
    code, _out, err = cli("init", *REPO)
    assert code == 0, err
    files = git("ls-tree", "-r", "--name-only", "main", cwd=remote).split()
    assert files == [".github/workflows/pulseox-dashboard.yml", "README.md", "pulseox.toml"]
    workflow = show(remote, ".github/workflows/pulseox-dashboard.yml")
    assert "pulseox-git dashboard refresh --owner owner --repo repo" in workflow
    assert "${{ secrets.GITHUB_TOKEN }}" in workflow
    assert "pulseox-git post --owner owner --repo repo" in show(remote, "README.md")
    code, _out, err = cli("spec", "add", *REPO, "--path", "a.md", "--schedule", "1d")
    assert code == 0 and 'path = "a.md"' in show(remote, "pulseox.toml")
    before = refs(remote)
    code, out, err = cli("init", *REPO)  # again: nothing to add, and that is fine
    assert (code, out) == (
        0,
        "nothing to do: owner/repo already has "
        ".github/workflows/pulseox-dashboard.yml, README.md, pulseox.toml\n",
    )
    assert refs(remote) == before


def test_init_on_another_branch_says_so_in_the_examples(remote: Path, cli):
    code, _out, err = cli("init", *REPO, "--branch", "trunk")
    assert code == 0, err
    readme = git("show", "trunk:README.md", cwd=remote)
    assert "pulseox-git post --owner owner --repo repo --branch trunk --path" in readme
    assert "spec add --owner owner --repo repo --branch trunk \\\n    --path" in readme
    assert "--branch trunk" in git(
        "show", "trunk:.github/workflows/pulseox-dashboard.yml", cwd=remote
    )


def test_grace_zero_is_accepted_like_zero_seconds(remote: Path, cli):
    for path, grace in (("a.md", "0"), ("b.md", "0s")):
        code, out, err = cli(
            "spec", "add", *REPO, "--path", path, "--schedule", "1h", "--grace", grace
        )
        assert code == 0, err
    _code, out, _err = cli("spec", "list", *REPO)
    assert out.splitlines() == ["owner/repo:a.md every 1h", "owner/repo:b.md every 1h"]


def test_an_unreadable_other_repository_is_reported_not_fatal(watched: Path, cli):
    code, _out, err = cli(
        "spec",
        "add",
        *REPO,
        "--path",
        "jobs/x.md",
        "--schedule",
        "1d",
        "--page-owner",
        "nobody",
        "--page-repo",
        "nothing",
    )
    assert code == 0, err
    code, out, err = cli("dashboard", "refresh", *REPO)
    assert code == 0, err
    assert "warning: cannot read nobody/nothing: " in err
    assert "jobs/x.md) cannot read nobody/nothing: " in show(watched, "summary.md")
    assert "- [a.md](a.md)" in out.split("# OK")[1]  # the rest is refreshed as usual


def test_spec_add_keeps_hand_written_comments_and_remove_rewrites(remote: Path, cli):
    from fixtures.repos import commit_files

    toml = (
        "# watched by the ops team: ask #ops before removing anything\n"
        "[dashboard]\ntz = 'Europe/Paris'  # our office\n\n"
        "[[spec]]\nowner = 'owner'\nrepo = 'repo'\npath = 'a.md'\nschedule = '1d'\n"
    )
    commit_files(remote, {"pulseox.toml": toml})
    code, _out, err = cli(
        "spec", "add", *REPO, "--path", "b.md", "--schedule", "2h", "--grace", "5m"
    )
    assert code == 0, err
    text = show(remote, "pulseox.toml")
    assert text.startswith(toml)  # every hand-written line, as written
    assert text[len(toml) :] == (
        '\n[[spec]]\nowner = "owner"\nrepo = "repo"\npath = "b.md"\nschedule = "2h"\ngrace = "5m"\n'
    )
    _code, out, _err = cli("spec", "list", *REPO)
    assert out.splitlines() == ["owner/repo:a.md every 1d", "owner/repo:b.md every 2h grace 5m"]
    code, _out, err = cli("spec", "remove", *REPO, "--path", "a.md")
    assert code == 0, err
    text = show(remote, "pulseox.toml")  # rewritten, as the header of the file says
    assert "ask #ops" not in text and "spec remove" in text.splitlines()[1]
    assert 'tz = "Europe/Paris"' in text and 'path = "b.md"' in text and "a.md" not in text
