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


def blank_lines_kept(block: str) -> str:
    """A ```python block as doctest reads it: a blank line inside an example's
    output (more output follows before the next prompt) is `<BLANKLINE>`, so the
    README shows the real output, blank lines and all, with no normalising."""
    lines = block.splitlines()
    out = []
    in_output = False
    for i, line in enumerate(lines):
        if line.startswith(">>>"):
            in_output = False
        elif in_output and not line.strip():
            rest = [later for later in lines[i + 1 :] if later.strip()]
            if rest and not rest[0].startswith(">>>"):
                out.append("<BLANKLINE>")
                continue
        elif not line.startswith("..."):
            in_output = bool(line.strip())
        out.append(line)
    return "\n".join(out) + "\n"


def test_readme_python_examples(readme_env: Path):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    text = "\n".join(blank_lines_kept(block) for block in blocks)
    test = doctest.DocTestParser().get_doctest(
        text, {"owner": "example", "repo": "status"}, "README.md", str(README), 0
    )
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)  # whitespace is exact
    result = runner.run(test)
    assert result.attempted > 0 and result.failed == 0


def test_blank_lines_in_output_are_kept_and_a_trailing_one_ends_it():
    block = ">>> print('a\\n\\nb')\na\n\nb\n\n>>> 1\n1\n\n"
    assert blank_lines_kept(block) == ">>> print('a\\n\\nb')\na\n<BLANKLINE>\nb\n\n>>> 1\n1\n\n"


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
