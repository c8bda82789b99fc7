"""PDF text path: our PdfParser (pypdfium2) vs unstructured's partition_pdf(strategy="fast").

Both read the same generated multi-page PDFs (fpdf2, ~450 words per page). unstructured is run
offline (ensure_offline_unstructured) and checked to return real text before it is timed.

    .venv/bin/python bench/parse_pdf.py [PAGES ...]        (default: 50 200)

unstructured's PDF path (even "fast") imports pdfminer.six, pi-heif, pikepdf and
unstructured-inference with its imports; none are project dependencies, and the inference
package's own dependencies pull torchvision/CUDA, so install them without dependencies beside
the venv (this is how the figures in the closing note were taken):
    .venv/bin/pip install pdfminer.six pi-heif
    .venv/bin/pip install --no-deps --target /tmp/uinf unstructured-inference \
        opencv-python-headless pdf2image onnxruntime onnx ml-dtypes pikepdf deprecated
    PYTHONPATH=/tmp/uinf .venv/bin/python bench/parse_pdf.py
Without pikepdf unstructured logs "PDF text extraction failed" and returns no elements; the
bench refuses to time such an empty result.
"""

from __future__ import annotations

import io
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.core.types import ParseInput, RawItem
from ingest.parsers.pdf import PdfParser
from ingest.unstructured_offline import ensure_offline_unstructured

WORDS = ("the tenant shall pay rent monthly to landlord deposit notice period termination "
         "agreement Vertrag Kündigung Miete Nebenkosten Abrechnung Zahlung Konto").split()


def make_pdf(pages: int, seed: int = 7) -> bytes:
    from fpdf import FPDF

    rng = random.Random(seed)
    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    for page in range(pages):
        pdf.add_page()
        pdf.multi_cell(0, 5, f"{page + 1}. Section {page + 1}", new_x="LMARGIN", new_y="NEXT")
        for _ in range(6):
            sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize()
                         + "." for _ in range(5)]
            pdf.multi_cell(0, 5, " ".join(sentences).encode("latin-1", "replace").decode("latin-1"),
                           new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
    return bytes(pdf.output())


def time_ours(data: bytes, repeat: int) -> tuple[float, int]:
    parser = PdfParser()
    inp = ParseInput.of(RawItem(origin="bench.pdf", name="bench.pdf"), data, "application/pdf")
    best, chars = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        doc = parser.parse(inp)
        best = min(best, time.perf_counter() - t0)
        chars = sum(len(b.text) for b in doc.blocks)
    return best, chars


def time_unstructured(data: bytes, repeat: int) -> tuple[float, int] | None:
    ensure_offline_unstructured()
    try:
        from unstructured.partition.pdf import partition_pdf
    except ImportError as exc:
        print(f"unstructured PDF path unavailable ({exc.name} missing): see the docstring")
        return None
    best, chars = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        elements = partition_pdf(file=io.BytesIO(data), strategy="fast")
        best = min(best, time.perf_counter() - t0)
        chars = sum(len(e.text) for e in elements)
    return best, chars


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [50, 200]
    # unstructured's first call loads its NLP pipeline; do not count that against it.
    warm = make_pdf(2)
    unstructured_ok = time_unstructured(warm, 1) is not None
    print(f"{'pages':>6} {'ours s':>8} {'ours p/s':>9} {'ours chars':>10} "
          f"{'unst s':>8} {'unst p/s':>9} {'unst chars':>10} {'ratio':>6}")
    for pages in sizes:
        data = make_pdf(pages)
        ours_s, ours_chars = time_ours(data, repeat=3)
        row = f"{pages:>6} {ours_s:8.3f} {pages / ours_s:9.1f} {ours_chars:>10}"
        if unstructured_ok:
            result = time_unstructured(data, repeat=1)
            assert result is not None
            unst_s, unst_chars = result
            if unst_chars < ours_chars * 0.5:
                raise SystemExit(f"unstructured returned {unst_chars} characters for {pages} pages "
                                 f"(ours {ours_chars}): not timing an empty result")
            row += f" {unst_s:8.3f} {pages / unst_s:9.1f} {unst_chars:>10} {unst_s / ours_s:5.0f}x"
        print(row)


if __name__ == "__main__":
    main(sys.argv[1:])
