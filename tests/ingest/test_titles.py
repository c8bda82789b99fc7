"""Titles: document properties, a first heading, a line that names the kind of document; never a
producer name or junk such as "Binder1", "Word Document", "Microsoft Word - x.docx" or an
instruction line ("Interpreting help text"). Generated files through the real parsers, and the
real contracts in /work/shared/realworld/contracts when present."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest

from app.core.types import ParseInput, RawItem, TextBlock
from ingest.mediatypes import detect_media_type
from ingest.parsers import make_parsers, pick_parser
from ingest.titles import Candidate, candidates, choose_title, is_junk, running_lines, tidy

REAL = Path("/work/shared/realworld/contracts")


def parse(data: bytes, name: str):
    inp = ParseInput.of(RawItem(origin=f"/docs/{name}", name=name, data=data), data,
                        detect_media_type(name, data[:65536]))
    return pick_parser(inp, make_parsers()).parse(inp)


def pdf_bytes(pages: list[list[str]], *, title: str | None = None) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    if title is not None:
        pdf.set_title(title)
    pdf.set_creator("Acrobat PDFMaker 11 für Word")
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


@pytest.mark.parametrize("title", ["Binder1", "untitled", "Word Document", "Document1", "Scan_0042",
                                   "10811.exe", "Microsoft Word - x.docx", "Acrobat PDFMaker 11",
                                   "PScript5.dll Version 5.2.2", "{title}", "[Title]", "123", "—"])
def test_junk_titles_are_recognised(title):
    assert is_junk(tidy(title))


@pytest.mark.parametrize("title", ["Mietvertrag Musterstraße", "Mutual Non-Disclosure Agreement",
                                   "Term Sheet", "Invoice 2026-041", "Kündigung"])
def test_real_titles_are_kept(title):
    assert not is_junk(title) and choose_title(properties=[title]) == title


def test_a_property_that_was_a_file_name_competes_with_the_text():
    lines = [Candidate("Max Muster, Gartenweg 3, 12345 Musterstadt"),
             Candidate("Kündigung des Mobilfunkvertrags"),
             Candidate("Sehr geehrte Damen und Herren, hiermit kündige ich fristgerecht.")]
    assert choose_title(properties=["Microsoft Word - brief2.docx"], lines=lines) == \
        "Kündigung des Mobilfunkvertrags"
    assert choose_title(properties=["Microsoft Word - Mietvertrag Gartenweg.docx"]) == \
        "Mietvertrag Gartenweg"


def test_a_line_naming_the_document_beats_an_instruction_that_comes_first():
    lines = candidates([TextBlock("Interpreting help text"),
                        TextBlock("How to set up an agreement"),
                        TextBlock("Review the agreement, including the linked Standard Terms."),
                        TextBlock("Lease Agreement"),
                        TextBlock("This Lease Agreement is made between the parties."),
                        TextBlock("Lease Agreement")])
    assert choose_title(properties=["Word Document", None], lines=lines) == "Lease Agreement"


def test_running_headers_are_not_titles():
    pages = [f"Official - Subject to Final Review\nIN THE MATTER {i}\ntext\n{i}" for i in (1, 2, 3)]
    assert "Official - Subject to Final Review" in running_lines(pages)
    lines = candidates([TextBlock(pages[0])])
    assert choose_title(lines=lines, skip=running_lines(pages)) == "IN THE MATTER 1"


def test_pdf_titled_binder1_takes_its_printed_title():
    data = pdf_bytes([["Max Muster, Gartenweg 3", "Mietvertrag für Wohnraum",
                       "Zwischen Frau Vermieterin und Herrn Muster wird folgender Vertrag geschlossen."],
                      ["Seite 2", "Die Miete beträgt 900 EUR."]], title="Binder1")
    assert parse(data, "scan.pdf").title == "Mietvertrag für Wohnraum"


def test_pdf_with_a_good_metadata_title_keeps_it():
    data = pdf_bytes([["Some first line"]], title="Stromliefervertrag Stadtwerke 2026")
    assert parse(data, "strom.pdf").title == "Stromliefervertrag Stadtwerke 2026"


def test_docx_word_document_title_and_help_text_first():
    d = docx.Document()
    d.core_properties.title = "Word Document"
    for text in ("Interpreting help text", "[Yellow text] marks a field to fill in.",
                 "Independent Contractor Agreement", "By signing, the parties agree to these terms.",
                 "Independent Contractor Agreement"):
        d.add_paragraph(text)
    buf = io.BytesIO()
    d.save(buf)
    assert parse(buf.getvalue(), "contractor.docx").title == "Independent Contractor Agreement"


def test_html_untitled_page_takes_its_heading():
    html = (b"<html><head><title>untitled</title></head><body><h1>Invoice 2026-041</h1>"
            b"<p>Thank you for your order.</p></body></html>")
    assert parse(html, "invoice.html").title == "Invoice 2026-041"


EXPECTED = {
    "bonterms_mutual-nda.docx": "Example Cover Page for Bonterms Mutual NDA",
    "commonpaper_independent-contractor-agreement.docx": "Independent Contractor Agreement",
    "commonpaper_mutual-nda.docx": "Mutual Non-Disclosure Agreement",
    "commonpaper_term-sheet.docx": "Term Sheet",
    "pdf_2023-06-20-PV_fr.pdf": ("Comité de démolition - Procès-verbal de la séance publique du "
                                 "20 juin 2023"),
    "pdf_scotus-transcript-p1.pdf": "IN THE SUPREME COURT OF THE UNITED STATES",
}


@pytest.mark.skipif(not REAL.is_dir(), reason="real contracts folder absent (CI clone)")
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_contracts_get_their_titles(name):
    path = REAL / name
    if not path.exists():
        pytest.skip(f"{name} absent")
    assert parse(path.read_bytes(), name).title == EXPECTED[name]
