"""DocxParser on documents made with python-docx: headings, tables, properties, bad input."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import docx
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from app.core.errors import CorruptDocumentError, EmptyDocumentError, EncryptedDocumentError
from app.core.types import ParseInput, RawItem
from ingest.mediatypes import DOCX, detect_media_type
from ingest.parsers import pick_parser
from ingest.parsers.docx import DocxParser


def _save(document) -> bytes:
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _inp(data: bytes, name: str = "vertrag.docx") -> ParseInput:
    return ParseInput.of(RawItem(origin=f"/docs/{name}", name=name, data=data), data,
                         detect_media_type(name, data[:4096]))


def _numbered(paragraph, ilvl: int) -> None:
    paragraph._p.get_or_add_pPr().append(parse_xml(
        f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{ilvl}"/><w:numId w:val="1"/></w:numPr>'))


def test_headings_paragraphs_and_core_properties():
    d = docx.Document()
    d.core_properties.title = "Mietvertrag Musterstraße"
    d.core_properties.author = "Vermieter GmbH"
    d.core_properties.created = datetime(2023, 4, 1, 10, 0)
    d.add_heading("Mietvertrag", level=0)
    d.add_heading("1 Mietsache", level=1)
    d.add_paragraph("Vermietet wird die Wohnung im 2. OG.")
    d.add_heading("1.1 Nebenräume", level=2)
    d.add_paragraph("Ein Kellerraum gehört dazu.")
    d.add_heading("2 Miete", level=1)
    d.add_paragraph("Die Miete beträgt 900 EUR.")
    doc = DocxParser().parse(_inp(_save(d)))
    assert doc.title == "Mietvertrag Musterstraße"
    assert doc.metadata["author"] == "Vermieter GmbH"
    assert doc.occurred_at == datetime(2023, 4, 1, 10, 0, tzinfo=UTC)
    got = [(b.kind, b.heading, b.text) for b in doc.blocks]
    assert got == [
        ("heading", "Mietvertrag", "Mietvertrag"),
        ("heading", "1 Mietsache", "1 Mietsache"),
        ("text", "1 Mietsache", "Vermietet wird die Wohnung im 2. OG."),
        ("heading", "1 Mietsache > 1.1 Nebenräume", "1.1 Nebenräume"),
        ("text", "1 Mietsache > 1.1 Nebenräume", "Ein Kellerraum gehört dazu."),
        ("heading", "2 Miete", "2 Miete"),
        ("text", "2 Miete", "Die Miete beträgt 900 EUR."),
    ]


def test_document_made_only_of_tables_keeps_all_text():
    d = docx.Document()
    body = d.element.body
    for p in list(body.iterchildren("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}p")):
        body.remove(p)
    table = d.add_table(rows=3, cols=2)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "Cover Page for Mutual NDA"
    table.cell(1, 0).text = "Effective Date"
    table.cell(1, 1).text = "{effective_date}"
    table.cell(2, 0).text = "Governing Law"
    inner = table.cell(2, 1).add_table(rows=1, cols=2)
    inner.cell(0, 0).text = "State"
    inner.cell(0, 1).text = "Delaware"
    doc = DocxParser().parse(_inp(_save(d)))
    assert doc.metadata["paragraphs"] == 0 and doc.metadata["tables"] == 1
    [block] = [b for b in doc.blocks if b.kind == "table"]
    assert block.text == ("Cover Page for Mutual NDA\nEffective Date | {effective_date}\n"
                          "Governing Law | State | Delaware")
    assert doc.title == "Cover Page for Mutual NDA"


def test_heading_styled_clauses_become_text_with_a_run_in_heading():
    d = docx.Document()
    d.add_heading("Term & Termination", level=1)
    clause = d.add_heading("Term.  This Agreement starts on the Effective Date and runs for a "
                           "year, unless terminated earlier.", level=1)
    _numbered(clause, 1)
    sub = d.add_heading("Termination.", level=1)
    _numbered(sub, 1)
    item = d.add_heading("either party may terminate on notice; and", level=1)
    _numbered(item, 2)
    doc = DocxParser().parse(_inp(_save(d)))
    got = [(b.kind, b.heading) for b in doc.blocks]
    assert got == [
        ("heading", "Term & Termination"),
        ("text", "Term & Termination > Term"),
        ("heading", "Term & Termination > Termination"),
        ("text", "Term & Termination > Termination"),
    ]


def test_tracked_insertions_count_and_deletions_do_not():
    d = docx.Document()
    p = d.add_paragraph("Rent is ")
    w = nsdecls("w")
    p._p.append(parse_xml(f'<w:ins {w} w:id="1" w:author="a"><w:r><w:t>1000</w:t></w:r></w:ins>'))
    p._p.append(parse_xml(
        f'<w:del {w} w:id="2" w:author="a"><w:r><w:delText>900</w:delText></w:r></w:del>'))
    p.add_run(" EUR.")
    doc = DocxParser().parse(_inp(_save(d)))
    assert doc.blocks[0].text == "Rent is 1000 EUR."


def test_footer_text_is_kept_as_the_last_block():
    d = docx.Document()
    d.add_paragraph("Sehr geehrte Frau Meyer, anbei die Abrechnung.")
    d.sections[0].footer.paragraphs[0].text = "Stadtwerke Musterstadt GmbH · IBAN DE00 1234"
    doc = DocxParser().parse(_inp(_save(d)))
    assert doc.blocks[-1].kind == "footer"
    assert doc.blocks[-1].text == "Stadtwerke Musterstadt GmbH · IBAN DE00 1234"


def test_missing_core_properties_do_not_invent_a_date():
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(_save(_doc_with("Hello there."))))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                continue
            if info.filename == "_rels/.rels":
                data = re.sub(rb"<Relationship [^>]*core-properties[^>]*/>", b"", data)
            out.writestr(info, data)
    doc = DocxParser().parse(_inp(buf.getvalue()))
    assert doc.occurred_at is None and doc.title == "Hello there."
    assert "last_modified_by" not in doc.metadata


def _doc_with(text: str):
    d = docx.Document()
    d.add_paragraph(text)
    return d


def test_registry_picks_docx_parser():
    assert isinstance(pick_parser(_inp(_save(_doc_with("x")))), DocxParser)
    assert _inp(_save(_doc_with("x"))).media_type == DOCX


def test_empty_docx():
    with pytest.raises(EmptyDocumentError, match=r"^/docs/vertrag\.docx: the document holds no"):
        DocxParser().parse(_inp(_save(docx.Document())))


def test_truncated_docx_is_corrupt():
    data = _save(_doc_with("some text " * 100))
    with pytest.raises(CorruptDocumentError, match=r"^/docs/vertrag\.docx: not a readable \.docx"):
        DocxParser().parse(_inp(data[: len(data) // 2]))


def test_random_bytes_named_docx_are_corrupt():
    data = b"this is not a zip file at all" * 10
    with pytest.raises(CorruptDocumentError, match=r"not a readable \.docx"):
        DocxParser().parse(ParseInput.of(RawItem(origin="/docs/x.docx", name="x.docx"), data, DOCX))


def test_password_protected_docx_is_encrypted():
    # Word stores an encrypted .docx as an OLE2 container holding an "EncryptedPackage" stream.
    data = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200 +
            "EncryptedPackage".encode("utf-16-le") + b"\x00" * 200)
    inp = _inp(data, "secret.docx")
    assert inp.media_type == DOCX
    with pytest.raises(EncryptedDocumentError, match=r"^/docs/secret\.docx: the Word file is prot"):
        pick_parser(inp).parse(inp)


def test_style_tables_are_kept_per_template_not_per_style_id():
    """Two documents whose styles share ids but not definitions: each gets its own headings
    (the parser keeps style tables by the styles part's CRC and size, ingest/parsers/docx.py)."""
    def made(heading_style: bool) -> bytes:
        d = docx.Document()
        if not heading_style:  # "Heading 1" renamed and without its outline level
            style = d.styles["Heading 1"]
            style.name = "Quote Box"
            ppr = style.element.pPr
            for outline in ppr.findall(f"{{{ppr.nsmap['w']}}}outlineLvl"):
                ppr.remove(outline)
        d.add_paragraph("Kündigung", style="Quote Box" if not heading_style else "Heading 1")
        d.add_paragraph("Die Kündigungsfrist beträgt drei Monate zum Monatsende.")
        return _save(d)

    for _ in range(2):  # the second time from the kept tables
        with_heading = DocxParser().parse(_inp(made(True)))
        without = DocxParser().parse(_inp(made(False)))
        assert with_heading.blocks[-1].heading == "Kündigung"
        assert without.blocks[-1].heading is None


def test_a_package_without_a_main_document_is_corrupt():
    buf = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("_rels/.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/'
                                   'package/2006/relationships"/>')
    with pytest.raises(CorruptDocumentError, match=r"not a readable \.docx"):
        DocxParser().parse(_inp(buf.getvalue()))
