#!/usr/bin/env python3
"""Build the example status page shown in the README (docs/statuspage.png).

A week of posts from five jobs goes into a bare repository in a temporary
folder, one commit per hour, with an injected clock; then the dashboard writes
its summary, index.html and badges. With chromium installed, the page is also
photographed:

    .venv/bin/python docs/make_statuspage.py [OUT_DIR]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pulseox_git.client import PulseOxClient  # noqa: E402
from pulseox_git.dashboard import PulseOxDashboard  # noqa: E402
from pulseox_git.specs import PulseOxSpec  # noqa: E402

START = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)
HOURS = 24 * 7


def report(job: str, hour: int) -> tuple[str, str] | None:
    """What each job posts at `hour` (None: it does not post then)."""
    if job == "backup" and hour % 24 == 2:
        return ("BAD", "disk full") if hour // 24 == 3 else ("GOOD", "12 GB in 4 min")
    if job == "etl":
        return (
            ("BAD", "source timed out")
            if hour % 9 == 4 and hour > 100
            else ("GOOD", f"{1200 + hour} k rows")
        )
    if job == "certs" and hour % 24 == 6:
        return ("GOOD", "all certificates valid for 30+ days")
    if job == "export" and hour < 130 and hour % 12 == 1:
        return ("GOOD", "exported")
    if job == "site" and hour % 2 == 0:
        return ("BAD", "HTTP 502") if hour >= HOURS - 3 else ("GOOD", "200 OK in 180 ms")
    return None


def build(out: Path) -> Path:
    work = Path(tempfile.mkdtemp(prefix="pulseox-statuspage-"))
    try:
        for repo in ("status", "web"):
            subprocess.run(
                ["git", "init", "-q", "--bare", "-b", "main", str(work / "acme" / f"{repo}.git")],
                check=True,
            )
        os.environ["PULSEOX_GIT_REMOTE"] = f"file://{work}/{{owner}}/{{repo}}.git"
        os.environ["PULSEOX_GIT_CACHE"] = str(work / "cache")
        for hour in range(HOURS):
            at = START + timedelta(hours=hour, minutes=3)
            client = PulseOxClient(clock=lambda at=at: at)
            pages = []
            for job in ("backup", "etl", "certs", "export"):
                posted = report(job, hour)
                if posted:
                    pages.append(
                        {
                            "path": f"jobs/{job}.md",
                            "content": f"{job} ran",
                            "report": posted[0],
                            "note": posted[1],
                        }
                    )
            if pages:
                client.post_many("acme", "status", pages)
            posted = report("site", hour)
            if posted:
                client.post("acme", "web", "uptime.md", "site check", *posted)
        specs = [
            PulseOxSpec("acme", "status", "jobs/backup.md", "0 2 * * *", "1h"),
            PulseOxSpec("acme", "status", "jobs/etl.md", "1h", "10m"),
            PulseOxSpec("acme", "status", "jobs/certs.md", "1d", "1h"),
            PulseOxSpec("acme", "status", "jobs/export.md", "12h", "1h"),
            PulseOxSpec("acme", "web", "uptime.md", "2h", "15m"),
        ]
        now = START + timedelta(hours=HOURS - 1, minutes=10)
        PulseOxDashboard(
            owner="acme", repo="status", spec_list=specs, clock=lambda: now
        ).write_summary()
        out.mkdir(parents=True, exist_ok=True)
        for name in ("index.html", "summary.md"):
            data = subprocess.run(
                ["git", "show", f"main:{name}"],
                cwd=work / "acme/status.git",
                check=True,
                capture_output=True,
            ).stdout
            (out / name).write_bytes(data)
        return out / "index.html"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def photograph(page: Path, png: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        print("no chromium: skipped the screenshot", file=sys.stderr)
        return
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--window-size=1100,520",
            f"--screenshot={png}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
    )


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    page = build(out)
    photograph(page, out / "statuspage.png")
    print(out)
