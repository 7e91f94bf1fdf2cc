"""Large dashboards: the spec file parsed once per refresh, the status page and
summary of thousands of specs (problems in full, OK folded by folder)."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from fixtures.repos import commit_files, show
from pulseox_git.client import PulseOxClient
from pulseox_git.dashboard import PulseOxDashboard, alerting, board
from pulseox_git.dashboard.foldpage import compact_strip, group_strip
from pulseox_git.dashboard.groups import FOLD_OVER, folder
from pulseox_git.dashboard.rules import Entry
from pulseox_git.dashboard.statuspage import Row, render_index
from pulseox_git.specs import PulseOxSpec
from pulseox_git.store.base import Report, path_prefixes
from pulseox_git.store.git import GitStore
from pulseox_git.store.git.command import Git
from pulseox_git.store.git.log import read_history
from pulseox_git.store.git.objects import MANY_PATHS, entries

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"
VOID = frozenset({"meta", "br", "img", "link", "input", "hr"})  # elements with no end tag


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


class Tags(HTMLParser):
    """Every tag with its attributes, the text inside each `<summary>`, and a check
    that every element opened is closed in order (void elements aside)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.summaries: list[str] = []
        self._summary: list[str] | None = None
        self.feed(text)
        self.close()
        assert self.open == [], f"never closed: {self.open}"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.open.append(tag)
        if tag == "summary":
            self._summary = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))  # <rect .../>: opened and closed at once

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()
        if tag == "summary" and self._summary is not None:
            self.summaries.append(" ".join("".join(self._summary).split()))
            self._summary = None

    def handle_data(self, data: str) -> None:
        if self._summary is not None:
            self._summary.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def reports(n: int, bad_every: int = 0) -> list[Report]:
    """`n` reports ten minutes apart, newest (at T0) first."""
    return [
        Report(
            f"{i:040x}",
            T0 - timedelta(minutes=10 * i),
            "BAD" if bad_every and i % bad_every == 1 else "GOOD",
            f"run {i}",
        )
        for i in range(n)
    ]


def many_rows(count: int, folders: int) -> list[Row]:
    """`count` specs over `folders` folders: every 13th in ERROR, every 31st MISSING
    (problems first, as the dashboard orders them), each with ten reports."""
    rows = []
    for i in range(count):
        path = f"jobs/team-{i % folders:03d}/job-{i:05d}.md"
        status = "ERROR" if i % 13 == 0 else "MISSING" if i % 31 == 0 else "OK"
        note = "reported BAD" if status == "ERROR" else "late" if status == "MISSING" else ""
        rows.append(Row(path, path, status, note, T0, None, reports(10, 4 if i % 7 == 0 else 0)))
    return sorted(rows, key=lambda r: ("ERROR", "MISSING", "OK").index(r.status))


def test_a_small_page_has_a_row_per_spec_and_no_folders():
    small = many_rows(FOLD_OVER, 10)
    page = Tags(render_index(small, "acme/status", T0))
    assert len([a for a in page.all("tr") if "data-status" in a]) == FOLD_OVER
    assert page.all("details") == []


def test_ten_thousand_specs_problems_in_full_ok_folded_by_folder_under_2_mb():
    rows = many_rows(10000, 100)
    text = render_index(rows, "acme/status", T0)
    assert len(text.encode()) < 2_000_000
    page = Tags(text)
    problems = [r for r in rows if r.status != "OK"]
    shown = [a for a in page.all("tr") if "data-status" in a]
    assert [a["data-status"] for a in shown] == [r.status for r in problems]
    hrefs = {a["href"] for a in page.all("a")}
    assert {r.link for r in rows} <= hrefs  # every page is linked, problems and OK
    groups = page.all("details")
    ok = [r for r in rows if r.status == "OK"]
    expected = Counter(folder(r.name) for r in ok)
    assert {g["data-folder"]: int(g["data-count"] or 0) for g in groups} == expected
    assert len(groups) == 100 and sum(expected.values()) == len(ok)
    first = sorted(expected)[0]
    assert page.summaries[0].startswith(f"✔ {expected[first]} OK {first}")
    assert f'<h2 id="ok">✔ {len(ok)} OK in 100 folders</h2>' in text
    assert "script" not in {tag for tag, _ in page.tags}
    first_problem = next(a for a in page.all("svg") if a.get("class") == "strip")
    assert first_problem["aria-label"] == (
        "last 10 reports: 7 GOOD, 3 BAD; newest 2026-05-01 12:00 UTC GOOD"
    )
    strips = [a for a in page.all("svg") if a.get("class") == "gs"]
    assert len(strips) == 100 and "lowest 70%" in str(strips[0]["aria-label"])


