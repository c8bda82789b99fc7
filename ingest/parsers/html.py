"""HTML parser (lxml): visible text as blocks, h1-h6 heading paths, tables as ' | ' rows;
script, style, navigation and hidden elements dropped. `html_to_blocks` is reusable (mail bodies).
"""

from __future__ import annotations

import re
from typing import Any

from app.core.errors import EmptyDocumentError
from app.core.types import ParsedDocument, ParseInput, TextBlock
from ingest.limits import Limits, WithLimits, clip, clip_metadata
from ingest.mediatypes import HTML
from ingest.parsers.common import as_utc, decode_text, display_name, guess_kind
from ingest.parsers.markup import parse_html
from ingest.titles import candidates, choose_title

_DROP = frozenset({"script", "style", "nav", "noscript", "template", "svg", "iframe", "object",
                   "embed", "canvas", "head", "select", "button", "math"})
_BLOCK = frozenset({"p", "div", "section", "article", "main", "header", "footer", "aside", "ul",
                    "ol", "dl", "dt", "dd", "blockquote", "pre", "address", "figure",
                    "figcaption", "form", "fieldset", "hr", "center", "details", "summary",
                    "caption", "body", "html"})
_LINE = frozenset({"li", "br", "tr"})
_SPACED = _LINE | {"td", "th", "table", "tbody", "thead"}
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")
_DATE_META = ("article:published_time", "date", "dc.date", "dcterms.created", "dc.date.issued",
              "citation_date", "pubdate")


class HtmlParser(WithLimits):
    """Web pages and saved HTML documents."""

    name = "html"
    version = "2"  # 2: titles chosen by ingest/titles.py

    def __init__(self, *, limits: Limits | None = None) -> None:
        self._limits = limits

    def score(self, inp: ParseInput) -> int | None:
        return 10 if inp.media_type in (HTML, "application/xhtml+xml") else None

    def parse(self, inp: ParseInput) -> ParsedDocument:
        name = display_name(inp)
        match = _META_CHARSET.search(inp.data[:4096])
        charset = match.group(1).decode("ascii", "replace") if match else None
        text = decode_text(inp.data, name=name, declared_charset=charset)
        limits = self.limits
        root = parse_html(text, max_depth=limits.max_html_depth)
        if root is None:
            raise EmptyDocumentError(f"{name}: the HTML page holds no text")
        page_title = _page_title(root)
        blocks = html_to_blocks(root, max_heading_chars=limits.max_title_chars)
        if not blocks:
            raise EmptyDocumentError(f"{name}: the HTML page holds no text")
        start = "\n".join(b.text for b in blocks[:60])
        metadata: dict[str, Any] = {}
        for key in ("author", "description", "keywords"):
            value = _meta(root, key)
            if value:
                metadata[key] = value
        language = root.get("lang")
        if language:
            metadata["language"] = language
        return ParsedDocument(
            blocks=blocks,
            title=clip(choose_title(properties=[page_title], lines=candidates(blocks)),
                       limits.max_title_chars) or None,
            kind=guess_kind(start),
            occurred_at=_meta_date(root),
            metadata=clip_metadata(metadata, limits),
        )


def html_to_blocks(root: Any, *, max_heading_chars: int = 200) -> list[TextBlock]:
    """Visible text of an lxml HTML tree (from `parse_html`: bounded depth) as blocks with
    heading paths; each heading's title is clipped, since it is copied into every chunk."""
    walker = _Walker(max_heading_chars)
    body = root.find("body")
    walker.walk(body if body is not None else root)
    walker.flush()
    return walker.blocks


