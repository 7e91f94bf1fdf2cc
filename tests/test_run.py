"""`pulseox-git run -- CMD` end to end: real commands, real signals, a real bare remote.

Each test runs the CLI as a program (signals and process groups are the
point), then reads what landed with the git CLI. The commands are short
(`sh -c 'exit 3'`); the timeouts are process timeouts of a second, never a
schedule's clock.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import re
import signal
import subprocess
import sys
import termios
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fixtures.repos import git, log, refs, show
from pulseox_git.client import PulseOxClient
from pulseox_git.job.record import amount
from pulseox_git.page import parse, parse_trailers

PAGE = "jobs/nightly.md"
WHERE = ["--owner", "owner", "--repo", "repo", "--path", PAGE]


def pulseox(*args: str) -> list[str]:
    return [sys.executable, "-m", "pulseox_git", *args]


def run(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess[bytes]:
    """`pulseox-git run` as a program, stdin not a terminal (cron, CI)."""
    return subprocess.run(
        pulseox("run", *WHERE, *args),
        capture_output=True,
        stdin=kwargs.pop("stdin", subprocess.DEVNULL),
        env={**os.environ, **(env or {})},
        timeout=60,
        **kwargs,
    )


def started(*args: str, env: dict | None = None) -> subprocess.Popen[bytes]:
    """`pulseox-git run` in the background; returns once the command printed `ready`."""
    proc = subprocess.Popen(
        pulseox("run", *WHERE, *args),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"
    return proc


def page(remote: Path) -> str:
    return show(remote, PAGE)


def trailers(remote: Path) -> list:
    """The Pulseox-Page trailers of every commit, newest first."""
    messages = git("log", "--format=%B%x00", "main", cwd=remote).split("\0")
    return [p for m in messages for p in parse_trailers(m)]


def output_block(text: str) -> str:
    """The text of the page's output code block."""
    found = re.search(r"\nOutput[^\n]*:\n\n(`{3,})\n(.*?)\n\1\n", text, re.S)
    assert found, text
    return found.group(2)


@pytest.mark.parametrize(
    "command, code, report, note",
    [
        (["sh", "-c", "echo all copied"], 0, "GOOD", "exit 0 after <1s"),
        (["sh", "-c", "exit 1"], 1, "BAD", "exit 1 after <1s"),
        (["sh", "-c", "echo disk full >&2; exit 3"], 3, "BAD", "exit 3 after <1s"),
        (["no-such-command-x"], 127, "BAD", "command not found: no-such-command-x"),
        (["sh", "-c", "kill -KILL $$"], 137, "BAD", "killed by SIGKILL after <1s"),
    ],
)
def test_exit_codes_become_reports_and_run_exits_with_them(remote, command, code, report, note):
    proc = run("--", *command)
    assert proc.returncode == code, proc.stderr
    footer = parse(page(remote))
    assert (footer.report, footer.note) == (report, note)
    assert footer.run is not None and footer.run.exit == code
    assert footer.run.duration == timedelta(0) and footer.run.started is not None
    # the start marker first, then the outcome: both in the history, same run id
    assert log(remote) == [f"pulseox: {PAGE} {report}", f"pulseox: {PAGE} START"]
    finish, start = trailers(remote)
    assert start.report == "START" and start.run.started == finish.run.started
    assert (finish.report, finish.note, finish.run.exit) == (report, note, code)
    # quiet but for the command's own output: cron mails whatever a job prints
    assert proc.stderr == (b"disk full\n" if code == 3 else b"")


def test_the_page_holds_the_record_and_the_output(remote, tmp_path):
    (tmp_path / "intro.md").write_text("Nightly backup of db1.\n")
    proc = run(
        "--content-file",
        str(tmp_path / "intro.md"),
        "--",
        "sh",
        "-c",
        "echo copied 3 files; echo 'warning: slow' >&2; exit 2",
        "it's",
    )
    assert proc.returncode == 2
    text = page(remote)
    assert text.startswith("Nightly backup of db1.\n\n```\n$ sh -c 'echo copied 3 files;")
    assert "echo '\"'\"'warning: slow'\"'\"' >&2; exit 2' 'it'\"'\"'s'\n" in text  # shell-quoted
    assert "\nexit:     2\nresult:   exit 2 after <1s\n```\n" in text
    assert "\nOutput (2 lines):\n" in text
    assert output_block(text) == "copied 3 files\nwarning: slow"
    assert text.endswith("- note: exit 2 after <1s\n- started: " + text.split("- started: ")[1])
    # and the command's own output went through, unchanged
    assert (proc.stdout, proc.stderr) == (b"copied 3 files\n", b"warning: slow\n")


