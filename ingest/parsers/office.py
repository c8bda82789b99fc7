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
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from app.core.errors import CorruptDocumentError, EmptyDocumentError, ExpansionLimitError
from app.core.types import ParsedDocument, ParseInput, TextBlock
from ingest.limits import Limits, WithLimits, clip
from ingest.mediatypes import PPTX, XLSX
from ingest.parsers.common import display_name, first_line_title, reject_ole_container
from ingest.parsers.safezip import check_zip
from ingest.unstructured_offline import ensure_offline_unstructured

SCORE = 3


# unstructured's partitioners are named by module path, not imported: importing one pulls in
# pandas, openpyxl and most of unstructured (seconds), so it happens at the first such file. They
# are also optional at run time (`needs`), and `_available` checks that without importing them.
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


class OfficeParser(WithLimits):
    """PowerPoint and Excel files through unstructured, run offline."""

    name = "office"
    version = "1"

    def __init__(self, *, limits: Limits | None = None) -> None:
        self._available: dict[str, bool] = {}
        self._limits = limits

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
        limits = self.limits
        archive = check_zip(inp.data, name=name, limits=limits, label=f"{fmt.label} file")
        if inp.media_type == XLSX:
            check_sheet_span(archive, name=name, limits=limits)
        ensure_offline_unstructured()
        partition: Callable[..., list[Any]] = getattr(
            importlib.import_module(fmt.module), fmt.function)
        try:
            elements = partition(file=io.BytesIO(inp.data), **dict(fmt.options))
        except Exception as exc:  # each library has its own errors for damaged files
            raise CorruptDocumentError(
                f"{name}: cannot read this {fmt.label} file ({type(exc).__name__})") from exc
        blocks = elements_to_blocks(elements, sheets=inp.media_type == XLSX,
                                    max_heading_chars=limits.max_title_chars)
        if not blocks:
            raise EmptyDocumentError(f"{name}: the {fmt.label} file holds no text")
        pages = {b.page for b in blocks if b.page is not None}
        first_heading = next((b.text for b in blocks if b.kind == "heading"), None)
        metadata: dict[str, Any] = {"format": fmt.label.lower(), "via": "unstructured"}
        if inp.media_type == XLSX:
            metadata["sheets"] = sorted({b.heading for b in blocks if b.heading})
        return ParsedDocument(
            blocks=blocks,
            title=clip(first_heading or first_line_title(blocks[0].text),
                       limits.max_title_chars) or None,
            kind="other",
            metadata=metadata,
            page_count=max(pages) if pages else None,
        )


_SKIP = frozenset({"PageBreak", "Header", "Footer", "Image", "PageNumber"})


def elements_to_blocks(elements: Sequence[Any], *, sheets: bool = False,
                       max_heading_chars: int = 200) -> list[TextBlock]:
    """unstructured elements -> blocks. Slides: the first top-level Title of a slide is its
    heading (unstructured calls verbless bullets "Title" too). Sheets: the sheet name is the
    heading. Tables use their HTML rendering to keep rows and cells apart."""
    from ingest.parsers.html import table_rows
    from ingest.parsers.markup import parse_html

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
        heading = clip(heading, max_heading_chars) or None
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


# Cell references of a worksheet: <c r="AB12">, <row r="12">, <dimension ref="A1:AB12">.
_CELL_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*?\sr="([A-Z]{1,3})([0-9]{1,7})"')
_ROW_REF = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr="([0-9]{1,7})"')
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*?\sref="[^":]*:?([A-Z]{1,3})([0-9]{1,7})"')


def check_sheet_span(archive: zipfile.ZipFile, *, name: str, limits: Limits) -> None:
    """Refuse a workbook whose sheets span more cells than `max_sheet_cells`: the spreadsheet
    readers fill every cell between A1 and the last one (a 5 KB file naming cell XFD1048576
    would become 17 billion cells). Reads each sheet's XML in pieces (the zip is checked)."""
    total = 0
    for info in archive.infolist():
        if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
            continue
        rows, cols = 0, 0
        tail = b""
        with archive.open(info) as fh:
            while piece := fh.read(1 << 20):
                text = tail + piece
                for letters, digits in _CELL_REF.findall(text) + _DIMENSION.findall(text):
                    cols = max(cols, _column_number(letters))
                    rows = max(rows, int(digits))
                rows = max([rows, *(int(r) for r in _ROW_REF.findall(text))])
                tail = text[-256:]
        total += rows * cols
        if total > limits.max_sheet_cells:
            raise ExpansionLimitError(
                f"{name}: the workbook spans {total:,} cells or more, more than "
                f"{limits.max_sheet_cells:,} (limit HOMERAG_MAX_SHEET_CELLS)")


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + (ch - 64)
    return number
