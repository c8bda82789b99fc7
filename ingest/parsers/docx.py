"""DOCX parser: body paragraphs and tables in document order, heading paths from heading styles,
outline levels and list levels, core-properties title and dates. The package is read with lxml
(ingest/parsers/ooxml.py: the few parts used, not python-docx's whole object model).

Chosen over unstructured's partition_docx, which wraps python-docx: measured on the real sample
contracts it is 3-10x slower, drops nothing we keep, and reads Heading-styled clauses as titles
(bench/parse_docx.py).
"""

from __future__ import annotations

import re
import threading
import zipfile
from collections.abc import Iterator
from typing import Any

from app.core.errors import CorruptDocumentError, EmptyDocumentError
from app.core.types import ParsedDocument, ParseInput, TextBlock
from ingest.limits import Limits, WithLimits, clip, clip_metadata
from ingest.mediatypes import DOCX
from ingest.parsers.common import (
    as_utc,
    display_name,
    guess_kind,
    reject_ole_container,
)
from ingest.parsers.ooxml import open_docx, parse_xml
from ingest.parsers.safezip import check_zip
from ingest.titles import candidates, choose_title

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
W = f"{{{_W}}}"
_HEADING_NAME = re.compile(r"^(?:heading|überschrift|titre|kop|titolo|encabezado)\s*(\d)$",
                           re.IGNORECASE)
_RUN_IN = re.compile(r"^([^.:;!?]{2,80}?\.)\s+\S")


