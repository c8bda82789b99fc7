"""Chunking: a ParsedDocument's blocks -> passages of about `max_tokens` with overlap (pure).

Every chunk keeps the heading path in effect at its start, its pages, and exact character offsets
into `content` (the blocks joined by a blank line), so a citation points at the exact passage.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.core.types import ParsedDocument, TextBlock, TextChunk, sha256_hex

BLOCK_SEPARATOR = "\n\n"
# A new top-level section starts a new chunk once the current chunk is at least this full.
SECTION_FILL = 0.5
# Breaking mid-paragraph is avoided when a paragraph boundary leaves the chunk this full.
PARAGRAPH_FILL = 0.5
# Hard ceiling relative to max_tokens (stored sparse vectors keep at most 1,000 non-zeros; see
# DESIGN 2.8).
HARD_LIMIT = 1.2

TokenCounter = Callable[[str], int]

# Pieces: runs of letters, runs of digits, single punctuation marks. Long words and numbers
# come first, so that a piece of 4+ characters is the only kind that can add sub-word pieces
# (speed: one regex scan instead of three).
_PIECES = re.compile(r"[^\W\d_]{8,}|\d{4,}|[^\W\d_]+|\d+|[^\w\s]|_")
# Two characters of the same letter or digit run: a text cut between them is not counted as
# the sum of its two sides (a word or number would be split).
_SAME_RUN = re.compile(r"[^\W\d_]{2}|\d{2}")


def approx_token_count(text: str) -> int:
    """A fast estimate of XLM-RoBERTa SentencePiece tokens (the BGE-M3 tokenizer).

    Every word, number and punctuation mark counts 1; words of 8+ letters add one piece per 7
    letters beyond the first and numbers one per 3 digits beyond the first, because
    SentencePiece splits long and rare words into sub-word pieces. This lands near the usual
    ratios of XLM-R (about 1.3 tokens per English word and 1.6 per German word, compounds
    included) and errs slightly high, which keeps chunks under the embedder's real limit.
    The factor was set from those published ratios, not measured against the real
    tokenizer here (its files cannot be downloaded on the build machines): pass
    `count_tokens` to `chunk_document` to count with the real tokenizer.
    """
    pieces = _PIECES.findall(text)
    count = len(pieces)
    for piece in pieces:
        if len(piece) >= 4:
            if piece[0].isdecimal():  # a run of \d (Unicode Nd, as isdecimal)
                count += (len(piece) - 1) // 3
            elif len(piece) >= 8:
                count += (len(piece) - 1) // 7
    return count


_WORD = re.compile(r"\w+", re.UNICODE)
_ENGLISH = frozenset(
    """the and of to is that for with this are be on not by at from have has will shall which it
    you your we our or as been were would there their they these those any all such may must
    under upon if than then its into each other can should within herein hereby""".split()
)
_GERMAN = frozenset(
    """der die das und ist nicht mit von zu den dem des ein eine einer eines einem einen auf für
    sich auch bei oder wird werden wurde sind im vom zum zur nach über unter aus wie bis durch
    dass daß ihr ihre sie wir kann können muss müssen diese dieser dieses wenn sowie bitte haben
    hat noch nur sehr ihnen uns unsere gemäß""".split()
)


def detect_language(text: str) -> str:
    """'english', 'german' or 'simple' (PostgreSQL text-search configurations) by stopwords."""
    english = german = 0
    words = _WORD.findall(text[:4000].lower())
    for word in words:
        if word in _ENGLISH:
            english += 1
        elif word in _GERMAN:
            german += 1
    # Running text in either language is 25-45 % stopwords; a few stray hits ("des", "dem" in
    # French) stay under the floor and the text is indexed language-neutrally.
    floor = max(2, len(words) // 12)
    if german >= floor and german > english * 1.5:
        return "german"
    if english >= floor and english > german * 1.5:
        return "english"
    return "simple"


@dataclass(frozen=True, slots=True)
class ChunkedDocument:
    """The document's full text and the chunks that index into it."""

    content: str
    chunks: list[TextChunk]


@dataclass(frozen=True, slots=True)
class _Unit:
    """A sentence (or a word window of a long one) inside one searchable block."""

    start: int
    end: int
    tokens: int
    block: int
    para_start: bool
    group: int  # runs of searchable blocks; a non-searchable block between them is a hard break


# A sentence ends at . ! ? … (closing quotes/brackets allowed) followed by whitespace, or at a
# line break. Common abbreviations are not sentence ends.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|\n+")
_ABBREVIATIONS = frozenset(
    "dr mr mrs ms prof nr no str bzw ca vgl z.b u.a d.h e.g i.e etc art abs st inc ltd co vs".split()
)
_WORD_SPAN = re.compile(r"\S+")


