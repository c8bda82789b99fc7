"""Token counting in chunking: the one-pass `approx_token_count` against the three-pass one it
replaced, and chunks whose counts come from their sentences' counts against chunks counted
from their text (the same chunks, offsets, counts and content hashes)."""

from __future__ import annotations

import random
import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.core.types import ParsedDocument, TextBlock
from bench.corpus_text import HouseholdWriter
from ingest.chunking import approx_token_count, chunk_document

_PIECE = re.compile(r"[^\W\d_]+|\d+|[^\w\s]|_")
_LONG_WORD = re.compile(r"[^\W\d_]{8,}")
_LONG_NUMBER = re.compile(r"\d{4,}")


def three_pass_count(text: str) -> int:
    """approx_token_count as it was before it became one regex scan."""
    count = len(_PIECE.findall(text))
    for word in _LONG_WORD.findall(text):
        count += (len(word) - 1) // 7
    for number in _LONG_NUMBER.findall(text):
        count += (len(number) - 1) // 3
    return count


def counted_per_chunk(text: str) -> int:
    """The same counter under another name: chunk_document then counts every chunk's text."""
    return approx_token_count(text)


_tricky = st.lists(st.sampled_from(
    [*"abcXYZäöüß_-.,;!? \n\t0123456789", "٣", "৪", "²", "½", "Ⅻ", "ſ", "日本", "😀", "\u00a0",
     "Donaudampfschifffahrt"]), max_size=400).map("".join)


@settings(max_examples=300, deadline=None)
@example(text="Kreditkartenabrechnung 1234567 ²²²²²²²²² ٣٣٣٣٣ a_b __ x²y")
@given(text=st.one_of(_tricky, st.text(max_size=400)))
def test_one_pass_count_equals_three_pass_count(text):
    assert approx_token_count(text) == three_pass_count(text)


def _household_documents(count: int, seed: int) -> list[ParsedDocument]:
    rng = random.Random(seed)
    writer = HouseholdWriter(rng)
    docs = []
    for _ in range(count):
        spec = writer.document(size=rng.choice((0.3, 1.0, 2.5)))
        blocks = [TextBlock(text=spec.title, heading=None, kind="heading")]
        for page, (heading, paras) in enumerate(spec.sections, start=1):
            for para in paras:
                blocks.append(TextBlock(text=para, heading=heading or None, page=page))
        docs.append(ParsedDocument(blocks=blocks, title=spec.title))
    return docs


def test_chunks_from_summed_counts_equal_chunks_counted_from_text():
    docs = _household_documents(120, seed=7)
    for doc in docs:
        for max_tokens, overlap in ((512, 64), (128, 32), (40, 0)):
            fast = chunk_document(doc, max_tokens=max_tokens, overlap=overlap)
            plain = chunk_document(doc, max_tokens=max_tokens, overlap=overlap,
                                   count_tokens=counted_per_chunk)
            assert fast == plain


_word = st.one_of(st.sampled_from(["Vertrag", "the", "EUR", "12,50", "Kündigungsfrist", "„quoted“",
                                   "(note)", "x" * 60, "7" * 40, "a_b", "Dr.", "3."]),
                  st.text(alphabet="abcdefghij0123456789", min_size=1, max_size=30))
_sentence = st.lists(_word, min_size=1, max_size=25).map(
    lambda ws: " ".join(ws) + st_end(len(ws)))


def st_end(n: int) -> str:
    return (".", "!\"", "?)", ".\n", "…", "")[n % 6]


_blocks = st.lists(st.builds(
    TextBlock,
    text=st.lists(_sentence, min_size=1, max_size=10).map(" ".join),
    heading=st.sampled_from([None, "A", "A > b", "B"]),
    searchable=st.sampled_from([True, True, True, False]),
), min_size=1, max_size=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(blocks=[TextBlock(text="x" * 3000)], max_tokens=16, overlap=4)  # a word cut by characters
@given(blocks=_blocks, max_tokens=st.integers(8, 200), overlap=st.integers(0, 60))
def test_property_summed_counts_never_change_chunks(blocks, max_tokens, overlap):
    doc = ParsedDocument(blocks=blocks)
    fast = chunk_document(doc, max_tokens=max_tokens, overlap=overlap)
    plain = chunk_document(doc, max_tokens=max_tokens, overlap=overlap,
                           count_tokens=counted_per_chunk)
    assert fast == plain
    for chunk in fast.chunks:
        assert chunk.token_count == three_pass_count(chunk.text)