def test_output_passes_through_byte_for_byte_and_the_page_shows_it_safely(remote):
    script = r"printf 'caf\303\251 \377\376 bad \033[31mred\033[0m 50%%\r100%%\n'"
    proc = run("--", "sh", "-c", script)
    assert proc.returncode == 0
    assert proc.stdout == b"caf\xc3\xa9 \xff\xfe bad \x1b[31mred\x1b[0m 50%\r100%\n"
    assert output_block(page(remote)) == "100%"  # the line as a terminal shows it
    proc = run("--", "sh", "-c", r"printf 'caf\303\251 \377\376 bad \033[31mred\033[0m\n'")
    assert output_block(page(remote)) == "café \ufffd\ufffd bad red"


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (999, "999 bytes"),
        (1000, "1.0 kB"),
        (305_000, "305.0 kB"),
        (999_949, "999.9 kB"),
        (999_950, "1.0 MB"),
        (200_000_000, "200.0 MB"),
        (3_500_000_000_000, "3500.0 GB"),
    ],
)
def test_how_much_a_command_wrote_reads_in_si_units(size, shown):
    assert amount(size) == shown


@pytest.mark.slow
def test_the_tail_is_bounded_in_lines_and_bytes(remote):
    script = "for i in range(5000): print(f'line {i} ' + 'x' * 50)"
    proc = run("--", sys.executable, "-c", script)
    assert proc.returncode == 0 and proc.stdout.count(b"\n") == 5000
    text = page(remote)
    assert "Output, the last 20 lines of 303.9 kB:" in text  # len(proc.stdout) == 303_890
    assert output_block(text).splitlines()[-1] == "line 4999 " + "x" * 50
    run("--tail-bytes", "1000", "--", sys.executable, "-c", script)
    block = output_block(page(remote))
    assert len(block.encode()) <= 1000 and block.splitlines()[-1].startswith("line 4999 ")
    assert all(line.startswith("line ") for line in block.splitlines())  # whole lines only
    # one long line of multi-byte characters, cut at a byte bound: still valid text
    run("--tail-bytes", "1001", "--", sys.executable, "-c", "print('é' * 3000)")
    block = output_block(page(remote))
    assert set(block) == {"é"} and len(block.encode()) <= 1001
    run("--tail-lines", "0", "--", "sh", "-c", "echo hid''den")
    text = page(remote)
    assert "utput" not in text and "hidden" not in text


def test_a_backtick_fence_in_the_output_does_not_end_the_block(remote):
    run("--", "printf", "```\\nnot markdown\\n")
    text = page(remote)
    assert "````\n```\nnot markdown\n````" in text
    assert parse(text).report == "GOOD"  # and the footer still reads


def test_secrets_are_redacted_in_everything_posted(remote, tmp_path):
    secret, token = "s3cr3t-value-91f2", "tok-run-canary-77aa"
    env = {"API_KEY": secret, "PULSEOX_TOKEN": token}
    proc = run(
        "--redact-env",
        "API_KEY",
        "--",
        "sh",
        "-c",
        f'echo "key {secret} token $PULSEOX_TOKEN url https://u:{secret}@h/x"; exit 4',
        env=env,
    )
    assert proc.returncode == 4
    assert secret.encode() in proc.stdout  # the command's own output is its own business
    posted = page(remote) + git("log", "--format=%B", "main", cwd=remote)
    assert secret not in posted and token not in posted
    assert "key *** token *** url https://***@h/x" in posted
    assert "$ sh -c 'echo \"key *** token" in posted  # the command line too
    proc = run("--redact-env", "API_KEY", "--", f"/bin/{secret}", env=env)
    assert proc.returncode == 127 and parse(page(remote)).note == "command not found: /bin/***"


@pytest.mark.slow
def test_a_failed_post_warns_and_keeps_the_command_code(tmp_path, remote):
    nowhere = ["--remote", f"file://{tmp_path}/missing.git"]
    proc = run(*nowhere, "--", "sh", "-c", "echo work; exit 3")
    assert proc.returncode == 3 and proc.stdout == b"work\n"
    err = proc.stderr.decode()
    assert "warning: could not post the start to owner/repo:jobs/nightly.md" in err
    assert "warning: could not post the outcome" in err and "Traceback" not in err
    assert run(*nowhere, "--", "true").returncode == 0
    assert run(*nowhere, "--strict", "--", "true").returncode == 1
    assert run(*nowhere, "--strict", "--", "sh", "-c", "exit 5").returncode == 5
    assert refs(remote) == ""  # nothing went anywhere else either


def test_the_start_marker_never_delays_the_command(remote, tmp_path):
    """The remote accepts the start marker only once the command has run: posted
    before the command (not beside it), it would wait, be refused, and warn."""
    marker = tmp_path / "the-command-ran"
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(
        f"#!/bin/sh\nfor i in $(seq 200); do [ -e {marker} ] && exit 0; sleep 0.05; done\n"
        "echo 'the command has not run' >&2; exit 1\n"
    )
    hook.chmod(0o755)
    proc = run("--", "touch", str(marker))
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr
    assert log(remote) == [f"pulseox: {PAGE} GOOD", f"pulseox: {PAGE} START"]


