"""Cold and restored caches: a blobless clone by default, the history cache's tip
moving on with every refresh, and a cache restored by CI (actions/cache) checked
like any other."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from fixtures.repos import commit_files, git, show
from pulseox_git.client import PulseOxClient
from pulseox_git.dashboard import PulseOxDashboard
from pulseox_git.specs import PulseOxSpec
from pulseox_git.store.git import GitStore, cache

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SPECS = [PulseOxSpec("owner", "repo", p, "1d") for p in ("a.md", "b.md")]


def refresh(cache: Path, at: datetime, write: bool = True) -> PulseOxDashboard:
    client = PulseOxClient(cache_dir=cache, clock=lambda: at)
    board = PulseOxDashboard(owner="owner", repo="repo", spec_list=SPECS, client=client)
    board.clock = lambda: at
    return board.write_summary() if write else board.refresh()


def history_file(cache: Path) -> dict:
    (found,) = (cache / "repos").glob("*/pulseox-history-*.json")
    return json.loads(found.read_text())


def post(path: str, at: datetime, report: str = "GOOD") -> None:
    PulseOxClient(clock=lambda: at).post("owner", "repo", path, "ran", report)


def test_caches_are_blobless_partial_clones_by_default(remote: Path, cache_dir: Path):
    git("config", "uploadpack.allowFilter", "true", cwd=remote)
    commit_files(remote, {"big.bin": "x" * 100_000})
    commit_files(remote, {"big.bin": "y"})  # the old 100 kB blob stays in history
    store = GitStore(f"file://{remote}", cache_dir=cache_dir)
    assert store.blobless
    store.run(lambda tip: None)
    config = git("config", "--list", cwd=store.path)
    assert "remote.origin.partialclonefilter=blob:none" in config
    missing = git("rev-list", "--objects", "--all", "--missing=print", cwd=store.path)
    assert [line for line in missing.splitlines() if line.startswith("?")]  # the old blob


def test_a_blobless_cache_rolls_its_packs_up_and_is_never_rebuilt(
    remote: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    # git refuses `repack --geometric` in a partial clone: the cache was taken for
    # damaged and cloned again every PACK_LIMIT posts
    git("config", "uploadpack.allowFilter", "true", cwd=remote)
    commit_files(remote, {"seed.md": "seed"})
    monkeypatch.setattr(cache, "PACK_LIMIT", 3)
    client = PulseOxClient(cache_dir=cache_dir)
    client.post("owner", "repo", "a.md", "post 0")
    (store_path,) = [p for p in (cache_dir / "repos").glob("*.git-*") if p.is_dir()]
    assert "partialclonefilter" in (store_path / "config").read_text()
    made = (store_path / "config").stat().st_ino
    caplog.set_level("INFO", "pulseox_git")
    for i in range(1, 10):
        client.post("owner", "repo", "a.md", f"post {i}")
    assert not [r.message for r in caplog.records if "rebuilding" in r.message]
    assert (store_path / "config").stat().st_ino == made
    packs = [p for p in (store_path / "objects" / "pack").iterdir() if p.suffix == ".pack"]
    assert len(packs) <= 3 + 1
    assert "post 9" in show(remote, "a.md")


def test_the_history_cache_tip_moves_on_when_no_page_changed(remote: Path, cache_dir: Path):
    post("a.md", T0)
    post("b.md", T0)
    refresh(cache_dir, T0 + timedelta(minutes=1))  # a dashboard commit: no page in it
    refresh(cache_dir, T0 + timedelta(minutes=2), write=False)
    tip = git("rev-parse", "main", cwd=remote).strip()
    assert history_file(cache_dir)["tip"] == tip  # the next walk starts at the tip


def test_a_restored_cache_is_checked_like_any_other(remote: Path, tmp_path: Path):
    post("a.md", T0)
    post("b.md", T0, "BAD")
    first = tmp_path / "run1"
    refresh(first, T0 + timedelta(minutes=1))
    post("a.md", T0 + timedelta(minutes=5), "BAD")  # the remote moves on between runs
    at = T0 + timedelta(minutes=10)
    cold = refresh(tmp_path / "cold", at, write=False).summary.text

    restored = tmp_path / "run2"  # what actions/cache brings back on the next runner
    shutil.copytree(first, restored)
    assert refresh(restored, at, write=False).summary.text == cold

    # a history cache that names a tip the branch never had is read again, not trusted
    tampered = tmp_path / "run3"
    shutil.copytree(first, tampered)
    (found,) = (tampered / "repos").glob("*/pulseox-history-*.json")
    data = json.loads(found.read_text())
    data["tip"] = "0" * 40
    data["commits"] = []
    found.write_text(json.dumps(data))
    assert refresh(tampered, at, write=False).summary.text == cold

    # a cache of another remote (or a damaged one) is rebuilt
    other = tmp_path / "run4"
    shutil.copytree(first, other)
    (marker,) = (other / "repos").glob("*/pulseox-cache.json")
    marker.write_text(json.dumps({"url": "file:///somewhere/else.git"}))
    assert refresh(other, at, write=False).summary.text == cold


@pytest.fixture
def workflow(cli, remote: Path) -> dict:
    assert cli("init", "--owner", "owner", "--repo", "repo")[0] == 0
    text = show(remote, ".github/workflows/pulseox-dashboard.yml")
    return YAML(typ="safe", pure=True).load(text)


def test_the_workflow_keeps_the_cache_between_runs(workflow: dict):
    steps = workflow["jobs"]["refresh"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    (at,) = [i for i, u in enumerate(uses) if u.startswith("actions/cache@")]
    refresh_at = next(i for i, s in enumerate(steps) if "dashboard refresh" in s.get("run", ""))
    assert at < refresh_at  # restored before the refresh, saved after the job
    cache = steps[at]["with"]
    assert cache["path"] == "~/.cache/pulseox-git"  # the default cache dir on a runner
    # immutable keys: a new entry per run, restored from the newest by prefix
    assert cache["key"] == "pulseox-git-${{ github.run_id }}"
    assert cache["restore-keys"] == "pulseox-git-"
    assert "secrets." not in json.dumps(steps[at])
