"""OdtParser on OpenDocument files assembled in the test."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import pytest

from app.core.errors import CorruptDocumentError, EmptyDocumentError, EncryptedDocumentError
from app.core.types import ParseInput, RawItem
from ingest.mediatypes import ODT, detect_media_type
from ingest.parsers import pick_parser
from ingest.parsers.odf import OdtParser

NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
      'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
      'xmlns:dc="http://purl.org/dc/elements/1.1/"')

BODY = """
<text:h text:outline-level="1">Mietvertrag</text:h>
<text:p>Zwischen <text:span>Anna</text:span>und<text:s text:c="2"/>Ben<text:note><text:note-body>
<text:p>Fußnote</text:p></text:note-body></text:note> wird vereinbart:</text:p>
<text:h text:outline-level="2">§ 1 Miete</text:h>
<text:list><text:list-item><text:p>900 EUR kalt</text:p></text:list-item>
<text:list-item><text:p>150 EUR Nebenkosten</text:p></text:list-item></text:list>
<table:table><table:table-row><table:table-cell><text:p>Konto</text:p></table:table-cell>
<table:table-cell><text:p>DE00 1234</text:p></table:table-cell></table:table-row></table:table>
<text:h text:outline-level="1">Unterschriften</text:h><text:p>Berlin, den 1. März</text:p>
"""


def make_odt(body: str = BODY, *, encrypted: bool = False, meta: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", ODT, compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", f'<?xml version="1.0" encoding="UTF-8"?><office:document-content '
                    f"{NS}><office:body><office:text>{body}</office:text></office:body>"
                    "</office:document-content>")
        if meta:
            zf.writestr("meta.xml", f'<?xml version="1.0"?><office:document-meta {NS}><office:meta>'
                        "<dc:title>Mietvertrag Berlin</dc:title>"
                        "<meta:initial-creator>Anna</meta:initial-creator>"
                        "<meta:creation-date>2024-03-01T10:00:00</meta:creation-date>"
                        "</office:meta></office:document-meta>")
        manifest = '<manifest:encryption-data manifest:checksum-type="SHA1"/>' if encrypted else ""
        zf.writestr("META-INF/manifest.xml",
                    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
                    f'manifest:1.0"><manifest:file-entry manifest:full-path="content.xml">{manifest}'
                    "</manifest:file-entry></manifest:manifest>")
    return buf.getvalue()


def _inp(data: bytes, name: str = "vertrag.odt") -> ParseInput:
    return ParseInput.of(RawItem(origin=f"/docs/{name}", name=name, data=data), data,
                         detect_media_type(name, data[:4096]))


def test_headings_paragraphs_lists_tables_and_meta():
    inp = _inp(make_odt(), "download")  # detected from the mimetype member, not the name
    assert inp.media_type == ODT
    doc = pick_parser(inp).parse(inp)
    got = [(b.kind, b.heading, b.text) for b in doc.blocks]
    assert got == [
        ("heading", "Mietvertrag", "Mietvertrag"),
        ("text", "Mietvertrag", "Zwischen Annaund  Ben wird vereinbart:"),
        ("heading", "Mietvertrag > § 1 Miete", "§ 1 Miete"),
        ("list", "Mietvertrag > § 1 Miete", "900 EUR kalt\n150 EUR Nebenkosten"),
        ("table", "Mietvertrag > § 1 Miete", "Konto | DE00 1234"),
        ("heading", "Unterschriften", "Unterschriften"),
        ("text", "Unterschriften", "Berlin, den 1. März"),
    ]
    assert doc.title == "Mietvertrag Berlin"
    assert doc.metadata["author"] == "Anna"
    assert doc.occurred_at == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


def test_without_meta_title_from_first_heading():
    doc = OdtParser().parse(_inp(make_odt(meta=False)))
    assert doc.title == "Mietvertrag" and doc.occurred_at is None


def test_encrypted_odt():
    with pytest.raises(EncryptedDocumentError, match=r"^/docs/vertrag\.odt: the document is prot"):
        OdtParser().parse(_inp(make_odt(encrypted=True)))


def test_truncated_odt_is_corrupt():
    data = make_odt()
    with pytest.raises(CorruptDocumentError, match=r"^/docs/vertrag\.odt: not a readable \.odt"):
        OdtParser().parse(ParseInput.of(RawItem(origin="/docs/vertrag.odt", name="vertrag.odt"),
                                        data[: len(data) // 2], ODT))


def test_empty_odt():
    with pytest.raises(EmptyDocumentError, match=r"^/docs/vertrag\.odt: the document holds no text"):
        OdtParser().parse(_inp(make_odt("<text:p>  </text:p>")))
