"""Evidence: receipts (a PDF, a photo read by Tesseract), an .eml invoice matched to the
statement rows they document; stored as links after a sync; shown on both pages; cited when a
money question asks for the invoice (app/money/evidence.py, app/services/evidence.py)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.money.evidence import (
    DocFacts,
    TxFacts,
    amounts_in,
    best_matches,
    dates_in,
    doc_facts,
    name_words,
    score_match,
)
from tests.ocr.scans import render_page
from tests.support.statements_synth import Tx, csv_signed

OCT = date(2026, 10, 1)


# -- pure --------------------------------------------------------------------------------------------
def test_amounts_with_cents_in_any_notation_and_not_dates_or_references():
    text = ("Brot 2,49\nSUMME EUR 23,45\nTotal: 1.234,56 € / $1,234.56\nDatum 19.10.2026 12:31\n"
            "Rg-Nr. 2024-0042 · Ref 0042.50 · Filiale 3.5 km")
    assert amounts_in(text) == {Decimal("2.49"), Decimal("23.45"), Decimal("1234.56")}


def test_dates_written_out_in_german_and_english():
    text = "am 19.10.2026, due 2026-11-02, vom 3. Oktober 2026, Oct 5, 2026, 31.02.2026, 1/2/26"
    assert dates_in(text) == (date(2026, 11, 2), date(2026, 10, 19), date(2026, 2, 1),
                              date(2026, 10, 3), date(2026, 10, 5))


def test_merchant_words_leave_out_company_forms_and_booking_words():
    assert name_words(["REWE Markt GmbH Berlin", "Kartenzahlung", None]) == {"rewe"}
    assert name_words(["Stadtwerke Musterstadt", "Abschlag Oktober"]) == {
        "stadtwerke", "musterstadt", "oktober"}


def tx(i: int, day: date, amount: str, *names: str) -> TxFacts:
    return TxFacts(id=i, day=day, amount=Decimal(amount), currency="EUR", names=names)


def test_score_needs_the_amount_and_a_date_or_the_merchant():
    receipt = doc_facts(1, text="REWE Markt GmbH\nSumme EUR 23,45\n19.10.2026")
    rewe = tx(7, date(2026, 10, 20), "23.45", "REWE Markt GmbH")
    m = score_match(rewe, receipt)
    assert m is not None and m.score == 1.0
    assert m.reason == "amount 23.45 EUR; dated 2026-10-19 (1 days from the booking); names 'rewe'"
    assert score_match(tx(8, date(2026, 10, 20), "23.46", "REWE"), receipt) is None
    far = score_match(tx(9, date(2027, 3, 1), "23.45", "Lidl"), receipt)
    assert far is None  # the amount alone is not enough
    undated = DocFacts(id=2, amounts=frozenset({Decimal("23.45")}), dates=(),
                       words=frozenset({"rewe"}))
    assert score_match(rewe, undated).score == 0.65  # amount + merchant


def test_a_monthly_invoice_goes_to_the_charge_of_its_month():
    invoice = doc_facts(3, text="Netflix\nIhre Rechnung vom 05.10.2026\nBetrag 12,99 EUR")
    charges = [tx(1, date(2026, 9, 5), "12.99", "Netflix"), tx(2, date(2026, 10, 6), "12.99",
                                                               "Netflix"),
               tx(3, date(2026, 11, 5), "12.99", "Netflix")]
    assert [m.transaction_id for m in best_matches(charges, [invoice])] == [2]


# -- through the pipeline -------------------------------------------------------------------------
def receipt_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    for line in ("REWE Markt GmbH", "Hauptstrasse 5, 12345 Musterstadt", "Kassenbon",
                 "Brot 2,49", "Milch 1,19", "Kaese 19,77", "SUMME EUR 23,45",
                 "Datum 19.10.2026 12:31", "Vielen Dank fuer Ihren Einkauf"):
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def receipt_photo() -> bytes:
    page = render_page(["Bakery Sonne", "Croissant 2,40", "Bread 5,40", "Total 7,80 EUR",
                        "18.10.2026"], size=(1100, 800), angle=0.6)
    buf = io.BytesIO()
    page.convert("RGB").save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def invoice_mail() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Stadtwerke Musterstadt <rechnung@stadtwerke.example>"
    msg["To"] = "home@example.org"
    msg["Subject"] = "Ihre Abschlagsrechnung Oktober 2026"
    msg["Date"] = "Thu, 15 Oct 2026 08:00:00 +0000"
    msg["Message-ID"] = "<abschlag-2026-10@stadtwerke.example>"
    msg.set_content("Guten Tag,\n\nIhr Abschlag für Oktober beträgt 85,00 EUR und wird am "
                    "20.10.2026 abgebucht.\n\nIhre Stadtwerke\n")
    return bytes(msg)


def statement() -> bytes:
    rows = [Tx(date(2026, 10, 2 + i), Decimal(f"-{3 + i}.10"), f"Kiosk {i}", "Zeitung")
            for i in range(10)]
    rows += [Tx(date(2026, 10, 18), Decimal("-7.80"), "Bakery Sonne", "Kartenzahlung"),
             Tx(date(2026, 10, 20), Decimal("-23.45"), "REWE Markt GmbH", "Kartenzahlung"),
             Tx(date(2026, 10, 20), Decimal("-85.00"), "Stadtwerke Musterstadt",
                "Abschlag Oktober"),
             Tx(date(2026, 8, 3), Decimal("-23.45"), "Lidl", "Kartenzahlung")]
    return csv_signed(rows, german=True, balance_from=Decimal("1500"))


@pytest.fixture
def household(clean_db, settings, tmp_path: Path):
    """Statements and receipts synced by the sync service (which links evidence)."""
    from app.services.runtime import Runtime
    from app.services.sync import sync
    from ingest.embedders.lexical import LexicalHashEmbedder
    from ingest.sources.folder import FolderSource

    root = tmp_path / "inbox"
    root.mkdir()
    (root / "giro-2026-10.csv").write_bytes(statement())
    (root / "rewe-bon.pdf").write_bytes(receipt_pdf())
    (root / "bakery.jpg").write_bytes(receipt_photo())
    (root / "stadtwerke.eml").write_bytes(invoice_mail())
    (root / "note.txt").write_text("Shopping list: eggs, 23,45 looked like a lot for cheese.\n",
                                   encoding="utf-8")
    rt = Runtime(settings=settings, db=clean_db)
    rt.set_embedder(LexicalHashEmbedder())
    result = sync(rt, [FolderSource("inbox", root)])
    assert result.completed and not result.failed_items, result.to_json()
    return rt, result


def links(rt) -> dict[str, tuple[str, str]]:
    """document file name -> (transaction payee, booking date) of every stored link."""
    from app.core.models import Document, Evidence, Transaction

    with rt.db.session() as s:
        rows = s.execute(select(Document.origin, Transaction.counterparty,
                                Transaction.booking_date)
                         .join(Evidence, Evidence.document_id == Document.id)
                         .join(Transaction, Transaction.id == Evidence.transaction_id)).all()
    return {Path(o.split("#")[0]).name: (p, d.isoformat()) for o, p, d in rows}


def test_sync_links_receipts_photos_and_mail_invoices_to_their_transactions(household):
    rt, result = household
    assert result.evidence is not None and result.evidence["linked"] == 3
    assert links(rt) == {
        "rewe-bon.pdf": ("REWE Markt GmbH", "2026-10-20"),  # not Lidl's 23.45 in August
        "bakery.jpg": ("Bakery Sonne", "2026-10-18"),  # through OCR
        "stadtwerke.eml": ("Stadtwerke Musterstadt", "2026-10-20"),
    }


def test_a_refresh_keeps_the_owners_confirmation(household):
    from app.core.models import Evidence
    from app.services.evidence import confirm_evidence, refresh_evidence

    rt, _ = household
    with rt.db.session() as s:
        first = s.scalars(select(Evidence).order_by(Evidence.id)).first()
    assert first is not None
    confirm_evidence(rt, first.id)
    again = refresh_evidence(rt)  # everything again
    assert again["linked"] == 2  # the confirmed document is left as the owner decided
    with rt.db.session() as s:
        kept = s.get(Evidence, first.id)
        assert kept is not None and kept.confirmed
        assert s.query(Evidence).count() == 3


def test_both_pages_show_the_link_and_a_money_answer_cites_the_invoice(household):
    from app.http.app import create_app
    from app.services.ask import ask

    rt, _ = household
    with TestClient(create_app(runtime=rt), base_url="http://localhost") as client:
        from app.core.models import Document, Evidence

        with rt.db.session() as s:
            doc_id, tx_id = s.execute(
                select(Document.id, Evidence.transaction_id)
                .join(Evidence, Evidence.document_id == Document.id)
                .where(Document.origin.endswith("stadtwerke.eml"))).one()
        page = client.get(f"/documents/{doc_id}").text
        assert 'id="evidence"' in page and "Evidence for transaction" in page
        assert f'href="/reports/transactions/{tx_id}"' in page and "-85.00 EUR" in page
        tx_page = client.get(f"/reports/transactions/{tx_id}").text
        assert "Receipts and invoices" in tx_page and f'href="/documents/{doc_id}"' in tx_page
        assert "Ihre Abschlagsrechnung Oktober 2026" in tx_page
        assert "?row=" in tx_page  # the statement line the charge is listed on

    result = ask(rt, "Show me the invoice for the Stadtwerke charge in October 2026", chat=None)
    assert "Mail for the 85.00 EUR charge on 2026-10-20" in result.answer, result.answer
    cited = [c for c in result.citations if c.citable.document_id == doc_id]
    assert len(cited) == 1 and cited[0].chunk_id is not None
    assert cited[0].snippet and "85,00 EUR" in cited[0].snippet
    assert cited[0].url and cited[0].url.startswith(f"/documents/{doc_id}?chunk=")
    plain = ask(rt, "How much did I pay Stadtwerke in October 2026?", chat=None)
    assert all(c.citable.kind == "transaction" for c in plain.citations)