def test_a_compact_strip_draws_what_the_full_strip_draws():
    history = [Report("c3", T0, None, problem="x"), *reports(2, 2)]  # newest first: ?, GOOD, BAD
    svg = compact_strip(history, UTC)
    paths = {p.get("class"): p.get("d") for p in ET.fromstring(svg).iter(f"{SVG}path")}
    assert paths == {
        "b": "M0 10h4v8h-4zM0 1l4 4M4 1l-4 4",
        "g": "M6 2h4v16h-4z",
        "n": "M12.5 6.5h3v11h-3z",
    }  # oldest on the left, as strip_svg
    assert "last 3 reports: 1 GOOD, 1 BAD; newest 2026-05-01 12:00 UTC x" in svg
    assert compact_strip([], UTC) == ""


def test_a_folders_strip_has_a_bar_per_page_as_tall_as_its_share_of_good():
    rows = [
        Row("a/x.md", "a/x.md", "OK", "", T0, None, reports(4)),
        Row("a/y.md", "a/y.md", "OK", "", T0, None, reports(4, 2)),  # 2 BAD of 4
        Row("a/z.md", "a/z.md", "OK", "", T0, None, ()),  # no reports: no bar
    ]
    svg = group_strip(rows)
    root = ET.fromstring(svg)
    path = root.find(f"{SVG}path")
    assert path is not None and path.get("d") == "M0 2h2v16h-2zM3 10h2v8h-2z"
    assert root.get("width") == "9" and "lowest 50% (y.md)" in str(root.get("aria-label"))


def test_a_large_dashboards_summary_counts_ok_pages_per_folder(remote: Path):
    count = FOLD_OVER + 1
    paths = [f"team-{i % 3}/job-{i:03d}.md" for i in range(count)]
    pages = [
        {"path": p, "content": "ran", "report": "BAD" if i % 50 == 0 else "GOOD"}
        for i, p in enumerate(paths)
    ]
    PulseOxClient(clock=lambda: T0).post_many("owner", "repo", pages)
    specs = [PulseOxSpec("owner", "repo", p, "1d") for p in [*paths, "gone.md"]]
    board_ = dashboard(specs).write_summary()
    text = show(remote, "summary.md")
    changes = text.split("# Changes\n")[1].split("\n\n")[0].splitlines()
    bad = [p for i, p in enumerate(paths) if i % 50 == 0]
    assert [line.split()[1] for line in changes[: len(bad) + 1]] == [
        *(f"[{p}]({p})" for p in bad),
        "[gone.md](gone.md)",
    ]
    assert changes[len(bad) + 1 :] == [  # the first refresh's None --> OK, per folder
        f"- team-{k}/ {sum(p.startswith(f'team-{k}/') for i, p in enumerate(paths) if i % 50)}"
        " --> OK"
        for k in range(3)
    ]
    assert board_.summary is not None
    _subject, message = alerting.message("owner/repo", board_.summary.entries) or ("", "")
    assert message.splitlines()[1:] == [
        *(f"- owner/repo:{p} None --> ERROR reported BAD" for p in bad),
        "- owner/repo:gone.md None --> MISSING not in the repository",
        *(line.replace("- team-", "- owner/repo:team-") for line in changes[len(bad) + 1 :]),
    ]
    ok_section = text.split("# OK\n")[1].split("\n\n")[0].splitlines()
    ok = [p for i, p in enumerate(paths) if i % 50]
    assert ok_section == [
        f"- team-{k}/ {sum(p.startswith(f'team-{k}/') for p in ok)} OK" for k in range(3)
    ]
    errors = text.split("# ERROR\n")[1].split("\n\n")[0].splitlines()
    assert [line.split()[1] for line in errors] == [
        f"[{p}]({p})" for i, p in enumerate(paths) if i % 50 == 0
    ]
    assert "# MISSING\n- [gone.md](gone.md) not in the repository never" in text
    page = Tags(show(remote, "index.html"))
    assert sorted(int(d["data-count"] or 0) for d in page.all("details")) == sorted(
        int(line.split()[2]) for line in ok_section
    )