@pytest.mark.slow
def test_timeout_stops_a_hanging_command_and_posts_bad(remote):
    begin = time.monotonic()
    proc = run("--timeout", "1s", "--", "sleep", "30")
    assert proc.returncode == 124
    assert time.monotonic() - begin < 20  # stopped, not waited out
    footer = parse(page(remote))
    assert (footer.report, footer.note, footer.run.exit) == ("BAD", "timed out after 1s", 143)


@pytest.mark.slow
def test_timeout_kills_a_command_that_ignores_sigterm_and_its_children(remote, tmp_path):
    marker = tmp_path / "child-still-running"
    script = f"trap '' TERM; (sleep 3; touch {marker}) & sleep 30"
    proc = run("--timeout", "1s", "--kill-after", "1s", "--", "sh", "-c", script)
    assert proc.returncode == 124
    footer = parse(page(remote))
    assert (footer.note, footer.run.exit) == ("timed out after 1s (SIGKILL)", 137)
    time.sleep(3)  # the background child would have touched the marker by now
    assert not marker.exists()  # the whole process group was stopped


@pytest.mark.slow
def test_sigterm_to_run_reaches_the_command_and_the_outcome_is_posted(remote):
    proc = started(
        "--", "sh", "-c", "trap 'echo stopping; exit 7' TERM; echo ready; sleep 30 & wait"
    )
    proc.send_signal(signal.SIGTERM)
    out, _err = proc.communicate(timeout=30)
    assert proc.returncode == 7 and out == b"stopping\n"
    footer = parse(page(remote))
    assert footer.report == "BAD" and footer.note.startswith("exit 7 after ")
    assert footer.note.endswith(" (got SIGTERM)")
    # a command that does not catch it dies of it: 128 + 15
    proc = started("--", "sh", "-c", "echo ready; exec sleep 30")
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == 143
    assert parse(page(remote)).note.startswith("killed by SIGTERM after ")


@pytest.mark.slow
def test_sigterm_is_followed_by_sigkill_when_the_command_ignores_it(remote):
    proc = started("--kill-after", "1s", "--", "sh", "-c", "trap '' TERM; echo ready; sleep 30")
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == 137
    assert parse(page(remote)).note.startswith("killed by SIGKILL after ")


COUNT_SIGINTS = """
import signal, sys, time
hits = []
signal.signal(signal.SIGINT, lambda *_: hits.append(1))
print("ready", flush=True)
end = time.monotonic() + 10
while not hits and time.monotonic() < end:
    time.sleep(0.02)
time.sleep(0.5)  # room for a second delivery
print(f"got {len(hits)}", flush=True)
sys.exit(130 if hits else 0)
"""


@pytest.mark.slow
def test_sigint_to_run_unattended_reaches_the_command_once(remote):
    proc = started("--no-start", "--", sys.executable, "-c", COUNT_SIGINTS)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert out == b"got 1\n" and proc.returncode == 130
    assert parse(page(remote)).note.startswith("exit 130 after ")


@pytest.mark.slow
def test_ctrl_c_in_a_terminal_reaches_the_command_once(remote):
    """The terminal sends SIGINT to the whole foreground group itself: `run` must
    not send it again, and the command keeps the terminal."""
    master, slave = pty.openpty()

    def take_the_terminal() -> None:  # the new session's controlling terminal
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        pulseox("run", *WHERE, "--no-start", "--", sys.executable, "-c", COUNT_SIGINTS),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        preexec_fn=take_the_terminal,
    )
    os.close(slave)
    seen = b""
    while b"ready" not in seen:
        seen += os.read(master, 4096)
    os.write(master, b"\x03")  # Ctrl-C
    assert proc.wait(timeout=30) == 130
    while b"got" not in seen or not seen.rstrip().endswith((b"1", b"2")):
        try:
            seen += os.read(master, 4096)
        except OSError:
            break
    os.close(master)
    assert b"got 1" in seen, seen
    assert parse(page(remote)).note.startswith("exit 130 after ")


def test_stdin_passes_through(remote):
    proc = run("--", "sh", "-c", "read line; echo got $line", input=b"hello\n", stdin=None)
    assert proc.stdout == b"got hello\n"
    assert output_block(page(remote)) == "got hello"


def test_no_start_note_and_content_options(remote):
    proc = run("--no-start", "--note", "12 GB", "--content", "Backup of db1", "--", "true")
    assert proc.returncode == 0
    assert log(remote) == [f"pulseox: {PAGE} GOOD"]
    text = page(remote)
    footer = parse(text)
    assert footer.note == "12 GB" and text.startswith("Backup of db1\n\n```\n$ true\n")
    assert "result:   exit 0 after <1s" in text  # the record still says what happened


