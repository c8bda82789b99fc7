"""Fallback parser for other office formats through `unstructured` (offline): PowerPoint .pptx
(slides, tables, speaker notes) and Excel .xlsx (one table per sheet).

Low score on purpose: a specialised parser (a bank's spreadsheet export) wins over it. Formats
that need a converter we do not ship (pandoc for .rtf/.epub, LibreOffice for .doc/.ppt/.xls)
are declined, so they end up as clearly "unsupported" in the ingest run rather than failing
oddly; .odt is read natively by `ingest.parsers.odf`. Outlook .msg would work offline through
python-oxmsg but is not offered until it can be tested on a sample file.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from app.core.errors import CorruptDocumentError, EmptyDocumentError
from app.core.types import ParsedDocument, ParseInput, TextBlock
from ingest.mediatypes import PPTX, XLSX
from ingest.parsers.common import display_name, first_line_title, reject_ole_container
from ingest.unstructured_offline import ensure_offline_unstructured

SCORE = 3


@dataclass(frozen=True, slots=True)
class _Format:
    label: str
    module: str
    function: str
    needs: tuple[str, ...]  # importable modules the partitioner requires
    options: tuple[tuple[str, Any], ...] = ()


_FORMATS = {
    PPTX: _Format("PowerPoint", "unstructured.partition.pptx", "partition_pptx", ("pptx",),
                  (("include_slide_notes", True), ("include_page_breaks", False))),
    XLSX: _Format("Excel", "unstructured.partition.xlsx", "partition_xlsx",
                  ("openpyxl", "xlrd", "msoffcrypto", "pandas"),
                  (("include_header", False),)),
}


def _available(fmt: _Format) -> bool:
    return all(importlib.util.find_spec(name) is not None for name in fmt.needs)


class OfficeParser:
    """PowerPoint and Excel files through unstructured, run offline."""

    name = "office"
    version = "1"

    def __init__(self) -> None:
        self._available: dict[str, bool] = {}

    def score(self, inp: ParseInput) -> int | None:
        fmt = _FORMATS.get(inp.media_type)
        if fmt is None:
            return None
        if inp.media_type not in self._available:
            self._available[inp.media_type] = _available(fmt)
        return SCORE if self._available[inp.media_type] else None

    def parse(self, inp: ParseInput) -> ParsedDocument:
        name = display_name(inp)
        fmt = _FORMATS[inp.media_type]
        reject_ole_container(inp.data, name=name, label=fmt.label)
        ensure_offline_unstructured()
        partition: Callable[..., list[Any]] = getattr(
            importlib.import_module(fmt.module), fmt.function)
        try:
            elements = partition(file=io.BytesIO(inp.data), **dict(fmt.options))
        except Exception as exc:  # each library has its own errors for damaged files
            raise CorruptDocumentError(
                f"{name}: cannot read this {fmt.label} file ({type(exc).__name__})") from exc
        blocks = elements_to_blocks(elements, sheets=inp.media_type == XLSX)
        if not blocks:
            raise EmptyDocumentError(f"{name}: the {fmt.label} file holds no text")
        pages = {b.page for b in blocks if b.page is not None}
        first_heading = next((b.text for b in blocks if b.kind == "heading"), None)
        metadata: dict[str, Any] = {"format": fmt.label.lower(), "via": "unstructured"}
        if inp.media_type == XLSX:
            metadata["sheets"] = sorted({b.heading for b in blocks if b.heading})
        return ParsedDocument(
            blocks=blocks,
            title=first_heading or first_line_title(blocks[0].text),
            kind="other",
            metadata=metadata,
            page_count=max(pages) if pages else None,
        )


_SKIP = frozenset({"PageBreak", "Header", "Footer", "Image", "PageNumber"})


def elements_to_blocks(elements: Sequence[Any], *, sheets: bool = False) -> list[TextBlock]:
    """unstructured elements -> blocks. Slides: the first top-level Title of a slide is its
    heading (unstructured calls verbless bullets "Title" too). Sheets: the sheet name is the
    heading. Tables use their HTML rendering to keep rows and cells apart."""
    from ingest.parsers.html import parse_html, table_rows

    blocks: list[TextBlock] = []
    titles: dict[int | None, int] = {}  # slide -> index of the element that titles it
    if not sheets:
        for index, element in enumerate(elements):
            page = getattr(element.metadata, "page_number", None)
            if (type(element).__name__ == "Title" and page not in titles
                    and (element.text or "").strip()
                    and not getattr(element.metadata, "category_depth", 0)):
                titles[page] = index
    for index, element in enumerate(elements):
        category = type(element).__name__
        text = (element.text or "").strip()
        if category in _SKIP or not text:
            continue
        meta = element.metadata
        page = getattr(meta, "page_number", None)
        if sheets:
            heading = getattr(meta, "page_name", None)
        else:
            heading = elements[titles[page]].text.strip() if page in titles else None
        kind = {"ListItem": "list", "Table": "table"}.get(category, "text")
        if titles.get(page) == index:
            kind = "heading"
        if category == "Table" and getattr(meta, "text_as_html", None):
            root = parse_html(meta.text_as_html)
            table = root.find(".//table") if root is not None else None
            rows = table_rows(table) if table is not None else []
            text = "\n".join(rows) or text
        blocks.append(TextBlock(text=text, page=page, heading=heading, kind=kind))
    return blocks
