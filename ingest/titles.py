"""Choosing a document's title from what a parser found (pure).

Metadata titles are often junk ("Binder1", "Microsoft Word - x.docx", "Word Document", a
producer's name, "10811.exe") and first lines often are not titles ("Interpreting help text",
a running header, a page number). `choose_title` takes the candidates a parser has, in the order
it trusts them (document properties, a Title-styled paragraph, headings, the first lines),
drops junk, and among the text lines prefers one that names a kind of document ("… Agreement",
"Mietvertrag", "Invoice") over one that merely comes first.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.core.types import TextBlock

MAX_TITLE = 150
LINES = 40  # text lines considered

_JUNK = re.compile(
    r"^(?:untitled|unbenannt|no title|ohne titel|title|titel|document|dokument|word document|"
    r"new document|neues dokument|presentation|präsentation|slide \d+|page \d+|seite \d+|"
    r"(?:binder|scan|img|image|dsc|dokument|document|doc|pdf|file|untitled)[\s_-]*\d*|"
    r"\d+|[\W_]+)$",
    re.IGNORECASE,
)
_FILE_NAME = re.compile(r"^[^/\\]+\.(?:docx?|pdf|odt|rtf|txt|exe|tmp|xlsx?|pptx?|html?|indd|"
                        r"qxd|pages|wpd|dot|dotx)$", re.IGNORECASE)
_WORD_PREFIX = re.compile(r"^(?:microsoft (?:word|excel|powerpoint)|word|powerpoint)\s*-\s*",
                          re.IGNORECASE)
# Producer and tool names that land in the title field.
_PRODUCERS = re.compile(
    r"^(?:acrobat|adobe|pdfmaker|pscript|distiller|ghostscript|libreoffice|openoffice|"
    r"microsoft|writer|pdfcreator|pdf24|itext|fpdf|reportlab|wkhtmltopdf|chrome|skia|"
    r"quartz|canon|epson|hp |xerox|brother|kyocera|ricoh|nuance|abbyy|tesseract)(?![a-z])",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(r"[{}]|^\[|^<")
# Words naming a kind of document; a short line holding one is very likely the title.
_DOC_NOUN = re.compile(
    r"\b(?:agreement|contract|lease|terms|policy|invoice|receipt|statement|letter|minutes|"
    r"certificate|confirmation|notice|offer|quotation|quote|order|application|report|"
    r"memorandum|nda|sow|term sheet|amendment|addendum|schedule|bill|payslip|"
    r"vertrag\w*|\w+vertrag|vereinbarung|rechnung|quittung|beleg|kontoauszug|bescheid|"
    r"bescheinigung|bestätigung|kündigung|angebot|auftrag|antrag|protokoll|police|"
    r"versicherungsschein|nachweis|vollmacht|mahnung|abrechnung|lohnabrechnung|"
    r"procès-verbal|contrat|facture|accord)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[.!?;,]$")
# Instructions and questions ("How to set up an agreement", "Bitte beachten") are not titles.
_INSTRUCTION = re.compile(r"^(?:how|what|why|when|where|who|please|note|see|click|review|delete|"
                          r"remove|send|fill|enter|wie|was|warum|wann|wo|bitte|hinweis|siehe)\b",
                          re.IGNORECASE)
# Stamps at the top of a page ("Official - Subject to Final Review", "Entwurf", "Confidential").
_STAMP = re.compile(r"^(?:official|confidential|draft|entwurf|vertraulich|privileged|internal|"
                    r"intern|copy|kopie|abschrift|muster|sample|specimen)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A line that might be the title, where it came from, and how strongly it is trusted."""

    text: str
    heading: bool = False


def tidy(title: str | None) -> str | None:
    """Whitespace collapsed, a "Microsoft Word - " prefix and a file extension removed; None
    when nothing meaningful is left."""
    if not title:
        return None
    text = " ".join(str(title).split()).strip(" -–|:")
    text = _WORD_PREFIX.sub("", text)
    if _FILE_NAME.match(text):
        text = text.rsplit(".", 1)[0].replace("_", " ").strip()
    return text or None


