"""The README is executed: its Python examples as doctests, its console sessions
as commands whose output must match (fixtures/readme.py says how)."""

from __future__ import annotations

import doctest
import os
import re
import sys
from pathlib import Path

import pytest

from fixtures.readme import make_remotes, run_console_sessions

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture
def readme_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PULSEOX_GIT_REMOTE", make_remotes(tmp_path / "remotes"))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


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


@pytest.mark.slow  # a hundred processes; the doctests above stay in the fast loop
def test_readme_console_sessions(readme_env: Path):
    run_console_sessions(README.read_text(), readme_env, dict(os.environ))
