"""`<think>` splitting: tags split across chunks, interleaved, unclosed, missing opening tag."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.llm.thinking import Segment, ThinkSplitter, split_thinking


def run(pieces: list[str], reasoning_first: str = "") -> tuple[str, str, list[Segment]]:
    s = ThinkSplitter()
    segs = s.feed_reasoning(reasoning_first)
    for p in pieces:
        segs += s.feed(p)
    segs += s.finish()
    return s.answer, s.reasoning, segs


def replay(segs: list[Segment]) -> tuple[str, str]:
    """What a consumer shows after applying the segments (reset clears the answer)."""
    answer, reasoning = "", ""
    for seg in segs:
        if seg.channel == "reset":
            answer = ""
        elif seg.channel == "answer":
            answer += seg.text
        else:
            reasoning += seg.text
    return answer, reasoning


@pytest.mark.parametrize(
    ("text", "answer", "reasoning"),
    [
        ("plain answer", "plain answer", ""),
        ("<think>plan</think>\n\nThe rent is 950 [1].", "The rent is 950 [1].", "plan"),
        ("reasoning only closes</think>\nAnswer.", "Answer.", "reasoning only closes"),
        ("<think>a</think>one <think>b</think>two", "one two", "a\nb"),
        ("<think>never closed", "", "never closed"),
        ("answer then <think>late thought", "answer then ", "late thought"),
        ("x </think> y </think> z", "y  z", "x "),
        ("<think>a</think>b</think>c", "bc", "a"),
        ("a < b and c <th d", "a < b and c <th d", ""),
        ("<think><think>nested</think>ok", "ok", "<think>nested"),
        ("", "", ""),
    ],
)
def test_split_whole_text(text, answer, reasoning):
    assert split_thinking(text) == (answer, reasoning)


def test_tags_split_at_awkward_places():
    pieces = ["<", "thi", "nk>Let me ", "check [1]</t", "hink", ">", "\n\nRent is ", "950 <", "/think> [1]."]
    answer, reasoning, segs = run(pieces)
    assert reasoning == "Let me check [1]"
    assert answer == "Rent is 950  [1]."
    assert replay(segs) == (answer, reasoning)


def test_missing_opening_tag_resets_the_streamed_answer():
    answer, reasoning, segs = run(["I should look at ", "source 1.</thi", "nk>\n\nThe rent is 950 [1]."])
    assert [s.channel for s in segs[:2]] == ["answer", "answer"]
    assert "reset" in [s.channel for s in segs]
    assert (answer, reasoning) == ("The rent is 950 [1].", "I should look at source 1.")
    assert replay(segs) == (answer, reasoning)


def test_reasoning_content_deltas_go_to_the_reasoning_channel():
    s = ThinkSplitter()
    segs = s.feed_reasoning("step 1; ") + s.feed_reasoning("step 2") + s.feed("Answer [2]") + s.finish()
    assert [x.channel for x in segs] == ["reasoning", "reasoning", "answer"]
    assert (s.answer, s.reasoning) == ("Answer [2]", "step 1; step 2")


PARTS = st.sampled_from(["<think>", "</think>", "<", ">", "/", "think", "t", "a", "b", " ", "\n", "[1]", "<th", "ink>"])


def _chunk(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts})
    pieces, last = [], 0
    for p in [*points, len(text)]:
        pieces.append(text[last:p])
        last = p
    return pieces


@settings(max_examples=400, deadline=None)
@given(st.lists(PARTS, max_size=30).map("".join), st.lists(st.integers(0, 300), max_size=15))
def test_any_chunking_gives_the_same_split(text, cuts):
    whole = split_thinking(text)
    answer, reasoning, segs = run(_chunk(text, cuts))
    assert (answer, reasoning) == whole
    assert replay(segs) == whole


WHOLE = st.sampled_from(["<think>", "</think>", "a", "b ", "\n", "[1]", "<", ">"])


@settings(max_examples=200, deadline=None)
@given(st.lists(WHOLE, max_size=30).map("".join), st.lists(st.integers(0, 300), max_size=15))
def test_tags_never_reach_the_answer(text, cuts):
    answer, _reasoning, segs = run(_chunk(text, cuts))
    assert "<think>" not in answer and "</think>" not in answer
    assert all("think>" not in s.text for s in segs if s.channel == "answer")
