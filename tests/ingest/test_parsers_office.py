"""OfficeParser (unstructured, offline): PowerPoint and Excel files made in the test."""

from __future__ import annotations

import io

import openpyxl
import pytest
from pptx import Presentation
from pptx.util import Inches

from app.core.errors import CorruptDocumentError, EmptyDocumentError, EncryptedDocumentError
from app.core.types import ParseInput, RawItem
from ingest.mediatypes import ODT, PPTX, RTF, XLSX, detect_media_type
from ingest.parsers import pick_parser
from ingest.parsers.office import OfficeParser
from ingest.unstructured_offline import is_patched


def _inp(data: bytes, name: str) -> ParseInput:
    return ParseInput.of(RawItem(origin=f"/docs/{name}", name=name, data=data), data,
                         detect_media_type(name, data[:4096]))


def _pptx() -> bytes:
    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[1])
    slide.shapes.title.text = "Haushaltsplan 2024"
    slide.placeholders[1].text = "Miete 900 EUR\nStrom 80 EUR"
    second = prs.slides.add_slide(prs.slide_layouts[5])
    second.shapes.title.text = "Versicherungen"
    table = second.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(4), Inches(1)).table
    for (r, c), text in {(0, 0): "Haftpflicht", (0, 1): "5 EUR", (1, 0): "Hausrat",
                         (1, 1): "7 EUR"}.items():
        table.cell(r, c).text = text
    second.notes_slide.notes_text_frame.text = "Hausrat bis Juni kündigen."
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def _xlsx() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Konten"
    ws.append(["Datum", "Betrag", "Text"])
    ws.append(["2024-01-02", 12.5, "Bäcker"])
    ws.append(["2024-01-03", -900, "Miete"])
    notes = wb.create_sheet("Notizen")
    notes["A1"] = "Zählerstand notieren"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_pptx_slides_become_pages_with_titles_tables_and_notes():
    inp = _inp(_pptx(), "plan.pptx")
    assert inp.media_type == PPTX
    parser = pick_parser(inp)
    assert isinstance(parser, OfficeParser)
    doc = parser.parse(inp)
    assert is_patched()  # the parser switched unstructured to offline mode itself
    got = [(b.page, b.kind, b.heading, b.text) for b in doc.blocks]
    assert (str(got[0][0]), got[0][1]) == ("1", "heading")
    assert doc.title == "Haushaltsplan 2024"
    assert (2, "table", "Versicherungen", "Haftpflicht | 5 EUR\nHausrat | 7 EUR") in got
    assert (2, "text", "Versicherungen", "Hausrat bis Juni kündigen.") in got
    assert {b.text for b in doc.blocks if b.page == 1} == {
        "Haushaltsplan 2024", "Miete 900 EUR", "Strom 80 EUR"}
    assert all(b.heading == "Haushaltsplan 2024" for b in doc.blocks if b.page == 1)
    assert doc.page_count == 2


def test_xlsx_sheets_become_tables_headed_by_sheet_name():
    inp = _inp(_xlsx(), "konten.xlsx")
    assert inp.media_type == XLSX
    doc = pick_parser(inp).parse(inp)
    tables = [b for b in doc.blocks if b.kind == "table"]
    assert tables[0].heading == "Konten"
    assert tables[0].text == "Datum | Betrag | Text\n2024-01-02 | 12.5 | Bäcker\n2024-01-03 | -900 | Miete"
    assert any(b.heading == "Notizen" and "Zählerstand" in b.text for b in doc.blocks)
    assert doc.metadata["sheets"] == ["Konten", "Notizen"]


def test_formats_without_a_local_converter_are_declined():
    parser = OfficeParser()
    for media_type in (ODT, RTF, "application/msword"):
        inp = ParseInput.of(RawItem(origin="/docs/x", name="x"), b"data", media_type)
        assert parser.score(inp) is None


def test_truncated_pptx_is_corrupt():
    data = _pptx()
    with pytest.raises(CorruptDocumentError, match=r"^/docs/cut\.pptx: (cannot read this|not a readable) PowerPoint"):
        OfficeParser().parse(ParseInput.of(RawItem(origin="/docs/cut.pptx", name="cut.pptx"),
                                           data[: len(data) // 2], PPTX))


def test_encrypted_xlsx():
    data = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64
            + "EncryptedPackage".encode("utf-16-le"))
    inp = _inp(data, "geheim.xlsx")
    assert inp.media_type == XLSX
    with pytest.raises(EncryptedDocumentError, match=r"^/docs/geheim\.xlsx: the Excel file is prot"):
        pick_parser(inp).parse(inp)


def test_empty_workbook_is_empty():
    buf = io.BytesIO()
    openpyxl.Workbook().save(buf)
    with pytest.raises(EmptyDocumentError, match=r"^/docs/leer\.xlsx: the Excel file holds no text"):
        OfficeParser().parse(_inp(buf.getvalue(), "leer.xlsx"))