def test_run_without_dashes_and_with_its_options_before_the_command(remote):
    proc = run("sh", "-c", "echo $0 $1", "-x", "--timeout")
    assert proc.returncode == 0 and proc.stdout == b"-x --timeout\n"


def test_org_pages_get_example_blocks_with_escaped_lines(remote):
    where = ["--owner", "owner", "--repo", "repo", "--path", "jobs/n.org"]
    proc = subprocess.run(
        pulseox("run", *where, "--", "printf", "* not a heading\\n#+begin_src\\n"),
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0
    text = show(remote, "jobs/n.org")
    assert "#+begin_example\n,* not a heading\n,#+begin_src\n#+end_example" in text
    assert parse(text).report == "GOOD" and "\n* Metadata\n" in text


def test_history_shows_starts_and_finishes_with_their_runs(remote, cli):
    run("--", "sh", "-c", "exit 3")
    code, out, _ = cli("history", "--owner", "owner", "--repo", "repo", "--path", PAGE)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert " UTC  BAD    " in lines[0] and lines[0].endswith("exit 3 after <1s")
    assert " UTC  START  " in lines[1] and "started on " in lines[1]
    code, out, _ = cli("history", "--owner", "owner", "--repo", "repo", "--path", PAGE, "--json")
    finish, start = json.loads(out)
    assert finish["run"]["exit"] == 3 and finish["run"]["duration_s"] == 0
    assert finish["run"]["started"] == start["run"]["started"]
    assert start["run"]["exit"] is None and start["report"] == "START"


# -- the Python API ------------------------------------------------------------------


T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_client_run_returns_the_result_and_passes_output_on(remote):
    out, err = io.BytesIO(), io.BytesIO()
    client = PulseOxClient(clock=lambda: T0)
    result = client.run(
        "owner", "repo", PAGE, ["sh", "-c", "echo a; echo b >&2; exit 3"], stdout=out, stderr=err
    )
    assert (result.exit_code, result.report, result.note) == (3, "BAD", "exit 3 after <1s")
    assert (out.getvalue(), err.getvalue()) == (b"a\n", b"b\n")
    assert result.start is not None and result.finish is not None and not result.post_errors
    assert result.outcome.started == T0 and result.page.run.started == T0
    text = io.StringIO()  # a text stream works too
    assert client.run("owner", "repo", PAGE, ["echo", "é"], stdout=text).exit_code == 0
    assert text.getvalue() == "é\n"


def test_monitor_posts_start_then_good_with_the_note_set_inside(remote):
    ticks = iter([100.0, 352.0])  # the block took 4m12s
    client = PulseOxClient(clock=lambda: T0)
    with client.monitor("owner", "repo", "jobs/py.md", timer=lambda: next(ticks)) as job:
        job.note = "12 GB"
    footer = parse(show(remote, "jobs/py.md"))
    assert (footer.report, footer.note, footer.run.duration) == (
        "GOOD",
        "12 GB",
        timedelta(seconds=252),
    )
    assert log(remote) == ["pulseox: jobs/py.md GOOD", "pulseox: jobs/py.md START"]
    assert job.result is not None and job.result.sha


def test_monitor_posts_bad_with_the_exception_and_lets_it_go_on(remote, monkeypatch):
    monkeypatch.setenv("DB_PASSWORD", "pw-4411-secret")
    client = PulseOxClient()
    watched = client.monitor("owner", "repo", "jobs/py.md", redact_env=["DB_PASSWORD"])
    with pytest.raises(ValueError, match="bad row 12"), watched:
        raise ValueError("bad row 12 with pw-4411-secret")
    text = show(remote, "jobs/py.md")
    footer = parse(text)
    assert (footer.report, footer.note) == ("BAD", "ValueError: bad row 12 with ***")
    assert "Traceback (" in text and 'raise ValueError("bad row 12 with ***")' in text
    assert "pw-4411-secret" not in text
    with pytest.raises(SystemExit), client.monitor("owner", "repo", "jobs/py.md", start=False):
        raise SystemExit(0)  # a clean exit is GOOD
    assert parse(show(remote, "jobs/py.md")).report == "GOOD"


def test_monitor_never_hides_the_block_result_when_posting_fails(tmp_path):
    client = PulseOxClient(remote=f"file://{tmp_path}/missing.git")
    with client.monitor("owner", "repo", "a.md") as job:
        pass
    assert job.result is None
    # the block's own exception, not a RemoteError
    with pytest.raises(KeyError), client.monitor("owner", "repo", "a.md"):
        raise KeyError("x")
    from pulseox_git.errors import RemoteError

    strict = client.monitor("owner", "repo", "a.md", strict=True)
    with pytest.raises(RemoteError, match="could not post the outcome"), strict:
        pass
