"""Hostile files through the real pipeline on the real database: compression bombs in office
documents, a workbook naming a far cell, an ODF space bomb, deep HTML, endless headings, an
impossible MT940 date, a 10-gigapixel PNG and a missing OCR engine.

Each bad file is one failure with a code and a one-line message naming it (or is indexed with
its text bounded), nothing resembling a traceback reaches stderr or the log, the Python heap
stays small, and the good file sorted after the bad ones is indexed: the run carries on.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from ingest.limits import Limits
from ingest.ocr import TesseractOcr
from ingest.parsers.image import ImageParser
from ingest.parsers.text import TextParser
from ingest.sources.folder import FolderSource
from tests.hostile import badfiles
from tests.hostile.support import HEAP_LIMIT, MB, Runner, assert_quiet, bounded_memory, failure

GOOD = "zz-good.txt"
GOOD_TEXT = "The good file after the hostile ones: the boiler was serviced in March.\n"
HAS_XLSX = all(importlib.util.find_spec(m) for m in ("openpyxl", "pandas", "unstructured"))


@pytest.fixture
def runner(clean_db) -> Runner:
    return Runner(clean_db)


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    """The expensive generators run once per module (about two seconds)."""
    honest = badfiles.docx_bomb(300)
    return {"300mb": honest, "150mb": badfiles.docx_bomb(150),
            "liar": badfiles.lying_zip(honest, "word/document.xml")}


def _folder(tmp_path: Path, files: dict[str, bytes]) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    for name, data in files.items():
        (root / name).write_bytes(data)
    (root / GOOD).write_text(GOOD_TEXT, encoding="utf-8")
    return root


def _good_indexed(runner: Runner, root: Path) -> None:
    docs = runner.documents()
    assert str(root / GOOD) in docs
    assert "boiler was serviced" in docs[str(root / GOOD)].content


def test_zip_bombs_fail_alone_before_anything_is_unpacked(runner, bombs, tmp_path, capfd, caplog):
    files = {
        "a-bomb.docx": bombs["300mb"],  # 0.3 MB on disk, 300 MB unpacked
        "b-ratio.docx": bombs["150mb"],  # under the size limit, a thousandfold ratio
        "c-liar.docx": bombs["liar"],  # the zip directory claims 1,000 bytes
        "d-members.docx": badfiles.docx_with_members(10_050),
        "f-space.odt": badfiles.odt_space_bomb(),
    }
    if HAS_XLSX:
        files["e-far.xlsx"] = badfiles.xlsx_far_cell()
    root = _folder(tmp_path, files)
    assert len(bombs["300mb"]) < 1 * MB
    with bounded_memory() as memory:
        report = runner.run(FolderSource("docs", root))
    assert report.status == "completed"
    bomb = failure(report, "a-bomb.docx", "unpack_limit")
    assert bomb.message == (f"{root / 'a-bomb.docx'}: unpacks to more than 200 MB "
                            "(limit HOMERAG_MAX_UNPACKED_MB)")
    ratio = failure(report, "b-ratio.docx", "unpack_limit")
    assert "HOMERAG_MAX_COMPRESSION_RATIO" in ratio.message and "-fold" in ratio.message
    liar = failure(report, "c-liar.docx", "corrupt")
    assert "another size than its zip directory says" in liar.message
    members = failure(report, "d-members.docx", "too_many_parts")
    assert "HOMERAG_MAX_PARTS" in members.message
    if HAS_XLSX:
        far = failure(report, "e-far.xlsx", "unpack_limit")
        assert "HOMERAG_MAX_SHEET_CELLS" in far.message
    # The space bomb is read, with its spaces capped: the text after them is there.
    space = runner.documents()[str(root / "f-space.odt")]
    assert "after the spaces" in space.content and len(space.content) < 5000
    _good_indexed(runner, root)
    assert report.counts["indexed"] == 2 and report.counts["failed"] == len(files) - 1
    assert memory.heap_peak < HEAP_LIMIT, memory
    assert memory.rss_growth < 4 * HEAP_LIMIT, memory
    assert_quiet(capfd, caplog)


def test_deep_html_keeps_its_text_and_long_headings_stay_out_of_chunks(runner, tmp_path, capfd,
                                                                      caplog):
    heading = "H" * 200_000
    paragraphs = "\n\n".join(f"Paragraph {i} about the garden shed." for i in range(300))
    root = _folder(tmp_path, {
        "deep.html": badfiles.deep_html(5000),
        "very-deep.html": badfiles.deep_html(20_000),
        "long-heading.md": f"# {heading}\n\n{paragraphs}\n".encode(),
        "long-h1.html": f"<html><body><h1>{heading}</h1><p>{paragraphs}</p></body></html>".encode(),
    })
    with bounded_memory() as memory:
        report = runner.run(FolderSource("docs", root))
    assert report.status == "completed" and report.problems == []
    docs = runner.documents()
    for name in ("deep.html", "very-deep.html"):
        content = docs[str(root / name)].content
        # libxml2 alone drops everything below 256 levels, the closing paragraph included.
        assert "DEEPTEXT the treasure is under the oak" in content
        assert "AFTERTEXT the closing paragraph" in content
        assert "Shallow opening paragraph" in content
    for name in ("long-heading.md", "long-h1.html"):
        assert len(docs[str(root / name)].title or "") <= 200
        chunks = runner.chunks_of(str(root / name))
        assert len(chunks) >= 2
        assert all(len(c.heading or "") <= 200 for c in chunks)
    _good_indexed(runner, root)
    assert memory.heap_peak < HEAP_LIMIT, memory
    assert_quiet(capfd, caplog)


def test_impossible_mt940_date_is_one_line(runner, tmp_path, capfd, caplog):
    root = _folder(tmp_path, {"statement.sta": badfiles.mt940_month_00()})
    report = runner.run(FolderSource("docs", root))
    problem = failure(report, "statement.sta", "corrupt")
    assert problem.message == (f"{root / 'statement.sta'} line 4: impossible balance date "
                               "160029 (month 00 does not exist)")
    _good_indexed(runner, root)
    assert_quiet(capfd, caplog)


def test_giant_image_and_missing_ocr_engine_name_the_file(runner, tmp_path, capfd, caplog):
    root = _folder(tmp_path, {"huge.png": badfiles.png_claiming(100_000, 100_000),
                              "scan.png": badfiles.png_page()})
    ocr = TesseractOcr(binary="homerag-no-such-tesseract")
    parsers = [ImageParser(ocr=ocr, limits=Limits()), TextParser(limits=Limits())]
    with bounded_memory() as memory:
        report = runner.run(FolderSource("docs", root), parsers=parsers)
    huge = failure(report, "huge.png", "unpack_limit")
    assert huge.message == (f"{root / 'huge.png'}: the image has more than 120 megapixels "
                            "(limit HOMERAG_MAX_IMAGE_MEGAPIXELS)")
    scan = failure(report, "scan.png", "unreadable")
    assert scan.message.startswith(f"{root / 'scan.png'}: OCR engine 'homerag-no-such-tesseract'"
                                   " is not installed")
    _good_indexed(runner, root)
    assert memory.heap_peak < HEAP_LIMIT, memory  # 10 gigapixels were never decoded
    assert_quiet(capfd, caplog)
