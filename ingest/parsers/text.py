"""Plain-text and Markdown parser: robust decoding, paragraphs, `#`/setext headings (pure)."""

from __future__ import annotations

import re
from datetime import date, datetime

from app.core.errors import EmptyDocumentError
from app.core.types import ParsedDocument, ParseInput, TextBlock
from ingest.limits import Limits, WithLimits, clip
from ingest.mediatypes import CSV, MARKDOWN, TEXT
from ingest.parsers.common import as_utc, decode_text, display_name, first_line_title

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_FRONT_MATTER_KEY = re.compile(r"^(title|date)\s*:\s*(.+?)\s*$", re.IGNORECASE)
_TEXT_TYPES = frozenset({TEXT, MARKDOWN, "text/x-markdown", "text/x-rst", "text/x-log"})


class TextParser(WithLimits):
    """Plain text and Markdown into paragraphs with a heading path; kind "note"."""

    name = "text"
    version = "1"

    def __init__(self, *, limits: Limits | None = None) -> None:
        self._limits = limits

    def score(self, inp: ParseInput) -> int | None:
        if inp.media_type in _TEXT_TYPES:
            return 10
        if inp.media_type == CSV or (inp.media_type.startswith("text/") and inp.media_type != "text/html"):
            return 2  # better than nothing for other text formats until a specialist claims them
        return None

    def parse(self, inp: ParseInput) -> ParsedDocument:
        name = display_name(inp)
        text = decode_text(inp.data, name=name)
        if not text.strip():
            raise EmptyDocumentError(f"{name}: the file holds no text")
        front, body = _split_front_matter(text)
        limits = self.limits
        blocks = parse_markdown_blocks(body, max_heading_chars=limits.max_title_chars)
        title = front.get("title") or _first_heading(blocks) or first_line_title(body)
        return ParsedDocument(
            blocks=blocks,
            title=clip(title, limits.max_title_chars) or None,
            kind="note",
            occurred_at=_parse_date(front.get("date")),
            metadata={"format": "markdown" if inp.media_type == MARKDOWN else "text",
                      "characters": len(text)},
        )


def parse_markdown_blocks(text: str, *, max_heading_chars: int = 200) -> list[TextBlock]:
    """Split into paragraph blocks (blank-line separated) and heading blocks with a heading path.

    Fenced code is kept as one block and never read as headings. A heading's title goes into
    the path cut to `max_heading_chars` (the path is copied into every chunk under it).
    """
    blocks: list[TextBlock] = []
    path: list[tuple[int, str]] = []
    para: list[str] = []
    lines = text.split("\n")
    in_fence: str | None = None

    def heading_path() -> str | None:
        return " > ".join(t for _, t in path) or None

    def flush() -> None:
        if para:
            body = "\n".join(para).strip("\n")
            if body.strip():
                blocks.append(TextBlock(text=body.rstrip(), heading=heading_path()))
            para.clear()

    def open_heading(level: int, title: str) -> None:
        flush()
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, clip(title, max_heading_chars)))
        blocks.append(TextBlock(text=title, heading=heading_path(), kind="heading"))

    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if in_fence is not None:
            para.append(line)
            if fence and fence.group(1) == in_fence:
                in_fence = None
                flush()
            i += 1
            continue
        if fence:
            flush()
            in_fence = fence.group(1)
            para.append(line)
            i += 1
            continue
        atx = _ATX.match(line)
        if atx and atx.group(2).strip():
            open_heading(len(atx.group(1)), atx.group(2).strip())
            i += 1
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        setext = _SETEXT.match(nxt)
        # A setext heading is one text line directly followed by === or --- (not a list item).
        if setext and line.strip() and not para and not line.lstrip().startswith(("-", "*", "|")):
            open_heading(1 if setext.group(1)[0] == "=" else 2, line.strip())
            i += 2
            continue
        if not line.strip():
            flush()
        else:
            para.append(line)
        i += 1
    flush()
    return blocks


def _first_heading(blocks: list[TextBlock]) -> str | None:
    for block in blocks:
        if block.kind == "heading":
            return block.text
    return None


def _split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """YAML front matter (`---` ... `---` at the very top): only `title` and `date` are read."""
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---", 4)
    if end == -1:
        return {}, text
    values: dict[str, str] = {}
    for line in text[4:end].split("\n"):
        match = _FRONT_MATTER_KEY.match(line)
        if match:
            values[match.group(1).lower()] = match.group(2).strip("\"'")
    after = text.find("\n", end + 4)
    return values, text[after + 1 :] if after != -1 else ""


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        pass
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return as_utc(datetime(day.year, day.month, day.day))
