"""The README is executed: its Python examples as doctests, its console sessions
as commands whose output must match (`...` matches anything).

In a console block, `$ cat FILE` of a file that does not exist yet writes the
shown text to FILE first, so examples can show their input files. A last output
line `[N]` expects exit code N.
"""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.repos import make_bare

README = Path(__file__).resolve().parent.parent / "README.md"
OWNERS = [("acme", "status"), ("example", "status"), ("acme", "other")]


@pytest.fixture
def readme_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    remotes = tmp_path / "remotes"
    for owner, repo in OWNERS:
        make_bare(remotes / owner / f"{repo}.git")
    monkeypatch.setenv("PULSEOX_GIT_REMOTE", f"file://{remotes}/{{owner}}/{{repo}}.git")
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def console_blocks(text: str) -> list[list[tuple[str, list[str]]]]:
    """Each ```console block as (command, expected output lines) pairs."""
    blocks = []
    for body in re.findall(r"```console\n(.*?)```", text, re.S):
        steps: list[tuple[str, list[str]]] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps:
                steps[-1][1].append(line)
        blocks.append(steps)
    return blocks


def matches(expected: list[str], actual: str) -> bool:
    pattern = "\n".join(re.escape(line).replace(r"\.\.\.", ".*") for line in expected)
    return re.fullmatch(pattern, actual.rstrip("\n"), re.S) is not None


def test_readme_python_examples(readme_env: Path):
    result = doctest.testfile(
        str(README),
        module_relative=False,
        globs={"owner": "example", "repo": "status"},
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 0 and result.failed == 0


def test_readme_console_sessions(readme_env: Path):
    blocks = console_blocks(README.read_text())
    assert blocks
    for steps in blocks:
        for command, expected in steps:
            code = 0
            if expected and re.fullmatch(r"\[\d+\]", expected[-1]):
                code = int(expected.pop()[1:-1])
            target = re.fullmatch(r"cat (\S+)", command)
            if target and not (readme_env / target.group(1)).exists():
                (readme_env / target.group(1)).write_text("\n".join(expected) + "\n")
            proc = subprocess.run(
                ["bash", "-c", command], capture_output=True, text=True, cwd=readme_env, timeout=120
            )
            assert proc.returncode == code, f"$ {command}\n{proc.stdout}{proc.stderr}"
            assert matches(expected, proc.stdout), f"$ {command}\n{proc.stdout}{proc.stderr}"
