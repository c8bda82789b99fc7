"""Statements through the real pipeline into PostgreSQL: dedup, overlaps, pending, deletion, errors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from app.core.models import Chunk, Document, Statement, Transaction, TransactionOccurrence
from tests.support.statements_synth import Acct, Tx, camt053, csv_signed, mt940, ofx_sgml

D = Decimal


def _count(db, model, *where) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _january() -> list[Tx]:
    return [
        Tx(date(2026, 1, 3), D("-61.07"), "REWE Markt", "Einkauf"),
        Tx(date(2026, 1, 12), D("-3.20"), "Starbucks", "Kaffee"),
        Tx(date(2026, 1, 15), D("-3.20"), "Starbucks", "Kaffee"),
        Tx(date(2026, 1, 15), D("-3.20"), "Starbucks", "Kaffee"),  # two identical coffees
        Tx(date(2026, 1, 20), D("-45.00"), "Shell Tankstelle", "Benzin"),
        Tx(date(2026, 1, 28), D("3200.00"), "ACME GmbH", "Gehalt"),
    ]


def test_multi_format_folder_stores_transactions_with_citable_locations(bank_run, folder,
                                                                         clean_db) -> None:
    bank = Acct("1234567890", _january(), currency="USD", bank_id="121000248")
    card = Acct("4111111111111111", [Tx(date(2026, 1, 9), D("-15.99"), "NETFLIX.COM")],
                card=True, currency="USD")
    (folder / "jan.ofx").write_bytes(ofx_sgml([bank, card]))
    (folder / "giro.sta").write_bytes(mt940([Acct("0532013000", _january())]))
    (folder / "export.csv").write_bytes(csv_signed(_january()))
    report = bank_run(folder)
    assert report.counts["indexed"] == 3, report.problems
    assert _count(clean_db, Transaction) == 6 + 1 + 6 + 6
    assert _count(clean_db, Statement) == 4
    with clean_db.session() as s:
        rows = s.execute(select(Transaction, Document.origin).join(
            Document, Document.id == Transaction.document_id)).all()
        for tx, origin in rows:
            assert tx.line or tx.row
            assert origin.endswith((".ofx", ".sta", ".csv"))
        coffees = s.scalars(select(Transaction).where(Transaction.merchant == "starbucks",
                                                      Transaction.booking_date == date(2026, 1, 15)
                                                      )).all()
        assert len(coffees) == 6  # two per file, three files, three different accounts
        assert {c.category for c in coffees} == {"restaurants"}
        csv_tx = s.scalar(select(Transaction).where(Transaction.row == 2))
        assert csv_tx is not None and csv_tx.amount == D("-61.07")
        # statement chunks carry the row range they cite
        metas = [m for m in s.scalars(select(Chunk.meta)) if m.get("rows")]
        assert metas and all(m["rows"][0] <= m["rows"][1] for m in metas)
        doc = s.scalar(select(Document).where(Document.origin.endswith("jan.ofx")))
        assert doc.kind == "statement" and doc.meta["statements"] == 2


def test_reimport_and_overlapping_files_do_not_double_count(bank_run, folder, clean_db) -> None:
    txs = _january()
    (folder / "a.csv").write_bytes(csv_signed(txs[:4]))  # Jan 3 - Jan 15
    (folder / "b.csv").write_bytes(csv_signed(txs[1:]))  # Jan 12 - Jan 28 (overlap 12-15)
    bank_run(folder)
    assert _count(clean_db, Transaction) == 6
    assert _count(clean_db, TransactionOccurrence) == 4 + 5
    with clean_db.session() as s:
        before = sorted(s.scalars(select(Transaction.id)))
    # The same bytes under another name: an overlapping export of the full period.
    (folder / "c.csv").write_bytes(csv_signed(txs))
    bank_run(folder)
    with clean_db.session() as s:
        assert sorted(s.scalars(select(Transaction.id))) == before
    # Deleting a file keeps what other files still list, re-pointed to a remaining file.
    (folder / "a.csv").unlink()
    (folder / "c.csv").unlink()
    report = bank_run(folder)
    assert report.counts["removed"] == 2
    assert _count(clean_db, Transaction) == 5  # the Jan 3 purchase was only in a.csv / c.csv
    with clean_db.session() as s:
        origins = set(s.scalars(select(Document.origin).join(
            Transaction, Transaction.document_id == Document.id)))
        assert {Path(o).name for o in origins} == {"b.csv"}
        assert s.scalar(select(func.count()).select_from(Transaction).where(
            Transaction.document_id.is_(None))) == 0


def test_pending_then_posted_is_one_booked_transaction(bank_run, folder, clean_db) -> None:
    iban = "DE89370400440532013000"
    early = Acct(iban, [Tx(date(2026, 2, 3), D("-20.00"), "REWE Markt", "Einkauf", ref="A1"),
                        Tx(date(2026, 2, 27), D("-10.99"), "Spotify", "abo", pending=True)])
    (folder / "feb-early.xml").write_bytes(camt053([early]))
    bank_run(folder)
    with clean_db.session() as s:
        assert s.scalar(select(Transaction.status).where(Transaction.merchant == "spotify")) \
            == "pending"
    late = Acct(iban, [Tx(date(2026, 2, 3), D("-20.00"), "REWE Markt", "Einkauf", ref="A1"),
                       Tx(date(2026, 3, 1), D("-10.99"), "Spotify", "abo", ref="B7")],
                opening=D("1000.00"))
    (folder / "feb-full.xml").write_bytes(camt053([late]))
    bank_run(folder)
    with clean_db.session() as s:
        spotify = s.scalars(select(Transaction).where(Transaction.merchant == "spotify")).all()
        assert [(t.status, t.booking_date) for t in spotify] == [("booked", date(2026, 3, 1))]
        occurrences = s.scalar(select(func.count()).select_from(TransactionOccurrence).where(
            TransactionOccurrence.transaction_id == spotify[0].id))
        assert occurrences == 2  # both files still cite it
        assert s.scalar(select(func.count()).select_from(Transaction)) == 2


def test_bad_files_fail_one_by_one_and_leave_earlier_data_untouched(bank_run, folder,
                                                                    clean_db) -> None:
    good = Acct("0532013000", _january())
    (folder / "good.sta").write_bytes(mt940([good]))
    (folder / "good.ofx").write_bytes(ofx_sgml([Acct("55", _january())]))
    bank_run(folder)
    stored = _count(clean_db, Transaction)
    assert stored == 12
    # Now: the OFX gets truncated, a CSV with a broken amount, an unknown layout, and a
    # statement whose balances do not add up.
    data = (folder / "good.ofx").read_bytes()
    (folder / "good.ofx").write_bytes(data[: len(data) // 2])
    (folder / "broken.csv").write_text(
        "Date,Description,Amount\n2026-01-05,Bakery,-2.40\n2026-01-06,Bakery,-2.4x0\n",
        encoding="utf-8")
    # Two amount columns, neither named nor signed: recognisably a statement, not mappable.
    (folder / "weird.csv").write_text("Tag;Wer;Wieviel;Noch\n05.01.2026;Bakery;2,40;\n"
                                      "06.01.2026;Bakery;;3,10\n", encoding="utf-8")
    off = Acct("777", _january(), closing=D("1.00"))
    (folder / "off.sta").write_bytes(mt940([off]))
    report = bank_run(folder)
    assert report.status == "completed"
    problems = {Path(p.origin).name: p.message for p in report.problems}
    assert set(problems) == {"good.ofx", "broken.csv", "weird.csv"}
    assert "truncated" in problems["good.ofx"]
    assert "row 3" in problems["broken.csv"] and "'-2.4x0'" in problems["broken.csv"]
    assert "Tag (date), Wer (text), Wieviel (amount), Noch (amount)" in problems["weird.csv"]
    assert "sample row" in problems["weird.csv"]
    # earlier data untouched; the mismatched statement is stored and flagged, not hidden
    assert _count(clean_db, Transaction) == stored + 6
    with clean_db.session() as s:
        flagged = s.scalar(select(Statement).where(Statement.balance_status == "mismatch"))
        assert flagged is not None and flagged.balance_difference is not None
        assert "differs" in flagged.meta["balance_message"]


def test_changed_file_keeps_hand_set_categories(bank_run, folder, clean_db) -> None:
    txs = _january()
    (folder / "a.csv").write_bytes(csv_signed(txs[:3]))
    bank_run(folder)
    with clean_db.session() as s:
        rewe = s.scalar(select(Transaction).where(Transaction.merchant == "rewe markt"))
        rewe.category, rewe.category_rule = "household", "manual"
    (folder / "a.csv").write_bytes(csv_signed(txs))  # the export grew: the file changed
    report = bank_run(folder)
    assert report.counts["indexed"] == 1
    with clean_db.session() as s:
        rewe = s.scalar(select(Transaction).where(Transaction.merchant == "rewe markt"))
        assert (rewe.category, rewe.category_rule) == ("household", "manual")
        assert s.scalar(select(func.count()).select_from(Transaction)) == 6