class DocxParser(WithLimits):
    """Word .docx files, tables included (many contracts keep all their text in tables)."""

    name = "docx"
    version = "2"  # 2: titles chosen by ingest/titles.py

    def __init__(self, *, limits: Limits | None = None) -> None:
        self._limits = limits

    def score(self, inp: ParseInput) -> int | None:
        return 10 if inp.media_type == DOCX else None

    def parse(self, inp: ParseInput) -> ParsedDocument:
        name = display_name(inp)
        reject_ole_container(inp.data, name=name, label="Word")
        limits = self.limits
        check_zip(inp.data, name=name, limits=limits, label=".docx")
        try:
            package = open_docx(inp.data)
            styles = _styles_of(package.styles_key, package.styles_xml)
        except (zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise CorruptDocumentError(f"{name}: not a readable .docx ({type(exc).__name__})") from exc
        except Exception as exc:  # lxml.etree.XMLSyntaxError and friends from damaged parts
            raise CorruptDocumentError(f"{name}: not a readable .docx ({type(exc).__name__})") from exc
        walker = _BodyWalker(styles)
        walker.walk(package.body)
        blocks = walker.blocks
        margins = _header_footer_text(package.margins)
        if margins:
            # Letterheads and footers name the sender (address, bank, register number).
            blocks.append(TextBlock(text=margins, heading=None, kind="footer"))
        if not blocks:
            raise EmptyDocumentError(f"{name}: the document holds no text")
        props = package.core
        text_start = "\n".join(b.text for b in blocks[:60])
        title = clip(choose_title(properties=[getattr(props, "title", None), walker.title],
                                  lines=candidates(blocks)), limits.max_title_chars) or None
        created = as_utc(getattr(props, "created", None))
        modified = as_utc(getattr(props, "modified", None))
        metadata: dict[str, Any] = {"paragraphs": walker.paragraphs, "tables": walker.tables}
        for key in ("author", "subject", "keywords", "last_modified_by"):
            value = getattr(props, key, None)
            if value:
                metadata[key] = value
        if created:
            metadata["created_at"] = created.isoformat()
        if modified:
            metadata["modified_at"] = modified.isoformat()
        return ParsedDocument(blocks=blocks, title=title, kind=guess_kind(text_start),
                              occurred_at=created or modified,
                              metadata=clip_metadata(metadata, limits))


def _header_footer_text(parts: list[Any]) -> str:
    """Distinct lines of all header and footer parts (their roots, in part-name order)."""
    lines: list[str] = []
    for element in parts:
        for child in element.iterchildren():
            if child.tag == f"{W}p":
                found = [paragraph_text(child)]
            elif child.tag == f"{W}tbl":
                found = list(_table_rows(child))
            else:
                continue
            for text in found:
                text = " ".join(text.split())
                if text and text not in lines and not text.isdigit():
                    lines.append(text)
    return "\n".join(lines)


# Style tables by their part's (CRC-32, size), which zipfile verified as it read the part.
# Speed: the styles part is most of a small DOCX's parse (python-docx's template: 341 KB, 3-4
# ms to parse; the bench corpus's DOCX 6.4 -> 1.8 ms each), and a household's documents come
# from a few templates. Per process (parse workers live for a run), bounded, thread-safe.
_STYLE_TABLES: dict[tuple[int, int], dict[str, tuple[str, int | None]]] = {}
_STYLE_TABLES_MAX = 64
_STYLE_LOCK = threading.Lock()


def _styles_of(key: tuple[int, int] | None,
               xml: bytes | None) -> dict[str, tuple[str, int | None]]:
    if key is None or xml is None:
        return {}
    with _STYLE_LOCK:
        table = _STYLE_TABLES.get(key)
    if table is None:
        table = _style_table(parse_xml(xml))
        with _STYLE_LOCK:
            if len(_STYLE_TABLES) >= _STYLE_TABLES_MAX:
                _STYLE_TABLES.pop(next(iter(_STYLE_TABLES)))
            _STYLE_TABLES[key] = table
    return table


def _style_table(styles: Any | None) -> dict[str, tuple[str, int | None]]:
    """style id -> (lower-case name, heading level or None), following `basedOn` for outlines
    (a package without a styles part: none)."""
    raw: dict[str, tuple[str, int | None, str | None]] = {}
    for style in styles.iterchildren(f"{W}style") if styles is not None else ():
        style_id = style.get(f"{W}styleId")
        if not style_id:
            continue
        name_el = style.find(f"{W}name")
        name = (name_el.get(f"{W}val") if name_el is not None else style_id) or style_id
        outline = style.find(f"{W}pPr/{W}outlineLvl")
        level = None
        if outline is not None and (val := outline.get(f"{W}val", "")).isdigit() and int(val) < 9:
            level = int(val) + 1
        match = _HEADING_NAME.match(name.strip())
        if match:
            level = int(match.group(1))
        based = style.find(f"{W}basedOn")
        raw[style_id] = (name.lower(), level, based.get(f"{W}val") if based is not None else None)
    table: dict[str, tuple[str, int | None]] = {}
    for style_id, (name, level, based) in raw.items():
        seen = {style_id}
        while level is None and based and based not in seen and based in raw:
            seen.add(based)
            level, based = raw[based][1], raw[based][2]
        table[style_id] = (name, level)
    return table


class _BodyWalker:
    """Turns body elements into blocks, keeping the heading path."""

    def __init__(self, styles: dict[str, tuple[str, int | None]]) -> None:
        self.styles = styles
        self.blocks: list[TextBlock] = []
        self.path: list[tuple[int, str]] = []
        self.title: str | None = None
        self.paragraphs = 0
        self.tables = 0

    def heading(self) -> str | None:
        return " > ".join(t for _, t in self.path) or None

    def open(self, level: int, title: str) -> None:
        while self.path and self.path[-1][0] >= level:
            self.path.pop()
        self.path.append((level, title))

    def walk(self, parent: Any) -> None:
        for child in parent.iterchildren():
            tag = child.tag
            if tag == f"{W}p":
                self.paragraph(child)
            elif tag == f"{W}tbl":
                rows = list(_table_rows(child))
                if rows:
                    self.tables += 1
                    self.blocks.append(TextBlock(text="\n".join(rows), heading=self.heading(),
                                                 kind="table"))
            elif tag == f"{W}sdt":
                content = child.find(f"{W}sdtContent")
                if content is not None:
                    self.walk(content)
            elif tag in (f"{W}customXml", f"{W}ins", f"{W}smartTag"):
                self.walk(child)

    def paragraph(self, p: Any) -> None:
        text = paragraph_text(p).strip()
        if not text:
            return
        self.paragraphs += 1
        style_el = p.find(f"{W}pPr/{W}pStyle")
        style_id = style_el.get(f"{W}val") if style_el is not None else None
        name, level = self.styles.get(style_id or "", ("", None))
        outline = p.find(f"{W}pPr/{W}outlineLvl")
        if outline is not None and (val := outline.get(f"{W}val", "")).isdigit():
            level = int(val) + 1 if int(val) < 9 else None
        if name == "title" or name == "titel":
            self.title = self.title or text
            level = 1 if level is None else level
        if level is not None:
            ilvl = p.find(f"{W}pPr/{W}numPr/{W}ilvl")
            if ilvl is not None and (val := ilvl.get(f"{W}val", "")).isdigit():
                level += int(val)  # numbered clauses: "1." -> "1.1" -> "(a)" under one style
            run_in = _RUN_IN.match(text)
            if run_in and len(run_in.group(1).split()) <= 8 and not text[:1].islower():
                # "Payment.  Company will pay ...": the run-in phrase names the clause.
                self.open(level, run_in.group(1).rstrip(".").strip())
            elif _is_heading_text(text):
                self.open(level, text.rstrip(".:").strip())
                self.blocks.append(TextBlock(text=text, heading=self.heading(), kind="heading"))
                return
        kind = "list" if "list" in name else "text"
        self.blocks.append(TextBlock(text=text, heading=self.heading(), kind=kind))


def _is_heading_text(text: str) -> bool:
    """Heading styles are misused for whole clauses; a real heading is short and no sentence."""
    if len(text) > 120 or "\n" in text:
        return False
    words = text.split()
    if text[:1].islower() or words[-1].lower() in ("and", "or", "und", "oder"):
        return False  # a list item continuing a sentence
    if text.endswith((".", ";", ",")):
        return len(words) <= 4 and text.count(".") == 1
    if text.endswith(":"):
        return len(words) <= 8
    return len(words) <= 15


def paragraph_text(p: Any) -> str:
    """Visible text of a w:p: runs, tabs, breaks, inserted text and text boxes; deleted text,
    field codes and the duplicate fallback copy of drawings are skipped."""
    parts: list[str] = []
    _collect(p, parts)
    return "".join(parts)


_SKIP = frozenset({f"{W}del", f"{W}instrText", f"{W}delText", f"{{{_MC}}}Fallback",
                   f"{W}rPr", f"{W}pPr", f"{W}footnoteReference", f"{W}commentReference"})


def _collect(element: Any, parts: list[str]) -> None:
    for child in element.iterchildren():
        tag = child.tag
        if tag in _SKIP or not isinstance(tag, str):
            continue
        if tag == f"{W}t":
            parts.append(child.text or "")
        elif tag == f"{W}tab":
            parts.append("\t")
        elif tag in (f"{W}br", f"{W}cr"):
            parts.append("\n")
        elif tag == f"{W}noBreakHyphen":
            parts.append("-")
        elif tag == f"{W}p":  # a paragraph inside a text box
            if parts and not parts[-1].endswith("\n"):
                parts.append("\n")
            _collect(child, parts)
        else:
            _collect(child, parts)


def _table_rows(tbl: Any) -> Iterator[str]:
    """One line per row, cells joined by ' | '; merged cells once; nested tables inline."""
    for tr in tbl.iterchildren(f"{W}tr"):
        cells: list[str] = []
        for tc in tr.iter(f"{W}tc"):
            if tc.getparent() is not tr:
                continue
            vmerge = tc.find(f"{W}tcPr/{W}vMerge")
            if vmerge is not None and vmerge.get(f"{W}val") in (None, "continue"):
                continue  # continuation of a vertically merged cell: its text is above
            text = _cell_text(tc)
            if text:
                cells.append(text)
        if cells:
            yield " | ".join(cells)
        for sdt in tr.iterchildren(f"{W}sdt"):  # rows wrapped in content controls
            content = sdt.find(f"{W}sdtContent")
            if content is not None:
                yield from _table_rows(content)


def _cell_text(tc: Any) -> str:
    parts: list[str] = []
    for child in tc.iterchildren():
        if child.tag == f"{W}p":
            text = paragraph_text(child).strip()
            if text:
                parts.append(text)
        elif child.tag == f"{W}tbl":
            parts.extend(_table_rows(child))
        elif child.tag == f"{W}sdt":
            content = child.find(f"{W}sdtContent")
            if content is not None:
                parts.append(_cell_text(content))
    return " ".join(" ".join(p.split()) for p in parts if p)
