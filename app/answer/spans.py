"""The exact span a citation rests on, and snippets that show it (pure).

A cited passage is a whole chunk (up to ~512 tokens: for a short contract, the whole document).
What supports an answer is usually one to three of its sentences. `best_span` picks the run of
consecutive sentences of a passage that best matches a text by lexical overlap (query words,
stopwords dropped, a light prefix stem, each word weighted by how few sentences contain it);
the text is the answer sentence that carries the citation marker (`claims_by_number`) for an
LLM answer, the question for a retrieval-only one. `snippet` shows that span instead of the
passage's first characters.

Offsets are character offsets into the passage text; callers add the chunk's `char_start` to
get offsets into the document.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from app.answer.citations import MARKER_RE, display_numbers, marker_numbers, rewrite_markers
from app.core.text import STOPWORDS

if TYPE_CHECKING:
    from app.answer.types import AnswerResult, Citable, ContextBlock

MAX_SENTENCES = 3
SNIPPET_CHARS = 320
STEM = 6
ELLIPSIS = "…"

_WORD = re.compile(r"\w+", re.UNICODE)
# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace,
# and at every line break (statement rows, list items and headings are lines of their own).
_END = re.compile(r"[.!?…]+['\")\]»“”]*(?=\s)|\n+")
# Tokens before a full stop that do not end a sentence (abbreviations, initials, ordinals).
_ABBREV = frozenset(
    """e.g i.e etc vs no nr mr mrs ms dr prof st abs art ca bzw inkl ggf z.b u.a d.h usw vgl
    str tel fax co corp inc ltd jan feb mar apr jun jul aug sep sept oct okt nov dec dez""".split()
)


@dataclass(frozen=True, slots=True)
class Span:
    """[start, end) in a passage, with the overlap score that chose it (0 = no overlap)."""

    start: int
    end: int
    score: float


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence offsets [start, end) in `text`, whitespace trimmed, empty ones dropped."""
    out: list[tuple[int, int]] = []
    start = 0
    for m in _END.finditer(text):
        end = m.end() if m.group(0)[0] != "\n" else m.start()
        if m.group(0)[0] == "." and _abbreviation_before(text, m.start()):
            continue
        _add(out, text, start, end)
        start = m.end()
    _add(out, text, start, len(text))
    return out


def _abbreviation_before(text: str, dot: int) -> bool:
    word = re.search(r"([\w.]+)\Z", text[max(0, dot - 12):dot])
    if word is None:
        return False
    token = word.group(1).lower()
    if token in _ABBREV or (len(token) == 1 and token.isalpha()) or token.endswith("str"):
        return True
    # "1. März", "4. Term": a short number before the stop is an ordinal or an enumerator.
    return token.isdigit() and len(token) <= 2