class _Walker:
    def __init__(self, max_heading_chars: int) -> None:
        self.max_heading_chars = max_heading_chars
        self.blocks: list[TextBlock] = []
        self.buf: list[str] = []
        self.path: list[tuple[int, str]] = []

    def heading(self) -> str | None:
        return " > ".join(t for _, t in self.path) or None

    def flush(self, kind: str = "text") -> None:
        lines = [_SPACES.sub(" ", line).strip() for line in "".join(self.buf).split("\n")]
        text = "\n".join(line for line in lines if line)
        if text:
            self.blocks.append(TextBlock(text=text, heading=self.heading(), kind=kind))
        self.buf.clear()

    def walk(self, element: Any) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        tag = tag.lower()
        if tag in _DROP or _hidden(element) or not tag:
            self.tail(element)
            return
        if tag in _HEADINGS:
            self.flush()
            title = _SPACES.sub(" ", " ".join(element.itertext())).strip()
            if title:
                level = _HEADINGS[tag]
                while self.path and self.path[-1][0] >= level:
                    self.path.pop()
                self.path.append((level, clip(title, self.max_heading_chars)))
                self.blocks.append(TextBlock(text=title, heading=self.heading(), kind="heading"))
        elif tag == "table":
            self.flush()
            rows = table_rows(element)
            if rows:
                self.blocks.append(TextBlock(text="\n".join(rows), heading=self.heading(),
                                             kind="table"))
        elif tag == "pre":
            self.flush()
            text = "".join(element.itertext()).strip("\n")
            if text.strip():
                self.blocks.append(TextBlock(text=text, heading=self.heading(), kind="text"))
        else:
            block = tag in _BLOCK
            if block:
                self.flush()
            if tag == "br":
                self.buf.append("\n")
            if tag == "img" and element.get("alt", "").strip():
                self.buf.append(f" {element.get('alt').strip()} ")
            if element.text:
                self.buf.append(element.text.replace("\n", " "))
            for child in element:
                self.walk(child)
            if tag in _LINE and tag != "br":
                self.buf.append("\n")
            if block:
                self.flush(kind="quote" if tag == "blockquote" else "text")
        self.tail(element)

    def tail(self, element: Any) -> None:
        if element.tail:
            self.buf.append(element.tail.replace("\n", " "))


def _hidden(element: Any) -> bool:
    if element.get("hidden") is not None or element.get("aria-hidden") == "true":
        return True
    style = element.get("style")
    return bool(style) and bool(re.search(r"display\s*:\s*none", style, re.I))


def table_rows(table: Any) -> list[str]:
    rows: list[str] = []
    for tr in table.iter("tr"):
        if _closest_table(tr) is not table:
            continue  # rows of a nested table are read as part of their cell
        cells = []
        for cell in tr:
            if not isinstance(cell.tag, str) or cell.tag.lower() not in ("td", "th"):
                continue
            text = " ".join("".join(_visible_text(cell)).split())
            if text:
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows


def _visible_text(element: Any) -> list[str]:
    out: list[str] = [element.text or ""]
    _collect_visible(element, out)
    return out


def _collect_visible(element: Any, out: list[str]) -> None:
    for child in element:
        visible = isinstance(child.tag, str) and child.tag.lower() not in _DROP and not _hidden(child)
        if visible:
            spaced = child.tag.lower() in _BLOCK or child.tag.lower() in _SPACED
            out.append(" " if spaced else "")
            out.append(child.text or "")
            _collect_visible(child, out)
            out.append(" " if spaced else "")
        out.append(child.tail or "")


def _closest_table(element: Any) -> Any:
    parent = element.getparent()
    while parent is not None and parent.tag != "table":
        parent = parent.getparent()
    return parent


def _page_title(root: Any) -> str | None:
    title = root.find(".//title")
    if title is not None and title.text_content().strip():
        return " ".join(title.text_content().split())
    return None


def _meta(root: Any, name: str) -> str | None:
    for meta in root.iter("meta"):
        key = (meta.get("name") or meta.get("property") or "").lower()
        if key == name and (meta.get("content") or "").strip():
            return str(meta.get("content")).strip()
    return None


def _meta_date(root: Any) -> Any:
    from datetime import datetime

    for key in _DATE_META:
        value = _meta(root, key)
        if value:
            try:
                return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
            except ValueError:
                continue
    return None
