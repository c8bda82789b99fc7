"""Citation markers in answer text: find `[n]`, `[n, m]`, `[n][m]`, `[n-m]`, keep only offered ones (pure).

`CitationFilter` works on a stream (text arrives in arbitrary pieces) and gives exactly the same
result as on the whole text: numbers never offered are removed from the displayed text (a marker
left empty disappears with the spaces before it) and reported in `dropped`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from app.answer.types import Citable, Citation

_NUM = r"\d{1,4}"
_ITEM = rf"{_NUM}(?:[ \t]*[-\u2013][ \t]*{_NUM})?"
MARKER_RE = re.compile(rf"\[[ \t]*({_ITEM}(?:[ \t]*[,;][ \t]*{_ITEM})*)[ \t]*\]")
_PARTIAL_RE = re.compile("\\[[0-9 \t,;\\-\u2013]*")
_RANGE_RE = re.compile(rf"({_NUM})[ \t]*[-\u2013][ \t]*({_NUM})")
# Shown text that ends inside an unclosed bracket ("see [7"): removing a marker right after it
# would join it with the next "]" into a new marker ("[7[7]]" -> "[7]"), so such a marker is
# replaced by an invisible word joiner instead, which no marker can contain.
_OPEN_TAIL_RE = re.compile("\\[[0-9 \t,;\\-\u2013]*\\Z")
_JOINER = "\u2060"
# A longer bracket is not a citation; bounds how much text the stream filter holds back.
MAX_MARKER = 48
MAX_RANGE = 50


def marker_numbers(inner: str) -> list[int]:
    """Numbers in a marker's inside: "1, 3-5" -> [1, 3, 4, 5] (absurd ranges keep endpoints)."""
    out: list[int] = []
    for part in re.split(r"[,;]", inner):
        part = part.strip()
        if not part:
            continue
        m = _RANGE_RE.fullmatch(part)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            nums = list(range(lo, hi + 1)) if 0 < hi - lo <= MAX_RANGE else [lo, hi]
        else:
            nums = [int(part)]
        out.extend(n for n in nums if n not in out)
    return out


class CitationFilter:
    """Streaming marker check: `feed()` pieces, then `flush()`; `cited`/`dropped` in order seen."""

    def __init__(self, valid: Collection[int]) -> None:
        self.valid = frozenset(valid)
        self.cited: list[int] = []
        self.dropped: list[int] = []
        self._pending = ""
        self._tail = ""  # the end of the text shown so far (MAX_MARKER characters)

    def feed(self, text: str) -> str:
        buf = self._pending + text
        self._pending = ""
        out: list[str] = []
        pos = 0
        while True:
            j = buf.find("[", pos)
            if j == -1:
                rest = buf[pos:]
                core = rest.rstrip(" \t")
                out.append(core)
                # Trailing spaces wait: they vanish if an invalid marker follows.
                self._pending = rest[len(core) :]
                break
            before = buf[pos:j]
            core = before.rstrip(" \t")
            spaces = before[len(core) :]
            out.append(core)
            m = MARKER_RE.match(buf, j, min(len(buf), j + MAX_MARKER))
            if m:
                shown_tail = (self._tail + "".join(out))[-MAX_MARKER:]
                out.append(self._resolve(spaces, m.group(0), m.group(1),
                                         after_open=bool(_OPEN_TAIL_RE.search(shown_tail))))
                pos = m.end()
                continue
            if len(buf) - j < MAX_MARKER and _PARTIAL_RE.fullmatch(buf, j):
                self._pending = spaces + buf[j:]  # may still become a marker
                break
            out.append(spaces + "[")
            pos = j + 1
        shown = "".join(out)
        self._tail = (self._tail + shown)[-MAX_MARKER:]
        return shown

    def flush(self) -> str:
        rest, self._pending = self._pending, ""
        self._tail = (self._tail + rest)[-MAX_MARKER:]
        return rest

    def _resolve(self, spaces: str, marker: str, inner: str, *, after_open: bool) -> str:
        numbers = marker_numbers(inner)
        good = [n for n in numbers if n in self.valid]
        for n in numbers:
            target = self.cited if n in self.valid else self.dropped
            if n not in target:
                target.append(n)
        if len(good) == len(numbers):
            return spaces + marker
        if not good:
            return _JOINER if after_open else ""
        return spaces + "".join(f"[{n}]" for n in good)


@dataclass(frozen=True, slots=True)
class CheckedAnswer:
    """An answer's displayed text and what it cites."""

    text: str
    citations: tuple[Citation, ...]
    dropped: tuple[int, ...]

    @property
    def uncited(self) -> bool:
        return not self.citations


def check_citations(text: str, offered: Mapping[int, Citable]) -> CheckedAnswer:
    """Map the markers of a whole answer to what was offered; drop and report the rest."""
    f = CitationFilter(offered.keys())
    shown = f.feed(text) + f.flush()
    return citations_of(shown, f, offered)


def citations_of(text: str, f: CitationFilter, offered: Mapping[int, Citable]) -> CheckedAnswer:
    """Result of a filter that has seen the whole answer (`text` is what it let through)."""
    return CheckedAnswer(
        text=text.strip(),
        citations=tuple(Citation(n=n, citable=offered[n]) for n in f.cited),
        dropped=tuple(f.dropped),
    )


# -- display numbers -------------------------------------------------------------------------------
# The model numbers its sources by retrieval rank and cites them in any order ("[1] … [3] … [2]").
# Sources are listed under the answer in order of first citation, so the markers are renumbered
# once the answer is complete. Streaming: text already sent cannot be rewritten, and numbering
# markers as they first appear would make the streamed markers disagree with the "passages
# offered" list shown while streaming (it carries the model's numbers). So the stream keeps the
# model's numbers throughout, and the final `done` event carries the renumbered text, citations
# and offered passages, which the page swaps in (ask.js renders the answer from `done`).
def first_cited(text: str) -> list[int]:
    """Numbers in order of first appearance in `text`'s markers."""
    seen: dict[int, None] = {}
    for m in MARKER_RE.finditer(text):
        for n in marker_numbers(m.group(1)):
            seen.setdefault(n)
    return list(seen)


def display_numbers(text: str, offered: Collection[int]) -> dict[int, int]:
    """old -> new: numbers cited in `text` become 1, 2, … by first appearance; the offered
    numbers it does not cite follow in their old order (so every offered number has one)."""
    valid = set(offered)
    order = [n for n in first_cited(text) if n in valid]
    order += sorted(valid - set(order))
    return {old: new for new, old in enumerate(order, start=1)}


def rewrite_markers(text: str, mapping: Mapping[int, int]) -> str:
    """`text` with each marker's numbers mapped ("[3-4]" -> "[1, 2]"); numbers without a
    mapping stay as they are. A marker's numbers are listed ascending, each once."""

    def sub(m: re.Match[str]) -> str:
        numbers = sorted({mapping.get(n, n) for n in marker_numbers(m.group(1))})
        return "[" + ", ".join(str(n) for n in numbers) + "]"

    return MARKER_RE.sub(sub, text)
