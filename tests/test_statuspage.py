"""The status page and badges: valid HTML and SVG with the right statuses, written in
the summary's commit; trend objects in --json; the dashboard as of an earlier point."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest

from fixtures.repos import git, make_bare, show
from pulseox_git.client import PulseOxClient
from pulseox_git.dashboard import PulseOxDashboard
from pulseox_git.dashboard.badges import badges
from pulseox_git.dashboard.statuspage import Row, badge_path, render_index
from pulseox_git.dashboard.trends import trend
from pulseox_git.specs import PulseOxSpec
from pulseox_git.store.base import Report

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
SVG = "{http://www.w3.org/2000/svg}"


class Page(HTMLParser):
    """Rows (status attribute and cell texts), and every tag, of a parsed page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.rows: list[dict] = []
        self._cell: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "tr" and "data-status" in attrs:
            self.rows.append({"status": attrs["data-status"], "cells": []})
        elif tag == "td" and self.rows:
            self._cell = []
        elif tag == "a" and self.rows and self._cell is not None:
            self.rows[-1]["href"] = attrs["href"]

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1]["cells"].append("".join(self._cell).strip())
            self._cell = None


def history(*reports: str | None) -> list[Report]:
    """Reports ten minutes apart, the last one at T0, newest first."""
    n = len(reports)
    return [
        Report(f"{i:040x}", T0 - timedelta(minutes=10 * (n - 1 - i)), r, "n")
        for i, r in enumerate(reports)
    ][::-1]


def rows() -> list[Row]:
    ok = history(*["GOOD"] * 5)
    bad = history("GOOD", "BAD", None, "BAD")
    return [
        Row(
            "jobs/bad.md",
            "jobs/bad.md",
            "ERROR",
            "disk <full> & more",
            T0,
            trend(bad, timedelta(minutes=10), T0),
            bad,
        ),
        Row(
            "acme/other/late.md",
            "https://github.com/acme/other/blob/main/late.md",
            "MISSING",
            "late: due by 12:10",
            T0 - timedelta(hours=1),
            badge=badge_path("acme", "other", "late.md", ("acme", "status")),
        ),
        Row("ok.md", "ok.md", "OK", "", T0, trend(ok, timedelta(minutes=10), T0), ok),
    ]


def test_the_page_parses_with_a_row_per_spec_and_its_status():
    text = render_index(rows(), "acme/status", T0)
    page = Page(text)
    assert [r["status"] for r in page.rows] == ["ERROR", "MISSING", "OK"]
    assert [r["cells"][0] for r in page.rows] == ["✖ ERROR", "? MISSING", "✔ OK"]  # not colour
    assert page.rows[0]["cells"][2] == "disk <full> & more"  # escaped, then read back
    assert page.rows[1]["href"] == "https://github.com/acme/other/blob/main/late.md"
    assert page.rows[2]["cells"][3] == "2026-05-01 12:00 UTC"
    assert page.rows[1]["cells"][4] == ""  # no history, no trend
    assert page.rows[2]["cells"][4].startswith("100% GOOD (last 5) · 5x GOOD")
    assert "25% GOOD (last 4) · 1x BAD · posts every 10m; schedule 10m" in page.rows[0]["cells"][4]
    tags = {tag for tag, _ in page.tags}
    assert "script" not in tags and "link" not in tags and "img" not in tags  # self-contained
    assert not any("src" in attrs for _, attrs in page.tags)
    assert (
        "meta",
        {"name": "viewport", "content": "width=device-width,initial-scale=1"},
    ) in page.tags
    assert "<title>acme/status: ERROR</title>" in text and "<h1>acme/status</h1>" in text
    assert (
        '<span class="st ERROR">✖ 1 ERROR</span> · <span class="st MISSING">? 1 MISSING'
        '</span> · <span class="st OK">✔ 1 OK</span> · updated 2026-05-01 12:00 UTC'
    ) in text


