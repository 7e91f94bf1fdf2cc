"""scripts/bench.py runs end to end in its tiny mode and writes its JSON and tables.

Only that the benchmark works is checked here, never how fast anything is: the
timings belong to `scripts/bench` on a quiet machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs the benchmark script end to end

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "scripts" / "bench.py"


def run_bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(BENCH), "--tiny", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def test_tiny_run_writes_every_comparison_as_json_and_markdown(tmp_path: Path):
    out = tmp_path / "bench.json"
    proc = run_bench("--json", str(out), "--markdown")
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out.read_text())
    for n, entry in results["batch"].items():
        assert int(n) > 0
        for side in ("pulseox_git", "raw_git"):
            assert entry[side]["n"] == 1 and 0 < entry[side]["median"] <= entry[side]["max"]
    assert results["posts"]["pulseox_git"]["n"] == 3
    dash = [e for e in results["dashboard"].values() if isinstance(e, dict)]
    assert [d["commits"] for d in dash] == [20, 40]
    assert all(d["peak_rss_bytes"] > 1 << 20 for d in dash)
    assert dash[-1]["incremental"]["n"] == 1
    assert set(results["startup"]) == {
        "pulseox-git --version",
        "pulseox-git post --help",
        "python3 -c pass",
        "python3 -c 'import typer'",
    }
    large = results["large"]
    assert (large["specs"], large["commits"]) == (30, 90)
    for side in ("raw_git", "pulseox_git", "write", "after_posts"):
        assert large[side]["n"] == 1 and large[side]["median"] > 0
    assert all(peak > 1 << 20 for peak in large["peak_rss_bytes"].values())
    assert large["bytes"]["index.html"] > 1000 and large["bytes"]["summary.md"] > 100
    assert results["machine"]["nproc"] >= 1 and "git version" in results["machine"]["git"]
    through = results["passthrough"]
    assert through["mb"] == 2 and through["pulseox_git"]["n"] == through["cat_pipe"]["n"] == 1
    scale = results["scale"]
    assert set(scale) == {"others", "idle", "after_commits", "year"}
    assert scale["others"]["3"]["http_requests"] > scale["others"]["1"]["http_requests"] > 0
    assert scale["idle"]["commits"] == 0 and scale["idle"]["heartbeat_commits"] == 1
    assert scale["year"]["commits"] == 1460 and scale["year"]["packed_bytes"] > 0
    assert {t["target"][:4] for t in results["targets"]} >= {"(h1)", "(h2)", "(h3)", "(h4)"}
    assert {t["target"][:3] for t in results["targets"]} >= {
        "(a)",
        "(b)",
        "(c)",
        "(e)",
        "(f)",
        "(l)",
    }
    lines = proc.stdout.splitlines()  # the README table
    assert lines[0].startswith("| measure | pulseox-git | raw git | ratio |")
    assert "| (a) batch of 10 pages, one commit |" in proc.stdout
    assert any(line.startswith("| (e) `pulseox-git --version` |") for line in lines)
    assert any(line.startswith("| (l) cold refresh --no-write, 30 specs") for line in lines)
    assert "| target | measured | met |" in lines
    assert any(line.startswith("Measured on ") and "scripts/bench" in line for line in lines)
