"""A statement row of a PDF bank statement, marked on the rendered PDF page as well as in the
extracted text (app/services/documents.py statement_place / pdf_line, static/pdfview.js).

The statement (generated with fpdf, read by the built-in German PDF layout) has two pages whose
lines are numbered per page: "line 8" is a bakery on page 1 and the electricity bill on page 2,
so the page decides which row is meant.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import truncate_all
from tests.http import test_citations_browser as cites
from tests.http.corpus import EMB, make_settings
from tests.support.browser import shot

# The citations tests' server (a CSP on every response); it and conftest's `client` run on this
# module's `corpus` below.
serve = cites.serve
HEAD = ("Musterbank eG  Kontoauszug 10/2026  Blatt {n}\n"
        "IBAN DE02 1203 0000 0000 2020 51  EUR\nBuchungstag Vorgang Betrag\n")
BILL = "25.10.2026 Stadtwerke Strom -85,00"  # page 2, line 8


def statement_pages() -> list[str]:
    pages = []
    for n in (1, 2):
        lines = []
        for i in range(20):
            day = 1 + (i + (n - 1) * 20) % 28
            lines.append(f"{day:02d}.10.2026 Bakery Sonne {n}-{i} -{10 + i},{n}0")
        if n == 2:
            lines[4] = BILL
        pages.append(HEAD.format(n=n) + "\n".join(lines) + "\n")
    return pages


def statement_pdf(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for page in statement_pages():
        pdf.add_page()
        for line in page.splitlines():
            pdf.cell(0, 9, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


@pytest.fixture(scope="module")
def corpus(db, pg_url: str) -> Iterator[tuple[Any, Path]]:
    from ingest.pipeline import IngestOptions, Pipeline
    from ingest.sources.folder import FolderSource

    truncate_all(db)
    with tempfile.TemporaryDirectory(prefix="hr-pdfrows-") as tmp:
        root = Path(tmp)
        data_dir, docs = root / "data", root / "docs"
        data_dir.mkdir()
        docs.mkdir()
        statement_pdf(docs / "kontoauszug-2026-10.pdf")
        settings = make_settings(pg_url, data_dir)
        report = Pipeline(db, embedder=EMB, options=IngestOptions.from_settings(settings)).run(
            FolderSource("bank", docs))
        assert report.status == "completed" and not report.problems, report.error
        yield db, data_dir
    truncate_all(db)


def bill(client: TestClient) -> dict[str, Any]:
    rows = client.get("/api/transactions", params={"payee": "Stadtwerke"}).json()
    rows = rows["transactions"] if isinstance(rows, dict) else rows
    assert len(rows) == 1, rows
    return rows[0]


def marked(html: str) -> str:
    return re.search(r'<mark id="span" class="span">([^<]*)</mark>', html).group(1)


def test_the_page_decides_which_line_and_the_original_line_is_handed_to_the_viewer(client):
    tx = bill(client)
    src = tx["source"]
    assert (src["page"], src["line"]) == (2, 8) and Decimal(tx["amount"]) == Decimal("-85.00")
    doc = src["document_id"]
    html = client.get(f"/documents/{doc}", params={"page": 2, "line": 8}).text
    assert marked(html).startswith("[line 8] 2026-10-25") and "Stadtwerke Strom" in marked(html)
    assert 'data-page="2"' in html and 'data-page-end="2"' in html
    assert f'data-find="{BILL}"' in html  # the line as the PDF prints it
    assert 'data-what="statement line"' in html
    assert f'href="/api/documents/{doc}/file#page=2"' in html and "at page 2" in html
    assert "Cited line 8 on page 2 of this statement." in html
    # Without the page, line 8 is the first page's (a bakery), on page 1.
    first = client.get(f"/documents/{doc}", params={"line": 8}).text
    assert "Bakery Sonne 1-4" in marked(first) and 'data-page="1"' in first
    assert 'data-find="05.10.2026 Bakery Sonne 1-4 -14,10"' in first
    # A line no transaction is listed at: nothing marked on the page, said so in words.
    none = client.get(f"/documents/{doc}", params={"page": 2, "line": 99})
    assert none.status_code == 200 and 'id="mark-note"' in none.text
    assert 'data-find=""' in none.text


def test_links_to_the_row_carry_its_page(client):
    tx = bill(client)
    doc = tx["source"]["document_id"]
    page = client.get(f"/reports/transactions/{tx['id']}").text
    assert f'href="/documents/{doc}?page=2&amp;line=8#passage"' in page
    answer = client.post("/api/ask", json={
        "question": "How much did I spend at Stadtwerke in October 2026?"}).json()
    urls = [c["url"] for c in answer["citations"]]
    assert f"/documents/{doc}?page=2&line=8#passage" in urls, answer


@pytest.mark.browser
def test_a_pdf_statement_row_is_marked_on_the_rendered_page(browser, serve, client):
    doc = bill(client)["source"]["document_id"]
    base = serve()
    page, problems = cites.watched_page(browser, cites.PHONE)
    page.goto(f"{base}/documents/{doc}?page=2&line=8#passage")
    page.wait_for_selector("#pdf-view[data-marked]", timeout=20_000)
    assert int(page.get_attribute("#pdf-view", "data-marked") or "0") >= 1, \
        page.inner_text("#pdf-status")
    assert page.inner_text("#pdf-status") == "Page 2 of 2: the statement line is marked."
    assert cites.in_view(page, ".pdf-mark")
    # The marks cover exactly that printed line of the page's text layer.
    geometry = page.evaluate("""(line) => {
      const span = [...document.querySelectorAll('.textLayer span')]
        .find(s => s.textContent.includes('Stadtwerke Strom'));
      if (!span) return null;
      const want = span.getBoundingClientRect();
      const got = [...document.querySelectorAll('.pdf-mark')].map(m => m.getBoundingClientRect());
      const others = [...document.querySelectorAll('.textLayer span')]
        .filter(s => s.textContent.includes('Bakery')).map(s => s.getBoundingClientRect());
      const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom - 2
        && b.top < a.bottom - 2;
      return {want: [want.left, want.top, want.width], got: got.map(r => [r.left, r.top, r.width]),
              overlapsOthers: got.some(g => others.some(o => hit(g, o)))};
    }""")
    assert geometry is not None
    (left, top, width), marks = geometry["want"], geometry["got"]
    assert len(marks) == 1, geometry
    assert abs(marks[0][0] - left) < 3 and abs(marks[0][1] - top) < 3, geometry
    assert abs(marks[0][2] - width) < 0.1 * width, geometry
    assert not geometry["overlapsOthers"], geometry
    # And in the extracted text below.
    assert "Stadtwerke Strom" in page.inner_text("mark#span")
    shot(page, "pdf-statement-row", full_page=False)
    assert not problems and not cites.csp_violations(page), (problems, cites.csp_violations(page))
    page.close()
