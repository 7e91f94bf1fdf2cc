"""Large dashboards: the spec file parsed once per refresh, the status page and
summary of thousands of specs (problems in full, OK folded by folder)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fixtures.repos import show
from pulseox_git.client import PulseOxClient
from pulseox_git.dashboard import PulseOxDashboard, board
from pulseox_git.specs import PulseOxSpec

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def dashboard(specs: list[PulseOxSpec] | None = None) -> PulseOxDashboard:
    return PulseOxDashboard(owner="owner", repo="repo", spec_list=specs, clock=lambda: T0)


def test_a_writing_refresh_parses_the_spec_file_once(remote: Path, monkeypatch: pytest.MonkeyPatch):
    PulseOxClient(clock=lambda: T0).post("owner", "repo", "a.md", "ran", "GOOD")
    dashboard([PulseOxSpec("owner", "repo", "a.md", "1d")]).write_summary()
    parsed: list[str] = []
    real = board.load_specs

    def counting(text: str, where: str = "pulseox.toml") -> Any:
        parsed.append(where)
        return real(text, where)

    monkeypatch.setattr(board, "load_specs", counting)
    dashboard().write_summary()
    assert parsed == ["pulseox.toml in owner/repo"]
    # the list read is the dashboard's own: a spec added to it is written
    changed = dashboard().get_remote_data()
    changed.spec_list.append(PulseOxSpec("owner", "repo", "b.md", "1h"))
    changed.write_summary()
    assert 'path = "b.md"' in show(remote, "pulseox.toml")
    assert len(parsed) == 2
