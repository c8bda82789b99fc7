"""PdfParser on PDFs made by fpdf2: pages, metadata, bad input, and the OCR seam."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fpdf import FPDF

from app.core.errors import CorruptDocumentError, EmptyDocumentError, EncryptedDocumentError
from app.core.types import ParseInput, RawItem
from ingest.parsers import pick_parser
from ingest.parsers.pdf import PageOcr, PdfParser, page_blocks


def make_pdf(pages: list[str | None], *, title: str | None = None, password: str | None = None,
             owner_only: bool = False) -> bytes:
    """One page per entry; None makes a page with a drawing but no text layer."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.set_creation_date(datetime(2024, 3, 5, 9, 30, tzinfo=UTC))
    if title:
        pdf.set_title(title)
        pdf.set_author("Anna Beispiel")
    for text in pages:
        pdf.add_page()
        if text is None:
            pdf.rect(20, 20, 100, 60, style="F")
        else:
            pdf.multi_cell(0, 6, text)
    if password is not None:
        pdf.set_encryption(owner_password="owner", user_password="" if owner_only else password)
    return bytes(pdf.output())


def _inp(data: bytes, name: str = "doc.pdf") -> ParseInput:
    return ParseInput.of(RawItem(origin=f"/docs/{name}", name=name, data=data), data,
                         "application/pdf")


class FakeOcr:
    """Returns canned text and records which pages (by image size) it was asked to read."""

    name = "fake-ocr"

    def __init__(self, text: str = "Scanned invoice total 42 EUR", languages=("deu", "eng")):
        self.text = text
        self.languages = languages
        self.calls: list[tuple[int, int]] = []

    def ocr_page(self, image) -> str:
        self.calls.append(image.size)
        return self.text


def test_pages_are_one_based_and_metadata_is_read():
    data = make_pdf(["First page about the lease.", "Second page: the deposit.",
                     "Third page: termination."], title="Lease 2024")
    doc = PdfParser().parse(_inp(data))
    assert doc.page_count == 3
    assert [(b.page, b.text) for b in doc.blocks] == [
        (1, "First page about the lease."), (2, "Second page: the deposit."),
        (3, "Third page: termination.")]
    assert doc.title == "Lease 2024"
    assert doc.metadata["author"] == "Anna Beispiel"
    assert doc.occurred_at == datetime(2024, 3, 5, 9, 30, tzinfo=UTC)
    assert doc.metadata["page_count"] == 3


def test_title_falls_back_to_first_line():
    doc = PdfParser().parse(_inp(make_pdf(["Kündigung Mietvertrag\nSehr geehrte Frau Meyer,"])))
    assert doc.title == "Kündigung Mietvertrag"


def test_registry_picks_pdf_parser():
    assert isinstance(pick_parser(_inp(make_pdf(["x"]))), PdfParser)


def test_encrypted_pdf():
    data = make_pdf(["secret text"], password="pw")
    with pytest.raises(EncryptedDocumentError, match=r"^/docs/doc\.pdf: the PDF is protected"):
        PdfParser().parse(_inp(data))


def test_owner_password_only_pdf_still_reads():
    doc = PdfParser().parse(_inp(make_pdf(["readable text"], password="", owner_only=True)))
    assert doc.blocks[0].text == "readable text"


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_pdf_is_corrupt(cut):
    data = make_pdf(["some text " * 50] * 3)
    with pytest.raises(CorruptDocumentError, match=r"^/docs/cut\.pdf: not a readable PDF"):
        PdfParser().parse(_inp(data[: int(len(data) * cut)], "cut.pdf"))


def test_garbage_after_pdf_magic_is_corrupt():
    with pytest.raises(CorruptDocumentError, match="not a readable PDF"):
        PdfParser().parse(_inp(b"%PDF-1.7\nthis is not a pdf at all"))


def test_pdf_without_text_layer_looks_scanned():
    with pytest.raises(EmptyDocumentError, match=r"^/docs/scan\.pdf: no text layer on any of its "
                                                 r"2 pages \(it looks scanned"):
        PdfParser().parse(_inp(make_pdf([None, None]), "scan.pdf"))


