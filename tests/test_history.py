"""One git log pass reads every watched page's reports, trailers first, footers second."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from fixtures.repos import commit_files
from pulseox_git.client import PulseOxClient
from pulseox_git.history import read_history
from pulseox_git.page import render

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)


def history_of(client: PulseOxClient, paths: list[str]):
    store = client.store("owner", "repo")
    return store.run(lambda tip: read_history(store, tip, paths))


def test_trailers_hand_edits_and_deletions(bare: Path):
    client = PulseOxClient(remote=f"file://{bare}", clock=lambda: T0)
    client.post_many("owner", "repo", [{"path": "a.md", "content": "x"},
                                       {"path": "b.md", "content": "y", "report": "BAD",
                                        "note": "boom"}])
    hand = render("a.md", "edited by hand", "BAD", T0, "by hand")
    commit_files(bare, {"a.md": hand, "unwatched.md": "z"}, date="2026-05-01T13:00:00Z")
    commit_files(bare, {"b.md": "no footer at all"}, date="2026-05-01T14:00:00Z")
    commit_files(bare, {"b.md": None}, date="2026-05-01T15:00:00Z")
    history = history_of(client, ["a.md", "b.md", "never.md"])
    assert [(r.report, r.note, r.problem) for r in history["a.md"]] == [
        ("BAD", "by hand", None), ("GOOD", "", None)]
    assert [(r.report, r.problem) for r in history["b.md"]] == [
        (None, "deleted"), (None, "no metadata footer"), ("BAD", None)]
    assert history["b.md"][-1].note == "boom" and history["b.md"][-1].time == T0
    assert history["a.md"][0].time == datetime(2026, 5, 1, 13, 0, tzinfo=timezone.utc)
    assert history["never.md"] == []
