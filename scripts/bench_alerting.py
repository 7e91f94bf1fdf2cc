"""What the alerting rules add to a refresh, side by side in one run.

N specs (default 10,000), each with a 40-report history, every one with
fail_after, missing_after, remind_every, a dependency on its neighbour for
nine in ten, and tags; five pauses and three maintenance windows in force.
Per round: `rules.classify` for every spec, then `alerting.apply` on the
entries, then the notification text; the median of the rounds is printed.
No git, no I/O: the rules alone, as a refresh runs them after its reads.

    .venv/bin/python scripts/bench_alerting.py [N] [ROUNDS]
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulseox_git.dashboard import alerting
from pulseox_git.dashboard.pauses import Pause, Window
from pulseox_git.dashboard.rules import Entry, classify
from pulseox_git.dashboard.specs import PulseOxSpec, Settings
from pulseox_git.page import render
from pulseox_git.store.base import Report

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def main(count: int = 10_000, rounds: int = 5) -> None:
    specs, pages, histories = [], [], []
    for i in range(count):
        specs.append(
            PulseOxSpec(
                "o",
                "r",
                f"jobs/{i}.md",
                "1h",
                fail_after=3,
                missing_after=2,
                remind_every="4h",
                depends_on=(f"jobs/{i - 1}.md",) if i % 10 else (),
                tags=("db",) if i % 2 else (),
            )
        )
        updated = NOW - timedelta(minutes=30 + i % 200)
        pages.append(render(f"jobs/{i}.md", "x", "BAD" if i % 3 == 0 else "GOOD", updated, "n"))
        histories.append(
            [
                Report(f"{j:040x}", updated - timedelta(hours=j), "BAD" if (i + j) % 4 else "GOOD")
                for j in range(40)
            ]
        )
    settings = Settings(
        pauses=tuple(Pause(f"jobs/{k}*", NOW + timedelta(hours=1)) for k in range(5)),
        maintenance=tuple(
            Window(f"0 {h} * * *", timedelta(hours=2), "Europe/Paris", (f"jobs/{h}?.md",))
            for h in range(3)
        ),
        remind_every=timedelta(hours=4),
    )
    state = {"status": "ERROR", "since": "2026-05-01T00:00:00+00:00"}
    previous = {s.key: {**state, "notified": "2026-05-01T06:00:00+00:00"} for s in specs}
    times: dict[str, list[float]] = {"classify": [], "alerting": [], "message": []}
    entries: list[Entry] = []
    for _ in range(rounds):
        start = time.perf_counter()
        entries = [
            classify(s, p.encode(), h, NOW, settings)
            for s, p, h in zip(specs, pages, histories, strict=True)
        ]
        for entry in entries:
            entry.previous = "ERROR"
        judged = time.perf_counter()
        alerting.apply(entries, NOW, settings, previous)
        applied = time.perf_counter()
        alerting.message("o/r", entries)
        times["classify"].append(judged - start)
        times["alerting"].append(applied - judged)
        times["message"].append(time.perf_counter() - applied)
    median = {k: statistics.median(v) for k, v in times.items()}
    tally = {
        "paused": sum(e.status == "PAUSED" for e in entries),
        "blocked": sum(e.blocked_by is not None for e in entries),
        "reminders": sum(e.reminder for e in entries),
        "tolerated": sum(e.tolerated is not None for e in entries),
    }
    print(
        f"{count} specs, median of {rounds}: classify {median['classify']:.3f}s, "
        f"alerting.apply {median['alerting']:.3f}s "
        f"({median['alerting'] / median['classify']:.0%} of classify), "
        f"message {median['message']:.3f}s; " + ", ".join(f"{n} {k}" for k, n in tally.items())
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