def test_ocr_reads_only_pages_without_text():
    ocr = FakeOcr()
    assert isinstance(ocr, PageOcr)
    data = make_pdf(["Typed cover letter.", None, "Typed last page."])
    doc = PdfParser(ocr=ocr, ocr_dpi=72).parse(_inp(data))
    assert len(ocr.calls) == 1  # the two typed pages were never rendered for OCR
    width, height = ocr.calls[0]  # A4 at 72 dpi: the page was rendered to an image
    assert abs(width - 595) <= 1 and abs(height - 842) <= 1
    assert [(b.page, b.text) for b in doc.blocks] == [
        (1, "Typed cover letter."), (2, "Scanned invoice total 42 EUR"), (3, "Typed last page.")]
    ocr_meta = dict(doc.metadata["ocr"])
    quality = ocr_meta.pop("quality")
    assert ocr_meta == {"engine": "fake-ocr", "languages": ["deu", "eng"], "pages": [2]}
    assert list(quality) == ["2"]  # page number (a JSON key) -> reading quality, OCRed pages only
    assert isinstance(quality["2"], float) and 0.0 <= quality["2"] <= 1.0
    # the OCRed page's blocks carry the same quality; typed pages carry none
    assert [b.meta.get("ocr_quality") for b in doc.blocks] == [None, quality["2"], None]


class BrokenOcr(FakeOcr):
    def ocr_page(self, image) -> str:
        raise CorruptDocumentError("OCR engine crashed")  # an engine does not know the file


def test_ocr_failure_keeps_typed_pages_and_surfaces_when_nothing_else():
    doc = PdfParser(ocr=BrokenOcr(), ocr_dpi=36).parse(_inp(make_pdf(["Typed page.", None])))
    assert [b.text for b in doc.blocks] == ["Typed page."]
    assert doc.metadata["ocr_error"] == "/docs/doc.pdf: OCR engine crashed"
    with pytest.raises(CorruptDocumentError, match=r"^/docs/scan\.pdf: OCR engine crashed$"):
        PdfParser(ocr=BrokenOcr(), ocr_dpi=36).parse(_inp(make_pdf([None]), "scan.pdf"))


def test_ocr_render_is_bounded_by_the_pixel_limit():
    from ingest.limits import Limits

    ocr = FakeOcr()
    limits = Limits(max_image_pixels=100_000)
    PdfParser(ocr=ocr, ocr_dpi=300, limits=limits).parse(_inp(make_pdf(["Typed.", None])))
    width, height = ocr.calls[0]  # A4 at 300 dpi would be 2480 x 3508 pixels
    assert width * height <= 100_000 * 1.01 and width * height > 90_000


def test_ocr_that_finds_nothing_still_reports_empty():
    with pytest.raises(EmptyDocumentError, match="OCR found no text either"):
        PdfParser(ocr=FakeOcr(text="  "), ocr_dpi=36).parse(_inp(make_pdf([None])))


def test_mixed_pdf_without_ocr_keeps_text_pages_and_notes_the_rest():
    doc = PdfParser().parse(_inp(make_pdf(["Page one text.", None])))
    assert [b.page for b in doc.blocks] == [1]
    assert doc.metadata["pages_without_text"] == [2]


def test_page_blocks_join_wrapped_lines_and_find_numbered_headings():
    long = "The tenant shall pay the monthly rent in advance no later than the third work-"
    text = (f"LEASE AGREEMENT\n1. Rent\n{long}\ning day of each month to the landlord's account.\n"
            "2. Deposit\nA deposit of three months is due.\n§ 7 Kündigung\nDie Frist beträgt drei "
            "Monate.\n")
    blocks = page_blocks(text, page=4)
    assert [(b.kind, b.heading, b.text) for b in blocks] == [
        ("text", None, "LEASE AGREEMENT"),
        ("heading", "1. Rent", "1. Rent"),
        ("text", "1. Rent", long[:-1] + "ing day of each month to the landlord's account."),
        ("heading", "2. Deposit", "2. Deposit"),
        ("text", "2. Deposit", "A deposit of three months is due."),
        ("heading", "§ 7 Kündigung", "§ 7 Kündigung"),
        ("text", "§ 7 Kündigung", "Die Frist beträgt drei Monate."),
    ]
    assert all(b.page == 4 for b in blocks)


def test_page_blocks_nested_numbering_builds_a_path():
    blocks = page_blocks("1. Term\n1.1 Start\nBegins in May.\n1.2 End\nEnds in June.\n2. Rent\n"
                         "Due monthly.", page=1)
    assert [b.heading for b in blocks if b.kind == "text"] == [
        "1. Term > 1.1 Start", "1. Term > 1.2 End", "2. Rent"]


def test_contract_kind_heuristic():
    text = ("MUTUAL NON-DISCLOSURE AGREEMENT\nThis Agreement is entered into by and between "
            "Alpha GmbH and Beta Ltd (the parties). The parties agree as follows.\n"
            "1. Term\nThis agreement has a term of two years.\n2. Governing law\nGerman law.")
    assert PdfParser().parse(_inp(make_pdf([text]))).kind == "contract"
    assert PdfParser().parse(_inp(make_pdf(["Shopping list: milk, bread."]))).kind == "other"
