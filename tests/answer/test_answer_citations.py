"""Citation markers: forms, dropping numbers never offered, uncited answers, streaming == whole text."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.answer.citations import CitationFilter, check_citations, marker_numbers
from app.answer.types import Citable

OFFERED = {n: Citable(text=f"passage {n}", path=f"/d/{n}.txt", chunk_id=10 + n, document_id=n) for n in (1, 2, 3, 4)}


@pytest.mark.parametrize(
    ("text", "shown", "cited", "dropped"),
    [
        ("Rent is 950 EUR [1].", "Rent is 950 EUR [1].", [1], []),
        ("A [1, 3] and B [2][4].", "A [1, 3] and B [2][4].", [1, 3, 2, 4], []),
        ("Range [1-3].", "Range [1-3].", [1, 2, 3], []),
        ("En dash [2\u20133]; semi [1; 4]", "En dash [2\u20133]; semi [1; 4]", [2, 3, 1, 4], []),
        ("Spaced [ 2 ,3 ]", "Spaced [ 2 ,3 ]", [2, 3], []),
        ("Made up [7].", "Made up.", [], [7]),
        ("Mixed [1, 9] x", "Mixed [1] x", [1], [9]),
        ("Range past the end [3-6].", "Range past the end [3][4].", [3, 4], [5, 6]),
        ("[9] Leading and [0] zero.", "Leading and zero.", [], [9, 0]),
        ("Adjacent [2][8][2].", "Adjacent [2][2].", [2], [8]),
        ("Not markers: [x], [ ], [1a], a[b]c, [1,]", "Not markers: [x], [ ], [1a], a[b]c, [1,]", [], []),
        ("Absurd range [1-900]", "Absurd range [1]", [1], [900]),
        ("Unclosed at end [1", "Unclosed at end [1", [], []),
        ("Line\n[5]\nnext", "Line\n\nnext", [], [5]),
    ],
)
def test_markers_are_mapped_and_unknown_numbers_removed(text, shown, cited, dropped):
    checked = check_citations(text, OFFERED)
    assert checked.text == shown
    assert [c.n for c in checked.citations] == cited
    assert list(checked.dropped) == dropped
    assert checked.uncited == (not cited)


def test_citation_carries_what_a_reader_needs():
    checked = check_citations("X [2].", OFFERED)
    (c,) = checked.citations
    assert c.to_json() == {
        "n": 2, "chunk_id": 12, "document_id": 2, "path": "/d/2.txt", "title": None, "page": None,
        "text": "passage 2", "kind": "chunk", "span": None, "snippet": "passage 2",
        "url": "/documents/2?chunk=12#passage",
    }


def test_answer_without_valid_citation_is_uncited():
    assert check_citations("The passages do not say.", OFFERED).uncited
    assert check_citations("Only bogus [12].", OFFERED).uncited
    assert not check_citations("Fine [4].", OFFERED).uncited


def test_marker_numbers():
    assert marker_numbers("1, 3-5") == [1, 3, 4, 5]
    assert marker_numbers("5-3") == [5, 3]
    assert marker_numbers("2, 2") == [2]


def _chunk(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts})
    pieces, last = [], 0
    for p in [*points, len(text)]:
        pieces.append(text[last:p])
        last = p
    return pieces


TOKENS = st.sampled_from(
    ["[", "]", "1", "2", "7", "9", ",", "-", " ", "  ", "\n", "x", "Rent", ".", "[1]", "[7]", "[2, 9]", "[1-3]", "[", "\t"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(TOKENS, max_size=40).map("".join), st.lists(st.integers(0, 200), max_size=12))
@example("[7[7]]", [])  # removing the inner marker once joined "[7" and "]" into a new one
@example("x [7[7]] y", [3, 5])
def test_streaming_filter_matches_whole_text_for_any_chunking(text, cuts):
    whole = CitationFilter(OFFERED.keys())
    expected = whole.feed(text) + whole.flush()
    f = CitationFilter(OFFERED.keys())
    got = "".join(f.feed(piece) for piece in _chunk(text, cuts)) + f.flush()
    assert got == expected
    assert (f.cited, f.dropped) == (whole.cited, whole.dropped)
    # Nothing not offered survives in the shown text.
    assert check_citations(got, OFFERED).dropped == ()


def test_removing_a_nested_marker_does_not_form_a_new_one():
    f = CitationFilter({1})
    shown = f.feed("see [7[7]] and [9 [7]]") + f.flush()
    assert check_citations(shown, OFFERED).dropped == () and f.dropped == [7]
    assert shown.replace("\u2060", "") == "see [7] and [9]"  # only an invisible joiner between


def test_stream_filter_holds_back_only_a_possible_marker():
    f = CitationFilter({1})
    assert f.feed("Rent is 950 ") == "Rent is 950"
    assert f.feed("[") == ""
    assert f.feed("7") == ""
    assert f.feed("]. Next [1") == ". Next"
    assert f.feed("] done") == " [1] done"
    assert f.flush() == ""
    assert f.feed("[" + "1" * 60) == "[" + "1" * 60  # too long to be a marker: not held
