"""CLI conventions: one `error:` line for every failure, `-v` anywhere, help without args."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "args, named",
    [
        (["post", "--owner", "o", "--repo", "r", "--contnet", "x"], "--contnet"),
        (["post", "--repo", "r", "--path", "p", "--content", "x"], "--owner"),
        (["history", "--owner", "o", "--repo", "r", "--path", "p", "--limit", "0"], "--limit"),
        (["bogus"], "bogus"),
    ],
)
def test_usage_errors_are_one_error_line(cli, args, named):
    code, out, err = cli(*args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and named in err
    assert "--help" in err and "Traceback" not in err


def test_verbose_works_before_the_command(cli, tmp_path):
    args = [
        "post",
        "--owner",
        "o",
        "--repo",
        "r",
        "--path",
        "a.md",
        "--content",
        "x",
        "--remote",
        f"file://{tmp_path}/missing.git",
    ]
    code, _out, quiet = cli(*args)
    assert code == 1 and "Traceback" not in quiet
    code, _out, loud = cli("-v", *args)
    error = next(line for line in quiet.splitlines() if line.startswith("error: "))
    assert code == 1 and error in loud.splitlines() and "Traceback" in loud
    code, _out, again = cli(*args)  # -v does not stick to later runs in one process
    assert "Traceback" not in again


def test_no_arguments_show_the_help(cli):
    """No command is a usage mistake (exit 2, as click has it), answered with the help."""
    code, out, err = cli()
    assert code == 2 and "Usage: pulseox-git [OPTIONS] COMMAND" in out + err
    assert "error:" not in out + err
    code, out, err = cli("spec")
    assert code == 2 and "Usage: pulseox-git spec [OPTIONS] COMMAND" in out + err


def test_a_job_command_starts_without_the_dashboard(tmp_path):
    """A job's command loads the job's side alone (start-up: jobs run it all day);
    every other command, and the help, has them all."""
    probe = (
        "import sys; from pulseox_git.cli import main; code = main(sys.argv[1:]); "
        "print(code, any(m.startswith('pulseox_git.dashboard') for m in sys.modules))"
    )

    def loads_dashboard(*args: str) -> tuple[str, str]:
        proc = subprocess.run(
            [sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=tmp_path
        )
        return proc.stdout.splitlines()[-1], proc.stdout

    assert loads_dashboard("-v", "post", "--help")[0] == "0 False"
    assert loads_dashboard("run", "--help")[0] == "0 False"
    assert loads_dashboard("history", "--help")[0] == "0 False"
    code_and_loaded, out = loads_dashboard("--help")
    assert code_and_loaded == "0 True" and "dashboard" in out and "spec" in out
    assert loads_dashboard("spec", "list", "--help")[0] == "0 True"