def test_one_report_is_the_last_report_and_times_do_not_wrap():
    one = [Report("c1", T0, "GOOD")]
    text = render_index([Row("a.md", "a.md", "OK", "", T0, None, one)], "t", T0)
    assert 'aria-label="last report: 1 GOOD, 0 BAD"' in text
    assert '<td class="when">2026-05-01 12:00 UTC</td>' in text
    assert ".st,.when{white-space:nowrap}" in text  # Updated stays on one line; Note wraps


def test_report_strips_are_svg_with_a_shape_per_report():
    page = Page(render_index(rows(), "t", T0))
    svgs = [attrs for tag, attrs in page.tags if tag == "svg"]
    assert [s["aria-label"] for s in svgs] == [
        "last 4 reports: 1 GOOD, 2 BAD",
        "last 5 reports: 5 GOOD, 0 BAD",
    ]
    strip = render_index(rows()[:1], "t", T0).split('<svg class="strip"')[1].split("</svg>")[0]
    root = ET.fromstring('<svg class="strip"' + strip + "</svg>")
    shapes = [el.get("class") for el in root.iter() if el.get("class") in ("g", "b", "n")]
    assert shapes == ["g", "b", "b", "n", "b", "b"]  # oldest left: GOOD, BAD(+cross), ?, BAD
    tips = [el.text for el in root.iter(f"{SVG}title")][1:]
    assert tips[0] == "2026-05-01 11:30 UTC GOOD: n" and tips[2].endswith("no report: n")


def test_badges_are_valid_svg_with_the_status_text():
    files = badges(rows())
    assert sorted(files) == [
        "badges/@acme/other/late.md.svg",
        "badges/jobs/bad.md.svg",
        "badges/ok.md.svg",
        "badges/status.svg",
    ]
    texts = {}
    for path, svg in files.items():
        root = ET.fromstring(svg)
        assert root.tag == f"{SVG}svg" and int(root.get("width")) > 40
        texts[path] = [t.text for t in root.iter(f"{SVG}text")][1::2]
    assert texts["badges/jobs/bad.md.svg"] == ["jobs/bad.md", "✖ ERROR"]
    assert texts["badges/ok.md.svg"] == ["ok.md", "✔ OK"]
    assert texts["badges/@acme/other/late.md.svg"] == ["acme/other/late.md", "? MISSING"]
    assert texts["badges/status.svg"] == ["status", "✖ 1 ERROR ? 1 MISSING"]
    fine = badges([r for r in rows() if r.status == "OK"])
    assert [t.text for t in ET.fromstring(fine["badges/status.svg"]).iter(f"{SVG}text")][
        3
    ] == "✔ all 1 OK"


OWN = ("acme", "status")


@pytest.mark.parametrize(
    "owner, repo, path, badge",
    [
        ("acme", "status", "jobs/backup.md", "badges/jobs/backup.md.svg"),
        ("acme", "status", "jobs--backup.md", "badges/jobs--backup.md.svg"),
        ("acme", "status", "jobs/sauvegarde-été.md", "badges/jobs/sauvegarde-été.md.svg"),
        ("acme", "status", "jobs/备份.md", "badges/jobs/备份.md.svg"),
        ("acme", "status", "status", "badges/@status.svg"),  # not the overall badge
        ("acme", "status", "@acme/other/x.md", "badges/@@acme/other/x.md.svg"),
        ("acme", "other", "x.md", "badges/@acme/other/x.md.svg"),
        ("bob", "status", "jobs/backup.md", "badges/@bob/status/jobs/backup.md.svg"),
    ],
)
def test_a_badge_path_mirrors_the_page_path(owner, repo, path, badge):
    assert badge_path(owner, repo, path, OWN) == badge


