"""The status service lists every problem: failed files, and failures inside a document that was
indexed (a mail's broken attachment), for as long as that version of the document stands."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.services.runtime import Runtime
from app.services.status import status
from app.services.sync import resolve_sources, sync
from ingest.embedders.lexical import LexicalHashEmbedder
from tests.mail.mailgen import build_message

BROKEN_PDF = b"%PDF-1.7\n1 0 obj <</Type /Catalog>> endobj\ntrailer <<>>\n%%EOF garbage"


@pytest.fixture
def rt(settings, clean_db) -> Runtime:
    runtime = Runtime(settings=settings, db=clean_db)
    runtime.set_embedder(LexicalHashEmbedder())
    return runtime


def _write(folder: Path, *, attachment: bytes) -> None:
    (folder / "invoice.eml").write_bytes(build_message(
        subject="Invoice 42", body="Please find the invoice attached.",
        attachments=[("invoice.pdf", "application/pdf", attachment)]))
    (folder / "note.txt").write_text("A plain note about the garden.\n")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 not really a docx")


def test_status_counts_and_lists_failures_inside_indexed_documents(rt, tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    _write(folder, attachment=BROKEN_PDF)
    sync(rt, resolve_sources(rt.settings, paths=[folder]))
    [src] = status(rt)["sources"]
    assert src["indexed"] == 2 and src["failed"] == 1  # the mail and the note; the docx failed
    assert src["failed_inside"] == 1 and src["problem_count"] == 2
    origins = [p["origin"] for p in src["problems"]]
    assert any(o.endswith("broken.docx") for o in origins)
    assert any("invoice.eml#" in o and o.endswith("invoice.pdf") for o in origins)

    # The mail arrives again with a readable attachment: the old failure is gone.
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(text="Invoice 42: amount due 120.00 EUR")
    _write(folder, attachment=bytes(pdf.output()))
    sync(rt, resolve_sources(rt.settings, paths=[folder]))
    [src] = status(rt)["sources"]
    assert src["failed_inside"] == 0 and src["problem_count"] == 1


def test_all_problems_lists_more_than_the_newest_twenty(rt, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(25):
        (folder / f"bad{i:02d}.docx").write_bytes(b"PK\x03\x04 broken")
    sync(rt, resolve_sources(rt.settings, paths=[folder]))
    [short] = status(rt)["sources"]
    [full] = status(rt, all_problems=True)["sources"]
    assert short["problem_count"] == full["problem_count"] == 25
    assert len(short["problems"]) == 20 and len(full["problems"]) == 25
