"""OCR with the real Tesseract (Debian tesseract-ocr, eng + deu) on scans the tests render."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from app.core.errors import CorruptDocumentError, EmptyDocumentError
from app.core.types import ParseInput, RawItem
from ingest.ocr import OcrError, TesseractOcr, text_from_tsv, tidy_ocr_text
from ingest.parsers.image import ImageParser
from ingest.parsers.pdf import PdfParser
from tests.ocr.scans import ENGLISH_LINES, GERMAN_LINES, render_page


class CountingOcr(TesseractOcr):
    """The real engine, counting the pages it is asked to read."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def read_page(self, image):  # type: ignore[no-untyped-def]
        self.calls += 1
        return super().read_page(image)


@pytest.fixture(scope="module")
def ocr() -> TesseractOcr:
    return TesseractOcr()


def _encode(image: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _inp(data: bytes, name: str, media_type: str) -> ParseInput:
    return ParseInput.of(RawItem(origin=f"/scans/{name}", name=name, data=data), data, media_type)


def test_tesseract_reads_a_german_scan(ocr: TesseractOcr) -> None:
    text = ocr.ocr_page(render_page(GERMAN_LINES, angle=1.5))
    assert "Die Kündigungsfrist beträgt drei Monate." in text
    assert "850,00 Euro" in text and "Max Müller" in text


def test_tesseract_reads_an_english_scan(ocr: TesseractOcr) -> None:
    text = ocr.ocr_page(render_page(ENGLISH_LINES, angle=-1.0, seed=3))
    assert "terminate with 30 days notice" in text and "19.99 GBP" in text


def test_sideways_scan_is_turned_upright(ocr: TesseractOcr) -> None:
    sideways = render_page(ENGLISH_LINES, angle=0).rotate(90, expand=True)
    assert "Service Agreement between Acme Storage Ltd" in ocr.ocr_page(sideways)


def test_tiny_images_are_not_sent_to_the_engine(ocr: TesseractOcr) -> None:
    assert ocr.ocr_page(Image.new("RGB", (30, 30), "white")) == ""


def test_missing_engine_is_a_clear_transient_error() -> None:
    with pytest.raises(OcrError, match="'no-such-tesseract' is not installed") as info:
        TesseractOcr(binary="no-such-tesseract").ocr_page(render_page(["x"]))
    assert info.value.transient is True
    with pytest.raises(OcrError, match="none of the OCR languages xxx is installed"):
        TesseractOcr(languages=("xxx",)).ocr_page(render_page(["x"]))


def test_tsv_rebuild_and_tidy() -> None:
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tl\tt\tw\th\tconf\ttext\n"
    rows = ["5\t1\t1\t1\t1\t1\t0\t0\t1\t1\t90\tHello", "5\t1\t1\t1\t1\t2\t0\t0\t1\t1\t80\tworld",
            "5\t1\t1\t1\t2\t1\t0\t0\t1\t1\t70\tnext", "5\t1\t2\t1\t1\t1\t0\t0\t1\t1\t60\tPara"]
    text, conf = text_from_tsv(header + "\n".join(rows))
    assert text == "Hello world\nnext\n\nPara" and conf == 75.0
    assert tidy_ocr_text("  a  \n|\n\n\n—\nb\f") == "a\n\nb"


def test_image_parser_png_jpeg_and_exif_rotated_photo() -> None:
    parser = ImageParser()
    page = render_page(GERMAN_LINES, angle=0.8)
    doc = parser.parse(_inp(_encode(page, "PNG"), "scan.png", "image/png"))
    assert doc.title == "Mietvertrag zwischen Frau Erika Mustermann"
    assert all(b.page == 1 for b in doc.blocks) and doc.page_count == 1
    quality = doc.metadata["ocr"].pop("quality")
    assert doc.metadata["ocr"] == {"engine": "tesseract", "languages": ["deu", "eng"],
                                   "pages": [1]}
    assert set(quality) == {"1"} and quality["1"] > 0.8  # a clean scan reads well
    # A phone photo stored sideways with EXIF orientation 6 ("rotate 90° clockwise to view").
    photo = render_page(ENGLISH_LINES, angle=0).convert("RGB").rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6
    jpeg = _encode(photo, "JPEG", quality=90, exif=exif.tobytes())
    text = "\n".join(b.text for b in parser.parse(_inp(jpeg, "photo.jpg", "image/jpeg")).blocks)
    assert "Either party may terminate with 30 days notice." in text


def test_image_parser_multipage_tiff_keeps_page_numbers() -> None:
    first = render_page(ENGLISH_LINES[:2], angle=0.5)
    second = render_page(GERMAN_LINES[2:], angle=-0.5, seed=5)
    tiff = _encode(first, "TIFF", save_all=True, append_images=[second], compression="tiff_lzw")
    doc = ImageParser().parse(_inp(tiff, "contract.tiff", "image/tiff"))
    assert doc.page_count == 2
    pages = {b.page: b.text for b in doc.blocks}
    assert "Acme Storage" in pages[1] and "Kündigungsfrist" in pages[2]


def test_image_parser_bad_inputs() -> None:
    with pytest.raises(CorruptDocumentError, match=r"/scans/broken\.png: not a readable image"):
        ImageParser().parse(_inp(b"\x89PNG\r\n\x1a\nnot really", "broken.png", "image/png"))
    blank = _encode(Image.new("L", (800, 600), 255), "PNG")
    with pytest.raises(EmptyDocumentError, match="OCR found no legible text"):
        ImageParser().parse(_inp(blank, "blank.png", "image/png"))


def test_pdf_scanned_page_is_ocred_and_text_page_is_not(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(text="Page one has a real text layer about the electricity tariff.")
    pdf.add_page()
    scan = tmp_path / "scan.png"
    render_page(GERMAN_LINES, size=(1654, 1100), font_px=40, angle=1.0).save(scan)
    pdf.image(str(scan), x=0, y=0, w=210)
    data = bytes(pdf.output())
    counting = CountingOcr()
    doc = PdfParser(ocr=counting).parse(_inp(data, "vertrag.pdf", "application/pdf"))
    assert counting.calls == 1  # only the image-only page went to OCR
    by_page = {}
    for block in doc.blocks:
        by_page.setdefault(block.page, []).append(block.text)
    assert "electricity tariff" in " ".join(by_page[1])
    assert "Die Kündigungsfrist beträgt drei Monate." in " ".join(by_page[2])
    assert doc.metadata["ocr"]["pages"] == [2]


def test_pipeline_indexes_a_photo_with_its_page(clean_db, tmp_path: Path) -> None:
    from sqlalchemy import select

    from app.core.models import Chunk, Document
    from ingest.embedders.lexical import LexicalHashEmbedder
    from ingest.pipeline import IngestOptions, Pipeline
    from ingest.sources.folder import FolderSource

    folder = tmp_path / "scans"
    folder.mkdir()
    render_page(GERMAN_LINES, angle=1.0).convert("RGB").save(folder / "mietvertrag.jpg",
                                                             quality=92)
    report = Pipeline(clean_db, embedder=LexicalHashEmbedder(), options=IngestOptions()).run(
        FolderSource("scans", folder))
    assert report.counts["indexed"] == 1, report.to_json()
    with clean_db.session() as s:
        doc = s.scalars(select(Document)).one()
        assert doc.media_type == "image/jpeg" and doc.parser == "image/2"
        chunks = s.execute(select(Chunk.page, Chunk.text)).all()
        assert chunks and all(page == 1 for page, _ in chunks)
        assert "Kündigungsfrist" in " ".join(text for _, text in chunks)
