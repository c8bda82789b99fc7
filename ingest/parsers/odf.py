"""OpenDocument text (.odt, LibreOffice/OpenOffice) parser: reads content.xml and meta.xml.

unstructured converts .odt through pandoc, which is not installed; the format is simple enough
to read directly: text:h (with outline level), text:p, lists and tables, in document order.
"""

from __future__ import annotations

import zipfile
from datetime import datetime
from typing import Any

from app.core.errors import (
    CorruptDocumentError,
    EmptyDocumentError,
    EncryptedDocumentError,
    ExpansionLimitError,
)
from app.core.types import ParsedDocument, ParseInput, TextBlock
from ingest.limits import Limits, WithLimits, clip
from ingest.mediatypes import ODT
from ingest.parsers.common import as_utc, display_name, guess_kind
from ingest.parsers.safezip import open_zip, verify_members
from ingest.titles import candidates, choose_title

_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_META = "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
_DC = "http://purl.org/dc/elements/1.1/"
_MANIFEST = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
T, TB = f"{{{_TEXT}}}", f"{{{_TABLE}}}"
_MAX_SPACES = 1000
# Inline elements whose text is skipped: notes' bodies would interrupt the sentence they mark.
_SKIP = frozenset({f"{T}note", f"{T}tracked-changes", f"{T}sequence-decls",
                   f"{T}table-of-content", f"{{{_OFFICE}}}annotation"})


class OdtParser(WithLimits):
    """LibreOffice Writer documents."""

    name = "odt"
    version = "2"  # 2: titles chosen by ingest/titles.py

    def __init__(self, *, limits: Limits | None = None) -> None:
        self._limits = limits

    def score(self, inp: ParseInput) -> int | None:
        return 10 if inp.media_type == ODT else None

    def parse(self, inp: ParseInput) -> ParsedDocument:
        from lxml import etree

        name = display_name(inp)
        limits = self.limits
        archive = open_zip(inp.data, name=name, limits=limits, label=".odt")
        # XML parsed without entity expansion or network access; depth stays libxml2's default.
        xml = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        try:
            names = set(archive.namelist())
            # Before the members are inflated: encrypted members are no deflate streams.
            if "META-INF/manifest.xml" in names and b"encryption-data" in archive.read(
                    "META-INF/manifest.xml"):
                raise EncryptedDocumentError(f"{name}: the document is protected by a password")
            verify_members(archive, inp.data, name=name, limits=limits, label=".odt")
            content = etree.fromstring(archive.read("content.xml"), xml)
            meta = etree.fromstring(archive.read("meta.xml"), xml) if "meta.xml" in names else None
        except (EncryptedDocumentError, ExpansionLimitError, CorruptDocumentError):
            raise
        except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, ValueError, OSError) as exc:
            raise CorruptDocumentError(f"{name}: not a readable .odt ({type(exc).__name__})") from exc
        body = content.find(f"{{{_OFFICE}}}body/{{{_OFFICE}}}text")
        walker = _Walker(limits)
        if body is not None:
            walker.walk(body)
        if not walker.blocks:
            raise EmptyDocumentError(f"{name}: the document holds no text")
        info = {k: clip(v, limits.max_header_chars) for k, v in _meta(meta).items()}
        start = "\n".join(b.text for b in walker.blocks[:60])
        created = _date(info.pop("creation-date", None))
        modified = _date(info.pop("date", None))
        metadata: dict[str, Any] = dict(info)
        if created:
            metadata["created_at"] = created.isoformat()
        if modified:
            metadata["modified_at"] = modified.isoformat()
        return ParsedDocument(
            blocks=walker.blocks,
            title=clip(choose_title(properties=[metadata.pop("title", None)],
                                    lines=candidates(walker.blocks)),
                       limits.max_title_chars) or None,
            kind=guess_kind(start),
            occurred_at=created or modified,
            metadata=metadata,
        )


class _Walker:
    def __init__(self, limits: Limits) -> None:
        self.blocks: list[TextBlock] = []
        self.path: list[tuple[int, str]] = []
        self.limits = limits

    def heading(self) -> str | None:
        return " > ".join(t for _, t in self.path) or None

    def walk(self, parent: Any) -> None:
        for child in parent:
            tag = child.tag
            if tag == f"{T}h":
                text = _inline(child).strip()
                if text:
                    level = _count(child.get(f"{T}outline-level"), default=1, most=10)
                    while self.path and self.path[-1][0] >= level:
                        self.path.pop()
                    self.path.append((level, clip(text, self.limits.max_title_chars)))
                    self.blocks.append(TextBlock(text=text, heading=self.heading(), kind="heading"))
            elif tag == f"{T}p":
                text = _inline(child).strip()
                if text:
                    self.blocks.append(TextBlock(text=text, heading=self.heading()))
            elif tag == f"{T}list":
                items = [line for line in _list_lines(child) if line]
                if items:
                    self.blocks.append(TextBlock(text="\n".join(items), heading=self.heading(),
                                                 kind="list"))
            elif tag == f"{TB}table":
                rows = _table_rows(child)
                if rows:
                    self.blocks.append(TextBlock(text="\n".join(rows), heading=self.heading(),
                                                 kind="table"))
            elif tag == f"{T}section" or tag == f"{T}soft-page-break":
                self.walk(child)


def _inline(element: Any) -> str:
    parts = [element.text or ""]
    for child in element:
        tag = child.tag
        if tag == f"{T}s":
            # text:c repeats a space; a forged count would allocate gigabytes.
            parts.append(" " * _count(child.get(f"{T}c"), default=1, most=_MAX_SPACES))
        elif tag == f"{T}tab":
            parts.append("\t")
        elif tag == f"{T}line-break":
            parts.append("\n")
        elif tag not in _SKIP:
            parts.append(_inline(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _count(value: str | None, *, default: int, most: int) -> int:
    """A small positive count from an attribute; nonsense gives the default."""
    try:
        number = int(value) if value else default
    except ValueError:
        return default
    return min(max(number, 1), most)


def _list_lines(lst: Any) -> list[str]:
    lines: list[str] = []
    for item in lst:
        for child in item:
            if child.tag in (f"{T}p", f"{T}h"):
                lines.append(_inline(child).strip())
            elif child.tag == f"{T}list":
                lines.extend(_list_lines(child))
    return lines


def _table_rows(table: Any) -> list[str]:
    rows: list[str] = []
    for row in table.iter(f"{TB}table-row"):
        cells = []
        for cell in row:
            if cell.tag != f"{TB}table-cell":
                continue
            text = " ".join(" ".join(_inline(p) for p in cell.iter(f"{T}p")).split())
            if text:
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows


def _meta(meta: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    if meta is None:
        return out
    for key, tag in (("title", f"{{{_DC}}}title"), ("author", f"{{{_META}}}initial-creator"),
                     ("subject", f"{{{_DC}}}subject"), ("creation-date", f"{{{_META}}}creation-date"),
                     ("date", f"{{{_DC}}}date")):
        element = meta.find(f".//{tag}")
        if element is not None and (element.text or "").strip():
            out[key] = element.text.strip()
    return out


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")[:26]))
    except ValueError:
        return None
