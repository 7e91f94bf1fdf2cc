"""scripts/demo, the README's first command, runs end to end with no GitHub and no token."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_demo_runs_and_its_commands_can_be_pasted(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("PULSEOX_TOKEN", "GITHUB_TOKEN")}
    env["TMPDIR"] = str(tmp_path)
    proc = subprocess.run(
        [str(ROOT / "scripts" / "demo")], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout + proc.stderr
    commands = [line[2:] for line in out.splitlines() if line.startswith("$ pulseox-git ")]
    assert any(c.startswith("pulseox-git run ") for c in commands)
    assert any(c.startswith("pulseox-git dashboard refresh ") for c in commands)
    quoted = next(c for c in commands if "--note" in c)
    assert "source database unreachable" in shlex.split(quoted)  # one argument, as run
    assert "Traceback" not in out
    assert list(tmp_path.iterdir()) == []  # it cleans up after itself
