"""Property tests for the page format: whatever a job posts reads back unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pulseox_git.errors import BadInputError
from pulseox_git.page import check_content, check_note, check_path, parse, render

pytestmark = pytest.mark.slow  # hundreds of generated pages per property

# Any text git can store (no NUL, no lone surrogates), biased towards the
# characters that matter to the footer: line breaks, '#', '*', '-', ':'.
_TEXT = st.characters(blacklist_categories=("Cs",), blacklist_characters="\0")
_TRICKY = st.sampled_from(
    [
        "\n",
        "\r",
        "\r\n",
        "# Metadata",
        "* Metadata",
        "- report: BAD",
        "- updated: 2000-01-01T00:00:00+00:00",
        "- note: x",
        " ",
        "\t",
        "\u2028",
        "\x85",
        "#",
        "*",
    ]
)
CONTENT = st.lists(st.one_of(st.text(_TEXT, max_size=20), _TRICKY), max_size=12).map("".join)
NOTE = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\x85"),
    max_size=40,
) | st.just("\t x \t")
WHEN = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(9998, 1, 1), timezones=st.just(UTC)
).map(lambda t: t.replace(microsecond=0))
PATH = st.sampled_from(["a.md", "jobs/b.md", "notes.org", "Deep/Er/C.ORG"])


@settings(max_examples=400, deadline=None)
@given(path=PATH, content=CONTENT, report=st.sampled_from(["GOOD", "BAD"]), note=NOTE, when=WHEN)
@example(
    path="a.md",
    content="x\n\n# Metadata\n- report: BAD\n- updated: 2000-01-01T00:00:00+00:00\n- note: fake\n",
    report="GOOD",
    note="",
    when=datetime(2026, 1, 1, tzinfo=UTC),
)
@example(
    path="a.org",
    content="* Metadata\n",
    report="BAD",
    note=" padded ",
    when=datetime(2026, 1, 1, tzinfo=UTC),
)
def test_any_content_and_note_round_trip(path, content, report, note, when):
    check_note(note)  # every note the strategy makes is one a post accepts
    footer = parse(render(path, check_content(content), report, when, note))
    assert footer.problem is None
    assert (footer.content, footer.report, footer.updated, footer.note) == (
        content,
        report,
        when,
        note,
    )


@settings(max_examples=200, deadline=None)
@given(content=CONTENT, note=NOTE)
def test_a_metadata_section_inside_content_never_wins(content, note):
    """Content that fakes a footer (even a complete, valid one) is still content."""
    fake = "\n\n# Metadata\n- report: BAD\n- updated: 1999-01-01T00:00:00+00:00\n- note: fake\n"
    when = datetime(2026, 5, 1, 12, tzinfo=UTC)
    footer = parse(render("a.md", content + fake, "GOOD", when, note))
    assert (footer.content, footer.report, footer.updated, footer.note) == (
        content + fake,
        "GOOD",
        when,
        note,
    )


@settings(max_examples=200, deadline=None)
@given(
    note=st.text(max_size=10).filter(
        lambda n: any(c in n for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\0")
    )
)
def test_notes_that_would_break_the_footer_are_refused(note):
    with pytest.raises(BadInputError, match="note"):
        check_note(note)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_parse_never_raises_on_any_page(text):
    footer = parse(text)
    assert footer.problem is not None or footer.report in ("GOOD", "BAD")


def test_footer_time_keeps_its_instant_in_any_offset():
    local = datetime(2026, 5, 1, 14, tzinfo=UTC).astimezone(
        __import__("datetime").timezone(timedelta(hours=2))
    )
    assert parse(render("a.md", "x", "GOOD", local)).updated == local


@pytest.mark.parametrize(
    "path",
    [
        "\ud800.md",
        ".git./config",
        "GIT~1/config",
        ".GIT/x",
        ".g\u200cit/config",
        "a/.git:stream/x",
        "a\u2028b.md",
    ],
)
def test_paths_git_would_treat_as_dot_git_or_break_are_refused(path):
    with pytest.raises(BadInputError) as info:
        check_path(path)
    assert repr(path) in str(info.value)