def _add(out: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start and any(ch.isalnum() for ch in text[start:end]):
        out.append((start, end))


def terms(text: str) -> set[str]:
    """Comparable words: lower case, stopwords and one-letter words dropped, a prefix stem."""
    out: set[str] = set()
    for word in _WORD.findall(text.lower()):
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        out.add(word if word.isdigit() else word[:STEM])
    return out


def best_span(passage: str, text: str, *, max_sentences: int = MAX_SENTENCES) -> Span | None:
    """The run of at most `max_sentences` consecutive sentences of `passage` that best matches
    `text`; None when no sentence shares a word with it.

    A word counts once per run, weighted log(1 + N/df) (N sentences, df of them holding it), so
    a word found everywhere in the passage decides little. A longer run must earn its extra
    sentences: each one costs 0.8 of the mean weight of the matching words, so a neighbour is
    joined when it adds about one more word of the question, not for a common one.
    """
    wanted = terms(text)
    bounds = sentences(passage)
    if not wanted or not bounds:
        return None
    sets = [terms(passage[s:e]) & wanted for s, e in bounds]
    df: dict[str, int] = {}
    for matched in sets:
        for t in matched:
            df[t] = df.get(t, 0) + 1
    if not df:
        return None
    n = len(bounds)
    weight = {t: math.log(1 + n / d) for t, d in df.items()}
    cost = 0.8 * sum(weight.values()) / len(weight)
    best: tuple[float, int, int, int] | None = None  # (value, -chars, i, j)
    for i in range(n):
        if not sets[i]:
            continue  # a run starts on a matching sentence
        found: set[str] = set()
        for j in range(i, min(n, i + max_sentences)):
            found |= sets[j]
            if not sets[j]:
                continue  # ... and ends on one
            value = sum(weight[t] for t in found) - cost * (j - i)
            key = (value, -(bounds[j][1] - bounds[i][0]), -i, j)
            if best is None or key > best:
                best = key
    assert best is not None
    value, _, neg_i, j = best
    i = -neg_i
    return Span(start=bounds[i][0], end=bounds[j][1], score=round(value, 4))


def snippet(passage: str, text: str, *, limit: int = SNIPPET_CHARS,
            span: Span | None = None) -> str:
    """The sentences of `passage` that match `text` (`span` if already chosen), whitespace
    flattened, at most `limit` characters, with … where the passage goes on. Without any
    overlap: the passage's start."""
    span = span if span is not None else best_span(passage, text)
    if span is None:
        return _cut(_flat(passage), limit, lead=False)
    body = _flat(passage[span.start:span.end])
    lead = bool(passage[:span.start].strip())
    tail = bool(passage[span.end:].strip())
    room = limit - (2 if lead else 0)
    if len(body) > room:
        return (f"{ELLIPSIS} " if lead else "") + _cut(body, room, lead=False)
    return (f"{ELLIPSIS} " if lead else "") + body + (f" {ELLIPSIS}" if tail else "")


def _flat(text: str) -> str:
    return " ".join(text.split())


def _cut(text: str, limit: int, *, lead: bool) -> str:
    if len(text) <= limit:
        return text
    cut = text[: max(1, limit - 2)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut + " " + ELLIPSIS


def claims_by_number(answer: str) -> dict[int, str]:
    """For each cited number, the answer sentences that carry its marker, markers removed.

    A marker that opens a sentence ("… three months. [2] The …") or stands alone belongs to
    the sentence before it.
    """
    bounds = sentences(answer)
    claims: dict[int, list[str]] = {}
    for m in MARKER_RE.finditer(answer):
        idx = _sentence_at(bounds, m.start())
        if idx is None:
            continue
        opens = not _strip_markers(answer[bounds[idx][0]:m.start()])
        if idx > 0 and (opens or len(terms(_sentence(answer, bounds[idx]))) < 2):
            idx -= 1
        text = _sentence(answer, bounds[idx])
        for n in marker_numbers(m.group(1)):
            parts = claims.setdefault(n, [])
            if text and text not in parts:
                parts.append(text)
    return {n: " ".join(parts) for n, parts in claims.items() if parts}


def _sentence_at(bounds: list[tuple[int, int]], pos: int) -> int | None:
    """The last sentence that starts at or before `pos` (the first one if none does)."""
    if not bounds:
        return None
    found = 0
    for i, (start, _) in enumerate(bounds):
        if start > pos:
            break
        found = i
    return found


def _sentence(text: str, bound: tuple[int, int]) -> str:
    return _strip_markers(text[bound[0]:bound[1]])


def _strip_markers(text: str) -> str:
    return re.sub(r"\s+([.,;:!?])", r"\1", _flat(MARKER_RE.sub(" ", text)))


# -- whole answers ---------------------------------------------------------------------------------
def locate(c: Citable, text: str, *, fallback: str = "") -> tuple[tuple[int, int] | None, str]:
    """(document offsets of the sentences of passage `c` that best match `text` (else
    `fallback`), a snippet of them). Only passages with known offsets get a span."""
    span = best_span(c.text, text) if text else None
    if span is None and fallback:
        span = best_span(c.text, fallback)
    shown = snippet(c.text, text, span=span) if span else snippet(c.text, "")
    start = c.location.get("char_start") if c.location else None
    if span is None or c.kind != "chunk" or not isinstance(start, int):
        return None, shown
    return (start + span.start, start + span.end), shown


def land_citations(result: AnswerResult, question: str) -> AnswerResult:
    """`result` with its markers renumbered by first citation (LLM answers, see
    app/answer/citations.py) and each citation and offered passage given its supporting span
    and snippet: for a citation of an LLM answer the sentences matching the answer sentence
    that cites it, otherwise those matching the question."""
    answer = result.answer
    citations = list(result.citations)
    offered = list(result.offered)
    if result.mode == "llm":
        mapping = display_numbers(answer, [b.n for b in offered] + [c.n for c in citations])
        answer = rewrite_markers(answer, mapping)
        citations = sorted((replace(c, n=mapping.get(c.n, c.n)) for c in citations),
                           key=lambda c: c.n)
        offered = [replace(b, n=mapping.get(b.n, b.n)) for b in offered]  # still rank order
        tools = tuple(replace(t, numbers=tuple(mapping.get(n, n) for n in t.numbers))
                      for t in result.tool_calls)
        result = replace(result, tool_calls=tools)
    claims = claims_by_number(answer) if result.mode == "llm" else {}
    landed = []
    for c in citations:
        span, shown = locate(c.citable, claims.get(c.n, question), fallback=question)
        landed.append(replace(c, span=span, snippet=shown))
    blocks = []
    for b in offered:
        span, shown = locate(b.citable, claims.get(b.n, question), fallback=question)
        blocks.append(replace(b, span=span, snippet=shown))
    return replace(result, answer=answer, citations=tuple(landed), offered=tuple(blocks))


def land_blocks(blocks: Iterable[ContextBlock], question: str) -> tuple[ContextBlock, ...]:
    """Offered passages with the span and snippet that match the question."""
    out = []
    for b in blocks:
        span, shown = locate(b.citable, question)
        out.append(replace(b, span=span, snippet=shown))
    return tuple(out)