def chunk_document(
    parsed: ParsedDocument,
    *,
    max_tokens: int = 512,
    overlap: int = 64,
    count_tokens: TokenCounter = approx_token_count,
) -> ChunkedDocument:
    """Split a parsed document into chunks.

    Args:
        parsed: the parser's result; blocks with `searchable=False` stay in `content` only.
        max_tokens: target size; no chunk exceeds `max_tokens * 1.2` by `count_tokens`.
        overlap: about this many tokens repeat at the start of the next chunk (within a section).
        count_tokens: token counter; defaults to `approx_token_count`.

    Returns:
        The full text (`content`) and the chunks, whose `content[char_start:char_end] == text`.
    """
    if max_tokens < 8:
        raise ValueError(f"max_tokens={max_tokens}: must be at least 8")
    overlap = max(0, min(overlap, max_tokens // 2))
    blocks = [b for b in parsed.blocks if b.text.strip()]
    spans: list[tuple[int, int]] = []
    pos = 0
    for block in blocks:
        spans.append((pos, pos + len(block.text)))
        pos += len(block.text) + len(BLOCK_SEPARATOR)
    content = BLOCK_SEPARATOR.join(b.text for b in blocks)
    # Units must leave room for the overlap in front of them.
    cap = max(1, max_tokens - overlap)
    units = list(_units(content, blocks, spans, cap, count_tokens))
    ranges = _pack(units, blocks, content, max_tokens, overlap, count_tokens)
    # The default counter is additive wherever a cut splits no word or number: a chunk's count
    # is then the sum of its sentences' counts, already known (speed: no second scan of the
    # text). Any other counter counts each chunk's text.
    unit_starts = [u.start for u in units] if count_tokens is approx_token_count else None
    chunks: list[TextChunk] = []
    for start, end, first_block, last_block in ranges:
        text = content[start:end]
        tokens = None if unit_starts is None else _summed_count(content, units, unit_starts,
                                                                start, end)
        if tokens is None:
            tokens = count_tokens(text)
        if tokens > max_tokens * HARD_LIMIT:  # a real tokenizer disagreeing with the unit sums
            for s, e in _halve(content, start, end, max_tokens, count_tokens):
                chunks.append(_make_chunk(len(chunks), content, s, e, blocks, spans,
                                          count_tokens))
            continue
        chunks.append(_make_chunk(len(chunks), content, start, end, blocks, spans, count_tokens,
                                  first_block=first_block, last_block=last_block, tokens=tokens))
    return ChunkedDocument(content=content, chunks=chunks)


def _summed_count(content: str, units: Sequence[_Unit], starts: Sequence[int], start: int,
                  end: int) -> int | None:
    """`approx_token_count(content[start:end])` from the counts of the units in the range: the
    range is cut into its units (or a unit's tail, at the range's start) and the text between
    them, and summed; exact because no cut splits a run of letters or digits (else None)."""
    k = max(0, bisect_right(starts, start) - 1)
    if k < len(units) and units[k].end <= start:
        k += 1
    total, pos = 0, start
    while k < len(units) and units[k].start < end:
        unit = units[k]
        s, e = max(unit.start, start), min(unit.end, end)
        for cut in (s, e):
            if start < cut < end and _SAME_RUN.fullmatch(content, cut - 1, cut + 1):
                return None
        gap = content[pos:s]
        if gap and not gap.isspace():
            total += approx_token_count(gap)
        whole = s == unit.start and e == unit.end
        total += unit.tokens if whole else approx_token_count(content[s:e])
        pos = e
        k += 1
    gap = content[pos:end]
    if gap and not gap.isspace():
        total += approx_token_count(gap)
    return total


def _units(content: str, blocks: Sequence[TextBlock], spans: Sequence[tuple[int, int]],
           cap: int, count: TokenCounter) -> list[_Unit]:
    units: list[_Unit] = []
    group = 0
    for index, block in enumerate(blocks):
        if not block.searchable:
            group += 1
            continue
        b_start, b_end = spans[index]
        first = True
        for s, e in _sentences(content, b_start, b_end):
            tokens = count(content[s:e])
            pieces = [(s, e, tokens)] if tokens <= cap else _split_words(content, s, e, cap, count)
            for ps, pe, *rest in pieces:
                pt = rest[0] if rest else count(content[ps:pe])
                units.append(_Unit(ps, pe, pt, index, first, group))
                first = False
    return units


def _sentences(content: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans within content[start:end], trimmed of surrounding whitespace."""
    out: list[tuple[int, int]] = []
    cursor = start
    for match in _SENTENCE_END.finditer(content, start, end):
        if "\n" not in match.group(0):
            before = content[cursor : match.start()].rsplit(None, 1)
            last_word = before[-1].lower().rstrip(".") if before else ""
            # Abbreviations, initials and ordinals ("1. Term", "am 3. Mai") end no sentence.
            if (last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha())
                    or (last_word.isdigit() and len(last_word) <= 3)):
                continue
        _append_trimmed(out, content, cursor, match.start())
        cursor = match.end()
    _append_trimmed(out, content, cursor, end)
    return out


def _append_trimmed(out: list[tuple[int, int]], content: str, s: int, e: int) -> None:
    while s < e and content[s].isspace():
        s += 1
    while e > s and content[e - 1].isspace():
        e -= 1
    if s < e:
        out.append((s, e))


def _split_words(content: str, start: int, end: int, cap: int,
                 count: TokenCounter) -> list[tuple[int, int]]:
    """Greedy windows of whole words, each at most `cap` tokens; over-long words by characters."""
    windows: list[tuple[int, int]] = []
    w_start = w_end = -1
    w_tokens = 0
    for match in _WORD_SPAN.finditer(content, start, end):
        tokens = count(match.group(0))
        if tokens > cap:
            if w_start >= 0:
                windows.append((w_start, w_end))
                w_start, w_tokens = -1, 0
            windows.extend(_split_chars(content, match.start(), match.end(), cap, count))
            continue
        if w_start >= 0 and w_tokens + tokens > cap:
            windows.append((w_start, w_end))
            w_start, w_tokens = -1, 0
        if w_start < 0:
            w_start = match.start()
        w_end = match.end()
        w_tokens += tokens
    if w_start >= 0:
        windows.append((w_start, w_end))
    return windows


def _halve(content: str, start: int, end: int, limit: int,
           count: TokenCounter) -> list[tuple[int, int]]:
    """Split content[start:end] in halves (at whitespace near the middle) until each half counts
    at most `limit`; exact for any counter, used only when the unit sums were off."""
    if count(content[start:end]) <= limit or end - start <= 1:
        return [(start, end)]
    middle = (start + end) // 2
    cut = content.rfind(" ", start + 1, middle + 1)
    if cut <= start:
        cut = content.find(" ", middle, end - 1)
    if cut <= start:
        cut = middle
    out: list[tuple[int, int]] = []
    for s, e in ((start, cut), (cut, end)):
        trimmed: list[tuple[int, int]] = []
        _append_trimmed(trimmed, content, s, e)
        for ts, te in trimmed:
            out.extend(_halve(content, ts, te, limit, count))
    return out


def _split_chars(content: str, start: int, end: int, cap: int,
                 count: TokenCounter) -> list[tuple[int, int]]:
    """Cut one huge 'word' (a base64 blob, a URL) into windows of at most `cap` tokens."""
    out: list[tuple[int, int]] = []
    s = start
    while s < end:
        e = min(end, s + cap * 4)
        while e - s > 1 and count(content[s:e]) > cap:
            e = s + (e - s) // 2
        out.append((s, e))
        s = e
    return out


def _top(heading: str | None) -> str | None:
    return heading.split(" > ", 1)[0] if heading else None


def _pack(units: Sequence[_Unit], blocks: Sequence[TextBlock], content: str, max_tokens: int,
          overlap: int, count: TokenCounter) -> list[tuple[int, int, int, int]]:
    """Greedy packing of units into (start, end, first block, last block) ranges."""
    out: list[tuple[int, int, int, int]] = []
    i = 0
    ov_start, ov_tokens, ov_block = -1, 0, -1
    while i < len(units):
        first = units[i]
        if ov_start >= 0 and ov_tokens + first.tokens > max_tokens:
            ov_start, ov_tokens, ov_block = -1, 0, -1
        total = ov_tokens + first.tokens
        j = i + 1
        section_break = False
        while j < len(units):
            unit = units[j]
            if unit.group != first.group:
                break
            if unit.para_start and total >= SECTION_FILL * max_tokens:
                heading, previous = blocks[unit.block].heading, blocks[units[j - 1].block].heading
                if heading and _top(heading) != _top(previous):
                    section_break = True
                    break
            if total + unit.tokens > max_tokens:
                break
            total += unit.tokens
            j += 1
        if j < len(units) and not section_break and not units[j].para_start:
            # Prefer to end at a paragraph boundary when that keeps the chunk reasonably full.
            filled = ov_tokens
            best = -1
            for k in range(i, j):
                if k > i and units[k].para_start and filled >= PARAGRAPH_FILL * max_tokens:
                    best = k
                filled += units[k].tokens
            if best > 0:
                j = best
        start = ov_start if ov_start >= 0 else first.start
        out.append((start, units[j - 1].end, ov_block if ov_start >= 0 else first.block,
                    units[j - 1].block))
        ov_start, ov_tokens, ov_block = -1, 0, -1
        if j < len(units) and overlap and not section_break and units[j].group == first.group:
            ov_start, ov_tokens, ov_block = _overlap(units, i, j, blocks, content, overlap, count,
                                                     chunk_start=start)
        i = j
    return out


def _overlap(units: Sequence[_Unit], i: int, j: int, blocks: Sequence[TextBlock], content: str,
             target: int, count: TokenCounter, *, chunk_start: int) -> tuple[int, int, int]:
    """Where the next chunk starts: trailing whole sentences of units[i:j] worth <= `target`
    tokens (else a word tail of the last one), never reaching back across a heading change,
    and never the whole chunk (the next one would contain it: two chunks, one start)."""
    heading = blocks[units[j].block].heading
    taken, start, block = 0, -1, -1
    for k in range(j - 1, i - 1, -1):
        unit = units[k]
        if blocks[unit.block].heading != heading:
            break
        if taken + unit.tokens > target or unit.start <= chunk_start:
            if taken == 0:
                return _word_tail(unit, content, target, count)
            break
        taken += unit.tokens
        start, block = unit.start, unit.block
    return (start, taken, block) if start >= 0 else (-1, 0, -1)


def _word_tail(unit: _Unit, content: str, target: int, count: TokenCounter) -> tuple[int, int, int]:
    taken, start = 0, -1
    for match in reversed(list(_WORD_SPAN.finditer(content, unit.start, unit.end))):
        tokens = count(match.group(0))
        if taken + tokens > target:
            break
        taken += tokens
        start = match.start()
    return (start, taken, unit.block) if start > unit.start else (-1, 0, -1)


def _block_at(spans: Sequence[tuple[int, int]], position: int) -> int:
    lo, hi = 0, len(spans) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if spans[mid][0] <= position:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _make_chunk(ordinal: int, content: str, start: int, end: int, blocks: Sequence[TextBlock],
                spans: Sequence[tuple[int, int]], count: TokenCounter, *,
                first_block: int | None = None, last_block: int | None = None,
                tokens: int | None = None) -> TextChunk:
    if first_block is None:
        first_block = _block_at(spans, start)
    if last_block is None:
        last_block = _block_at(spans, end - 1)
    text = content[start:end]
    covered = blocks[first_block : last_block + 1]
    pages = [b.page for b in covered if b.page is not None]
    heading = blocks[first_block].heading
    return TextChunk(
        ordinal=ordinal,
        text=text,
        heading=heading,
        page=blocks[first_block].page if blocks[first_block].page is not None else
        (pages[0] if pages else None),
        page_end=pages[-1] if pages else None,
        char_start=start,
        char_end=end,
        token_count=tokens if tokens is not None else count(text),
        content_hash=sha256_hex(f"{heading or ''}\n{text}"),
        language=detect_language(text),
        meta=_merge_meta(covered),
    )


def _merge_meta(blocks: Sequence[TextBlock]) -> Mapping[str, Any]:
    """Row ranges of the covered blocks (statement rows) merged into one [min, max]; the OCR
    quality of OCRed blocks as their length-weighted mean (typed blocks count as 1.0)."""
    lows: list[int] = []
    highs: list[int] = []
    out: dict[str, Any] = {}
    qualities = [(b.meta.get("ocr_quality") if b.meta else None, max(1, len(b.text)))
                 for b in blocks]
    if any(isinstance(q, float | int) for q, _ in qualities):
        total = sum(n for _, n in qualities)
        out["ocr_quality"] = round(sum((q if isinstance(q, float | int) else 1.0) * n
                                       for q, n in qualities) / total, 3)
    for block in blocks:
        rows = block.meta.get("rows") if block.meta else None
        if isinstance(rows, Sequence) and len(rows) == 2 and all(isinstance(r, int) for r in rows):
            lows.append(rows[0])
            highs.append(rows[1])
        elif isinstance(rows, int):
            lows.append(rows)
            highs.append(rows)
    if lows:
        out["rows"] = [min(lows), max(highs)]
    return out
