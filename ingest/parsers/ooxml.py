"""The parts of a .docx package the DOCX parser reads, straight from the zip with lxml.

Speed: python-docx opened every part of the package into its object model (theme, fonts,
settings, numbering ...) before the parser read three of them: 5 of the 7.4 ms a DOCX took on
the bench corpus (bench/README.md, "Ingest against LlamaIndex"). Here only the main document,
its styles, its headers and footers and the core properties are parsed, with the parser
settings python-docx uses (no entity resolution, ignorable whitespace dropped), so the element
trees are the same.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_CORE_NS = {
    "title": "{http://purl.org/dc/elements/1.1/}title",
    "author": "{http://purl.org/dc/elements/1.1/}creator",
    "subject": "{http://purl.org/dc/elements/1.1/}subject",
    "keywords": "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}keywords",
    "last_modified_by":
        "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}lastModifiedBy",
    "created": "{http://purl.org/dc/terms/}created",
    "modified": "{http://purl.org/dc/terms/}modified",
}


class NotADocx(ValueError):
    """The package has no main document part."""


@dataclass
class CoreProperties:
    title: str | None = None
    author: str | None = None
    subject: str | None = None
    keywords: str | None = None
    last_modified_by: str | None = None
    created: datetime | None = None
    modified: datetime | None = None


@dataclass
class DocxParts:
    body: Any                     # w:body
    styles_xml: bytes | None      # the styles part, unparsed (see styles_key); None: none
    styles_key: tuple[int, int] | None = None  # its (CRC-32, size) from the zip's directory
    margins: list[Any] = field(default_factory=list)  # w:hdr / w:ftr roots, by part name
    core: CoreProperties | None = None


def parse_xml(data: bytes) -> Any:
    etree, parser = etree_parser()
    return etree.fromstring(data, parser)


@lru_cache(maxsize=1)
def etree_parser() -> tuple[Any, Any]:
    """lxml's etree and the parser, imported on first use (the parser registry is imported by
    every entry point and must stay light)."""
    from lxml import etree

    return etree, etree.XMLParser(remove_blank_text=True, resolve_entities=False,
                                  no_network=True)


def open_docx(data: bytes) -> DocxParts:
    """The parsed parts (raises zipfile.BadZipFile, KeyError, NotADocx or lxml's XMLSyntaxError
    on a damaged package; the caller turns them into one-line errors)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        package = _relationships(zf, "_rels/.rels", "")
        main = _target(package, "/officeDocument")
        if main is None or main not in names:
            raise NotADocx("no main document part")
        document = _xml(zf, main)
        body = next((c for c in document.iterchildren() if _local(c.tag) == "body"), None)
        if body is None:
            raise NotADocx("the main document has no body")
        folder = posixpath.dirname(main)
        rels_name = posixpath.join(folder, "_rels", posixpath.basename(main) + ".rels")
        related = _relationships(zf, rels_name, folder) if rels_name in names else []
        styles_name = _target(related, "/styles")
        styles_xml, styles_key = None, None
        if styles_name in names:
            info = zf.getinfo(styles_name)
            styles_xml, styles_key = zf.read(info), (info.CRC, info.file_size)
        margins = [_xml(zf, n) for n in sorted({t for kind, t in related
                                                if kind.endswith(("/header", "/footer"))})
                   if n in names]
        core_name = _target(package, "/core-properties")
        core = _core(_xml(zf, core_name)) if core_name in names else None
    return DocxParts(body=body, styles_xml=styles_xml, styles_key=styles_key, margins=margins,
                     core=core)


def _xml(zf: zipfile.ZipFile, name: str | None) -> Any:
    assert name is not None
    return parse_xml(zf.read(name))


def _relationships(zf: zipfile.ZipFile, name: str, base: str) -> list[tuple[str, str]]:
    """(type, part name) of a relationships part's internal targets."""
    root = _xml(zf, name)
    out = []
    for rel in root.iter(_REL):
        if rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target") or ""
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join(base, target))
        out.append((rel.get("Type") or "", path))
    return out


def _target(rels: list[tuple[str, str]], type_suffix: str) -> str | None:
    # Transitional and strict OOXML name the same relationship in different namespaces.
    return next((path for kind, path in rels if kind.endswith(type_suffix)), None)


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _core(root: Any) -> CoreProperties:
    props = CoreProperties()
    for key, tag in _CORE_NS.items():
        el = root.find(tag)
        text = (el.text or "").strip() if el is not None else ""
        if not text:
            continue
        if key in ("created", "modified"):
            setattr(props, key, _w3cdtf(text))
        else:
            setattr(props, key, text)
    return props


def _w3cdtf(text: str) -> datetime | None:
    """A W3CDTF date (2019-03-01T10:00:00Z, 2019-03-01, ...); None when unreadable."""
    try:
        return datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
