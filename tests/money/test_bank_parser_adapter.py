"""The statement Parser adapter: scoring against the generic parsers, blocks citing rows, PDFs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from app.core.protocols import Parser
from app.core.types import ParseInput, RawItem
from ingest.mediatypes import detect_media_type
from ingest.money.csvprofiles import CsvOptions
from ingest.parsers import DEFAULT_PARSERS, pick_parser
from ingest.parsers.statement import StatementParser
from tests.money.realworld import realworld_dir
from tests.support.statements_synth import Acct, Tx, csv_signed, mt940, ofx_sgml

REALWORLD = (realworld_dir() or Path("/nonexistent")) / "statements"
D = Decimal


def inp(name: str, data: bytes) -> ParseInput:
    return ParseInput.of(RawItem(origin=f"/docs/{name}", name=name, data=data), data,
                         detect_media_type(name, data[:4096]))


def statement_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=10)
    pdf.add_page()
    for line in ("Sparbank AG - Kontoauszug Nr. 3/2026", "IBAN DE89 3704 0044 0532 0130 00",
                 "Alter Kontostand 1.000,00 EUR",
                 "02.03.2026 REWE Markt Berlin -45,10", "Einkauf vom 01.03.",
                 "05.03.2026 Stadtwerke Strom -85,00"):
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.add_page()
    for line in ("15.03.2026 ACME GmbH 2.500,00", "Gehalt Maerz",
                 "Neuer Kontostand 3.369,90 EUR"):
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def test_statement_parser_is_a_registered_parser() -> None:
    parser = next(p for p in DEFAULT_PARSERS if isinstance(p, StatementParser))
    assert isinstance(parser, Parser)


def test_scores_beat_generic_parsers_only_for_statements() -> None:
    parser = StatementParser(CsvOptions(default_currency="EUR"))
    txs = [Tx(date(2026, 1, d), D("-3.50"), "Bakery", "Brot") for d in range(1, 6)]
    assert parser.score(inp("giro.ofx", ofx_sgml([Acct("1", txs)]))) == 60
    assert parser.score(inp("giro.sta", mt940([Acct("1", txs)]))) == 60
    assert parser.score(inp("umsatz.csv", csv_signed(txs))) == 40
    plain = b"name,colour\nalice,red\nbob,blue\n"
    assert parser.score(inp("people.csv", plain)) is None
    assert parser.score(inp("note.txt", b"Remember the milk.")) is None
    assert pick_parser(inp("giro.sta", mt940([Acct("1", txs)]))).name == "statement"


def test_parsed_document_has_header_and_row_blocks() -> None:
    txs = [Tx(date(2026, 1, 1) if i < 25 else date(2026, 1, 2), D(f"-{i + 1}.00"),
              f"Shop {i}", "x") for i in range(45)]
    doc = StatementParser(CsvOptions(default_currency="EUR")).parse(
        inp("umsatz.csv", csv_signed(txs)))
    assert doc.kind == "statement" and doc.extras["statement"].transaction_count == 45
    header, *groups = doc.blocks
    assert "Bank statement (CSV)" in header.text and "45 transactions" in header.text
    assert [b.meta["rows"] for b in groups] == [[2, 21], [22, 41], [42, 46]]
    assert groups[0].text.splitlines()[0] == "[row 2] 2026-01-01  -1.00 USD  Shop 0  x"
    assert doc.metadata["location_unit"] == "row"
    assert doc.occurred_at is not None and doc.occurred_at.date() == date(2026, 1, 2)


def test_pdf_statement_through_pypdfium2_with_pages() -> None:
    parser = StatementParser(CsvOptions())
    data = statement_pdf()
    item = inp("auszug-2026-03.pdf", data)
    assert parser.score(item) == 30
    doc = parser.parse(item)
    sf = doc.extras["statement"]
    stmt = sf.statements[0]
    assert [(t.amount, t.location.page) for t in stmt.transactions] == [
        (D("-45.10"), 1), (D("-85.00"), 1), (D("2500.00"), 2)]
    assert stmt.account.identifier == "DE89370400440532013000"
    assert "BALANCE MISMATCH" not in doc.blocks[0].text
    assert {b.page for b in doc.blocks[1:]} == {1, 2}


def test_pdf_that_is_no_statement_is_left_to_the_pdf_parser() -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=10)
    pdf.add_page()
    pdf.cell(0, 6, "Minutes of the garden club, 03.02.2026")
    assert StatementParser(CsvOptions()).score(inp("minutes.pdf", bytes(pdf.output()))) is None


@pytest.mark.skipif(not REALWORLD.is_dir(), reason="shared corpus absent")
def test_realworld_non_statement_pdf_and_camt052() -> None:
    parser = StatementParser(CsvOptions())
    senate = (REALWORLD / "pdf_senate-expenditures.pdf").read_bytes()
    assert parser.score(inp("pdf_senate-expenditures.pdf", senate)) is None
    camt052 = (REALWORLD / "iso20022_camt052.xml").read_bytes()
    item = inp("iso20022_camt052.xml", camt052)
    assert parser.score(item) == 60
    doc = parser.parse(item)
    assert doc.extras["statement"].format == "camt052" and doc.metadata["transactions"] == 5