def test_tree_entries_of_many_paths_are_those_of_few_at_a_time(bare: Path, tmp_path: Path):
    files: dict[str, str | None] = {f"d{i % 7}/sub/p{i}.md": "x" for i in range(MANY_PATHS)}
    files |= {"top.md": "x", "afile": "x", "d1/sub/deeper/q.md": "x"}
    commit_files(bare, files)
    git = Git(bare, dict(os.environ), 60.0, "test", tmp_path)
    asked = [*files, "missing.md", "d9/none.md", "afile/under.md", "d1/sub/deeper"]
    prefixes = path_prefixes(asked)
    assert len(asked) > MANY_PATHS and len(prefixes) > MANY_PATHS
    for paths in (asked, prefixes):
        few: dict[str, tuple[str, str]] = {}
        for start in range(0, len(paths), 50):
            few |= entries(git, "main", paths[start : start + 50])
        assert entries(git, "main", paths) == few
    found = entries(git, "main", prefixes)
    assert found["afile"][0] == "100644" and "afile/under.md" not in found
    assert found["d1/sub/deeper"][0] == "040000" and "missing.md" not in found


def test_the_history_cache_keeps_columns_and_damaged_columns_are_no_cache(remote: Path):
    client = PulseOxClient(clock=lambda: T0)
    client.post("owner", "repo", "a.md", "ran", "GOOD", "first")
    client.post("owner", "repo", "b.md", "ran", "BAD", "second")
    client.post("owner", "repo", "a.md", "ran", "GOOD", "third")
    store = GitStore(f"file://{remote}")
    paths = ["a.md", "b.md"]
    history, _ = store.run(lambda tip: store.history_cache.read(tip, paths))
    assert history == store.run(lambda tip: read_history(store.git, tip, paths))
    file = next(store.path.glob("pulseox-history-*.json"))
    data = json.loads(file.read_text())
    assert (data["paths"], data["sizes"], data["at"]) == (paths, [1, 1, 1], [0, 1, 0])
    assert data["notes"] == ["third", "second", "first"]  # newest first
    warm, outcome = store.run(lambda tip: store.history_cache.read(tip, paths))
    assert outcome.mode == "hit" and warm == history
    for damage in (
        {"stamps": ["soon", 1, 2]},
        {"sizes": [1, 1, 2]},
        {"at": [0, -1, 0]},
        {"at": [0, 5, 0]},
        {"notes": ["third"]},
        {"commits": [1, 2, 3]},
        {"runs": [[0]]},
    ):
        file.write_text(json.dumps({**data, **damage}))
        again, outcome = store.run(lambda tip: store.history_cache.read(tip, paths))
        assert outcome.mode == "cold" and again == history


def test_a_long_notification_is_cut_to_a_readable_length():
    specs = [PulseOxSpec("owner", "repo", f"j{i}.md", "1d") for i in range(250)]
    entries = [Entry(spec, "MISSING", "not in the repository", previous="OK") for spec in specs]
    _subject, text = alerting.message("owner/repo", entries) or ("", "")
    lines = text.splitlines()
    assert lines[0] == "pulseox-git owner/repo: 250 status change(s)"
    assert len(lines) == 1 + alerting.MESSAGE_LINES + 1
    assert lines[-1] == f"- ... and {250 - alerting.MESSAGE_LINES} more: see the summary"
