"""detect_media_type: magic bytes first, then the extension, the declared type, then text."""

from __future__ import annotations

import io
import zipfile

import pytest

from ingest import mediatypes as mt
from ingest.mediatypes import detect_media_type


def _zip(members: dict[str, bytes], *, stored_first: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        if stored_first:
            zf.writestr(stored_first, members.pop(stored_first), compress_type=zipfile.ZIP_STORED)
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _ooxml(part: str, folder: str) -> bytes:
    content_types = (
        '<?xml version="1.0"?><Types><Override PartName="/x" '
        f'ContentType="application/vnd.openxmlformats-officedocument.{part}.main+xml"/></Types>'
    ).encode()
    return _zip({"[Content_Types].xml": content_types, f"{folder}/a.xml": b"<a/>"})


def test_pdf_by_magic_even_with_a_wrong_name():
    assert detect_media_type("scan.txt", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj") == mt.PDF
    assert detect_media_type("x", b"\r\n  junk %PDF-1.4\n") == mt.PDF


@pytest.mark.parametrize(
    ("part", "folder", "expected"),
    [("wordprocessingml.document", "word", mt.DOCX),
     ("spreadsheetml.sheet", "xl", mt.XLSX),
     ("presentationml.presentation", "ppt", mt.PPTX)],
)
def test_ooxml_told_apart_by_content_types(part, folder, expected):
    data = _ooxml(part, folder)
    assert detect_media_type("download", data[:4096]) == expected
    assert detect_media_type("misnamed.zip", data[:4096]) == expected


def test_ooxml_told_apart_by_folder_when_content_types_is_not_first():
    data = _zip({"word/document.xml": b"<w:document/>", "[Content_Types].xml": b"<Types/>"})
    assert detect_media_type("a.bin", data) == mt.DOCX


def test_real_docx_from_python_docx():
    import docx

    buf = io.BytesIO()
    docx.Document().save(buf)
    assert detect_media_type("letter", buf.getvalue()[:4096]) == mt.DOCX


def test_odf_and_epub_from_the_mimetype_member():
    odt = _zip({"mimetype": mt.ODT.encode(), "content.xml": b"<x/>"}, stored_first="mimetype")
    epub = _zip({"mimetype": mt.EPUB.encode(), "META-INF/container.xml": b"<x/>"},
                stored_first="mimetype")
    assert detect_media_type("a", odt) == mt.ODT
    assert detect_media_type("a", epub) == mt.EPUB


def test_plain_zip_stays_zip():
    assert detect_media_type("photos.zip", _zip({"a.jpg": b"x"})) == mt.ZIP


@pytest.mark.parametrize(
    ("head", "expected"),
    [(b"\x89PNG\r\n\x1a\n\x00\x00", mt.PNG), (b"\xff\xd8\xff\xe0\x00\x10JFIF", mt.JPEG),
     (b"II*\x00\x08\x00", mt.TIFF), (b"MM\x00*\x00", mt.TIFF), (b"GIF89a\x01\x00", mt.GIF),
     (b"RIFF\x24\x00\x00\x00WEBPVP8 ", mt.WEBP), (b"{\\rtf1\\ansi hello}", mt.RTF)],
)
def test_images_and_rtf_by_magic(head, expected):
    assert detect_media_type("file.txt", head) == expected


def test_ole_container_uses_the_extension():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100
    assert detect_media_type("mail.msg", ole) == mt.MSG
    assert detect_media_type("old.doc", ole) == mt.DOC
    assert detect_media_type("thing", ole) == mt.OLE


def test_rfc822_mail_without_extension():
    head = (b"Return-Path: <a@example.org>\nReceived: from x by y\nFrom: A <a@example.org>\n"
            b"To: b@example.org\nSubject: Hi\n\nBody\n")
    assert detect_media_type("1234", head) == mt.EML


def test_folded_headers_still_read_as_mail():
    head = b"Subject: a very\n long subject\nFrom: a@x.org\nTo: b@x.org\nDate: today\n\nhi"
    assert detect_media_type("msg", head) == mt.EML


def test_a_note_with_a_colon_line_is_not_mail():
    assert detect_media_type("todo.txt", b"Note: buy milk\nand bread\n") == mt.TEXT
    assert detect_media_type("todo.txt", b"From: mum\nTo: me\n\ncall back") == mt.TEXT


def test_mbox_from_line():
    head = b"From MAILER-DAEMON Fri Jul  8 12:08:34 2011\nFrom: a@x.org\nTo: b@x.org\nSubject: s\n\n"
    assert detect_media_type("archive", head) == mt.MBOX


@pytest.mark.parametrize(
    "head",
    [b"<!DOCTYPE html><html><body>x</body></html>", b"  \n<html lang=de>", b"<head><title>t",
     b'<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN"><html>',
     b"\xef\xbb\xbf<!doctype HTML>"],
)
def test_html(head):
    assert detect_media_type("page", head) == mt.HTML


def test_xml_ofx_and_camt_hints():
    camt = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:'
            b'tech:xsd:camt.053.001.02"><BkToCstmrStmt>')
    assert detect_media_type("statement.xml", camt) == mt.CAMT
    assert detect_media_type("x.xml", b'<?xml version="1.0"?><root/>') == mt.XML
    assert detect_media_type("bank.txt", b"OFXHEADER:100\nDATA:OFXSGML\n\n<OFX>") == mt.OFX
    assert detect_media_type("b", b'<?xml version="1.0"?><?OFX OFXHEADER="200"?><OFX>') == mt.OFX


def test_mt940_by_tags():
    head = b":20:STARTUMSE\n:25:10020030/1234567\n:28C:00001/001\n:60F:C120131EUR100,00\n"
    assert detect_media_type("export", head) == mt.MT940


def test_extension_then_declared_then_text():
    assert detect_media_type("notes.md", b"# Title\n\ntext") == mt.MARKDOWN
    assert detect_media_type("data.csv", b"a,b\n1,2\n") == mt.CSV
    assert detect_media_type("part1", b"a,b\n1,2\n", "text/csv; charset=utf-8") == mt.CSV
    assert detect_media_type("part1", b"hello world", "application/octet-stream") == mt.TEXT
    assert detect_media_type("noext", b"just words\n") == mt.TEXT


def test_text_in_legacy_and_utf16_encodings_is_text():
    assert detect_media_type("a", "Grüße aus Köln".encode("cp1252")) == mt.TEXT
    assert detect_media_type("a", "Grüße aus Köln, alles gut".encode("utf-16-le")) == mt.TEXT
    assert detect_media_type("a", "Grüße".encode("utf-16")) == mt.TEXT


def test_binary_junk_is_octet_stream():
    assert detect_media_type("blob", bytes(range(256)) * 4) == mt.BINARY
    # The extension still names it: the parser then says it cannot decode it.
    assert detect_media_type("fake.txt", bytes(range(256)) * 4) == mt.TEXT


def test_empty_file():
    assert detect_media_type("empty", b"") == mt.EMPTY
    assert detect_media_type("empty.pdf", b"") == mt.PDF


def test_truncated_head_mid_character_still_text():
    head = ("ä" * 2048).encode()[:4095]
    assert detect_media_type("x", head) == mt.TEXT