def is_junk(title: str | None) -> bool:
    """Generic names, file names, producer names, placeholders, numbers, or too few letters."""
    if not title:
        return True
    text = " ".join(title.split())
    letters = sum(ch.isalpha() for ch in text)
    return (letters < 3 or len(text) > MAX_TITLE or bool(_JUNK.match(text))
            or bool(_FILE_NAME.match(text)) or bool(_PRODUCERS.match(text))
            or bool(_PLACEHOLDER.search(text)))


def running_lines(pages: Sequence[str], *, edge: int = 3) -> frozenset[str]:
    """Lines among the first and last `edge` of a page that recur on at least half the pages
    (two at least): running headers and footers ("Official - Subject to Final Review")."""
    if len(pages) < 2:
        return frozenset()
    counts: Counter[str] = Counter()
    for text in pages:
        lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
        counts.update(set(lines[:edge] + lines[-edge:]))
    need = max(2, (len(pages) + 1) // 2)
    return frozenset(line for line, n in counts.items() if n >= need)


def candidates(blocks: Iterable[TextBlock], *, limit: int = LINES) -> list[Candidate]:
    """The first `limit` non-empty lines of the searchable blocks, headings marked."""
    out: list[Candidate] = []
    for block in blocks:
        if not block.searchable or block.kind in ("footer", "signature", "quote"):
            continue
        for line in block.text.splitlines():
            line = " ".join(line.split())
            if line:
                out.append(Candidate(line, heading=block.kind == "heading"))
                if len(out) >= limit:
                    return out
    return out


def _line_score(index: int, c: Candidate, *, repeated: bool) -> float | None:
    text = c.text
    if is_junk(text) or len(text) > 100:
        return None
    words = text.split()
    if len(words) > 14:
        return None  # a sentence, not a title
    score = 10.0 - 0.25 * index
    if _DOC_NOUN.search(text):
        score += 8
    if c.heading:
        score += 3
    if repeated:
        score += 2  # a title often recurs (cover page, first page)
    if _INSTRUCTION.match(text):
        score -= 6
    if _STAMP.match(text):
        score -= 4
    if not _SENTENCE.search(text):
        score += 1
    else:
        score -= 3
    alpha = [w for w in words if w[:1].isalpha()]
    if alpha and sum(w[0].isupper() for w in alpha) >= 0.6 * len(alpha):
        score += 1.5  # Title Case or ALL CAPS
    return score


def choose_title(*, properties: Sequence[str | None] = (), lines: Sequence[Candidate] = (),
                 skip: frozenset[str] = frozenset()) -> str | None:
    """The title: the first document property (title field, subject, a Title-styled paragraph)
    that is not junk, else the best-scoring text line, else None.

    A property that was only a file name ("Microsoft Word - Mietvertrag.docx") competes with the
    text lines instead of winning outright. `skip`: lines that are not titles (running headers).
    """
    weak: list[str] = []
    for raw in properties:
        title = tidy(raw)
        if title is None or is_junk(title):
            continue
        if tidy(raw) != " ".join(str(raw).split()).strip(" -–|:"):
            weak.append(title)  # derived from a file name: only a candidate
            continue
        return title
    lines = [c2 for c2 in (_without(c, skip) for c in lines) if c2 is not None]
    counts = Counter(c.text.lower() for c in lines)
    best: tuple[float, str] | None = None
    for i, c in enumerate(lines):
        score = _line_score(i, c, repeated=counts[c.text.lower()] > 1)
        if score is not None and (best is None or score > best[0]):
            best = (score, c.text)
    for title in weak:
        score = 9.0 + (8 if _DOC_NOUN.search(title) else 0)
        if best is None or score > best[0]:
            best = (score, title)
    return best[1] if best else None


def _without(c: Candidate, skip: frozenset[str]) -> Candidate | None:
    """`c` without a running header it starts or ends with (a wrapped line may join them)."""
    text = c.text
    for line in skip:
        if text == line:
            return None
        if text.startswith(line + " "):
            text = text[len(line):].strip()
        elif text.endswith(" " + line):
            text = text[: -len(line)].strip()
    return Candidate(text, heading=c.heading) if text else None