def test_badge_paths_never_collide_whatever_the_order():
    specs = [
        ("acme", "status", p)
        for p in (
            "jobs/x.md",
            "jobs--x.md",
            "jobs_x.md",
            "status",
            "@status",
            "é.md",
            "ü.md",
            "@acme/other/x.md",
            "@@acme/other/x.md",
        )
    ]
    specs += [("acme", "other", "x.md"), ("acme", "other", "jobs/x.md")]
    rows = [Row(f"{o}/{r}/{p}", p, "OK", badge=badge_path(o, r, p, OWN)) for o, r, p in specs]
    files = badges(rows)
    assert len(files) == len(specs) + 1  # one each, and the overall badge
    assert badges(rows[::-1]) == files  # the same names in any order
    by_name = {
        [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")][1]: path
        for path, svg in files.items()
    }
    assert by_name["acme/status/jobs--x.md"] == "badges/jobs--x.md.svg"
    assert by_name["acme/status/jobs/x.md"] == "badges/jobs/x.md.svg"
    assert by_name["acme/status/status"] == "badges/@status.svg"
    assert by_name["status"] == "badges/status.svg"


def test_a_badge_in_the_way_of_another_badges_folder_is_left_out():
    rows = [
        Row("x", "x", "OK", badge=badge_path("a", "s", "x", ("a", "s"))),
        Row("x.svg/y", "x.svg/y", "OK", badge=badge_path("a", "s", "x.svg/y", ("a", "s"))),
    ]
    assert (
        sorted(badges(rows))
        == sorted(badges(rows[::-1]))
        == ["badges/status.svg", "badges/x.svg/y.svg"]
    )


def post(path: str, at: datetime, report: str = "GOOD", note: str = "") -> str:
    return PulseOxClient(clock=lambda: at).post("owner", "repo", path, "x", report, note).sha


def test_refresh_commits_page_badges_and_trend_notes_with_the_summary(remote: Path, cli):
    for minutes in range(0, 50, 10):
        post("a.md", T0 + timedelta(minutes=minutes), "BAD" if minutes == 20 else "GOOD")
    post("b.md", T0, "BAD", "disk full")
    specs = [
        PulseOxSpec("owner", "repo", "a.md", timedelta(minutes=10)),
        PulseOxSpec("owner", "repo", "b.md", "1h"),
        PulseOxSpec("owner", "repo", "c.md", "1d"),
    ]
    now = T0 + timedelta(minutes=45)
    board = PulseOxDashboard(owner="owner", repo="repo", spec_list=specs, clock=lambda: now)
    board.write_summary()
    touched = git("show", "--name-only", "--format=", "main", cwd=remote).split()
    assert {
        "summary.md",
        "index.html",
        "badges/status.svg",
        "badges/a.md.svg",
        "badges/b.md.svg",
        "badges/c.md.svg",
    } <= set(touched)
    summary = show(remote, "summary.md")
    assert (
        "- [a.md](a.md) [80% GOOD (last 5) · 2x GOOD · posts every 10m; schedule 10m · "
        "last BAD 2026-05-01 12:20 UTC] 2026-05-01 12:40:00 UTC"
    ) in summary
    assert "- [b.md](b.md) disk full [0% GOOD (last 1) · 1x BAD] 2026-05-01" in summary
    assert "- [c.md](c.md) not in the repository never" in summary
    page = Page(show(remote, "index.html"))
    assert [(r["cells"][1], r["status"]) for r in page.rows] == [
        ("b.md", "ERROR"),
        ("c.md", "MISSING"),
        ("a.md", "OK"),
    ]
    overall = ET.fromstring(show(remote, "badges/status.svg"))
    assert "✖ 1 ERROR ? 1 MISSING" in [t.text for t in overall.iter(f"{SVG}text")]

    code, out, _ = cli(
        "dashboard",
        "refresh",
        "--owner",
        "owner",
        "--repo",
        "repo",
        "--no-write",
        "--json",
        "--as-of",
        "2026-05-01T12:45:00Z",
    )
    assert code == 0
    specs_json = {s["path"]: s for s in json.loads(out)["specs"]}
    assert specs_json["a.md"]["trend"] == {
        "window": "last 5",
        "reports": 5,
        "good_share": 0.8,
        "streak": 2,
        "streak_report": "GOOD",
        "last_change": "2026-05-01T12:30:00+00:00",
        "last_bad": "2026-05-01T12:20:00+00:00",
        "median_interval_s": 600.0,
        "late_posts": 0,
        "changes": 2,
        "flapping": False,
        "median_duration_s": None,  # plain posts: no runs, no durations
        "p90_duration_s": None,
        "last_duration_s": None,
        "unfinished_runs": 0,
    }
    assert specs_json["c.md"]["trend"]["reports"] == 0


def test_as_of_shows_the_dashboard_as_it_stood(remote: Path, cli):
    post("a.md", T0)
    specs = [PulseOxSpec("owner", "repo", "a.md", timedelta(minutes=10))]
    PulseOxDashboard(
        owner="owner", repo="repo", spec_list=specs, clock=lambda: T0 + timedelta(minutes=1)
    ).write_summary()
    first = git("rev-parse", "main", cwd=remote).strip()
    post("a.md", T0 + timedelta(minutes=5), "BAD", "broke")
    post("a.md", T0 + timedelta(minutes=30), "BAD", "still broken")

    def at(point: str) -> dict:
        code, out, err = cli(
            "dashboard",
            "refresh",
            "--owner",
            "owner",
            "--repo",
            "repo",
            "--no-write",
            "--json",
            "--as-of",
            point,
        )
        assert code == 0, err
        return json.loads(out)

    then = at(first[:10])
    assert then["generated"] == "2026-05-01T12:01:00+00:00"
    assert [(s["status"], s["note"], s["trend"]["reports"]) for s in then["specs"]] == [
        ("OK", "", 1)
    ]
    between = at("2026-05-01T12:07:00Z")
    assert [(s["status"], s["note"]) for s in between["specs"]] == [("ERROR", "broke")]
    assert between["specs"][0]["trend"]["streak"] == 1
    assert at("HEAD")["specs"][0]["trend"]["streak"] == 2
    assert at("main~2")["specs"][0]["note"] == ""
    code, out, err = cli(
        "dashboard",
        "refresh",
        "--owner",
        "owner",
        "--repo",
        "repo",
        "--no-write",
        "--as-of",
        "2026-05-01T11:00:00Z",
    )  # before it all
    assert code == 0 and out.startswith("This dashboard watches nothing yet"), err
    code, out, err = cli(
        "dashboard", "refresh", "--owner", "owner", "--repo", "repo", "--as-of", "HEAD~1"
    )
    assert code == 2 and "--no-write" in err and out == ""
    for bad in ("nope", "-x", "deadbeef"):
        code, _, err = cli(
            "dashboard",
            "refresh",
            "--owner",
            "owner",
            "--repo",
            "repo",
            "--no-write",
            "--as-of",
            bad,
        )
        assert code == 2 and repr(bad) in err, err
    assert git("rev-parse", "main", cwd=remote).strip() != first  # nothing was written
    assert len(git("log", "--format=%H", "main", cwd=remote).split()) == 4


def test_as_of_a_time_reads_other_repositories_as_they_stood_too(remote: Path, cli):
    make_bare(remote.parent / "other.git")
    post("a.md", T0)
    PulseOxClient(clock=lambda: T0).post("owner", "other", "x.md", "x", "GOOD", "fine")
    specs = [
        PulseOxSpec("owner", "repo", "a.md", "1d"),
        PulseOxSpec("owner", "other", "x.md", "1d"),
    ]
    PulseOxDashboard(
        owner="owner", repo="repo", spec_list=specs, clock=lambda: T0 + timedelta(minutes=1)
    ).write_summary()
    PulseOxClient(clock=lambda: T0 + timedelta(hours=1)).post(
        "owner", "other", "x.md", "x", "BAD", "broken"
    )

    def at(point: str) -> dict:
        code, out, err = cli(
            "dashboard",
            "refresh",
            "--owner",
            "owner",
            "--repo",
            "repo",
            "--no-write",
            "--json",
            "--as-of",
            point,
        )
        assert code == 0, err
        return {s["path"]: (s["status"], s["note"]) for s in json.loads(out)["specs"]}

    assert at("2026-05-01T12:30:00Z") == {"a.md": ("OK", ""), "x.md": ("OK", "fine")}
    assert at("2026-05-01T13:30:00") == {"a.md": ("OK", ""), "x.md": ("ERROR", "broken")}
    assert at("HEAD")["x.md"] == ("OK", "fine")  # the summary commit's time, 12:01
