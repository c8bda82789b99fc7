"""Statement text exports (fixed-width .txt) and PDF statements beyond the named layouts: card
statements with "Previous Balance / New Balance", purchases vs payments, credits marked CR,
multi-line descriptions; checked by the statement's own balances; unreadable ones fail."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from app.core.errors import IngestError
from app.core.types import ParseInput, RawItem
from ingest.money import parse_statement_file
from ingest.money.balance import check_balance
from ingest.money.csvprofiles import CsvOptions
from ingest.money.pdfparse import parse_pdf_text
from ingest.parsers.statement import StatementParser

# The layout of a Sberbank card report (ofxstatement-russian's fixture, GPL: reproduced):
# Russian month names, credits marked CR, purchases unmarked, a continuation line per row,
# page totals, balances with a trailing "+".
FIXED_WIDTH = """\
                                   С Б Е Р Б А Н К  Р О С С И И
                                       ОТЧЕТ ПО СЧЕТУ КАРТЫ
ЛИМИТ ОВЕРДРАФТА:                    0.00                          ВАЛЮТА СЧЕТА RUR
ОСТАТОК НА НАЧАЛО ПЕРИОДА:                                                  318.30+
--------------------+-----+-----+-------+--------------------------+---------------+------
VISA GOLD           17ИЮН 18ИЮН18 220342 SBOL                   RUR       100.00    100.00CR
XXXX XXXX XXX4 6122                         MOSCOW       RU
                    03ОКТ 04ОКТ18 289647 PEREKRESTOK KRYLATSKOY RUR      1699.00   1699.00
                                         E  NOGINSK      RU
                    28ДЕК 28ДЕК18 244212 SBOL                                       10.00
--------------------+-----+-----+-------+--------------------------+---------------+------
               ***************** ИТОГО ПО СТРАНИЦЕ                                1609.00
ОСТАТОК НА КОНЕЦ ПЕРИОДА:                                                 -1290.70+
"""

CARD_PAGES = [
    "ACME BANK VISA  Card Statement  USD\nAccount number XXXX XXXX XXXX 1234\n"
    "Previous Balance 1,234.56\nNew Balance 784.16\n"
    "Credit limit 5,000.00   Minimum payment due 25.00\n"
    "Trans Date Post Date Description Amount\n"
    "03/02/2024 03/03/2024 GROCER STORE #12 45.10\n",
    "03/05/2024 03/05/2024 PAYMENT - THANK YOU -500.00\n"
    "03/07/2024 03/08/2024 COFFEE SHOP 4.50\nSEATTLE WA\n",
]


def test_fixed_width_text_export_with_cr_credits_checks_by_its_balances() -> None:
    sf = parse_statement_file(FIXED_WIDTH.encode(), name="report.txt")
    stmt = sf.statements[0]
    assert sf.format == "text"
    assert [(t.booking_date.isoformat(), t.amount) for t in stmt.transactions] == [
        ("2018-06-18", D("100.00")), ("2018-10-04", D("-1699.00")), ("2018-12-28", D("-10.00"))]
    assert stmt.transactions[1].description.endswith("E NOGINSK RU")  # the continuation line
    assert (stmt.opening_balance, stmt.closing_balance) == (D("318.30"), D("-1290.70"))
    assert check_balance(stmt).status == "ok" and stmt.currency == "RUR"
    assert stmt.account.identifier == "XXXXXXXXXXX46122"


def test_credits_marked_but_balances_disagree_is_a_failure_not_a_guess() -> None:
    wrong = FIXED_WIDTH.replace("-1290.70+", "-1000.00+")
    with pytest.raises(IngestError, match="balances do not prove"):
        parse_statement_file(wrong.encode(), name="report.txt")


def test_card_statement_previous_and_new_balance_purchases_are_money_out() -> None:
    sf = parse_pdf_text(CARD_PAGES, name="card.pdf")
    stmt = sf.statements[0]
    assert [(t.amount, t.location.page) for t in stmt.transactions] == [
        (D("-45.10"), 1), (D("500.00"), 2), (D("-4.50"), 2)]
    assert (stmt.opening_balance, stmt.closing_balance) == (D("-1234.56"), D("-784.16"))
    assert check_balance(stmt).status == "ok" and stmt.account.type == "credit"
    assert "SEATTLE WA" in (stmt.transactions[2].description or "")


def test_card_pdf_through_the_statement_parser() -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    for page in CARD_PAGES:
        pdf.add_page()
        for line in page.splitlines():
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    data = bytes(pdf.output())
    inp = ParseInput.of(RawItem(origin="card.pdf", name="card.pdf", data=data), data,
                        "application/pdf")
    parser = StatementParser(CsvOptions())
    assert parser.score(inp) == 30
    doc = parser.parse(inp)
    assert doc.metadata["transactions"] == 3
    assert doc.metadata["balance_checks"][0]["status"] == "ok"


def test_statement_pdf_whose_lines_no_layout_reads_fails_visibly() -> None:
    # Statement wording and transaction-shaped lines, but every amount positive and unmarked:
    # no reading is certain, so the PDF is claimed and fails instead of becoming plain text.
    pages = ["Kontoauszug Nr. 3/2024\nIBAN DE89 3704 0044 0532 0130 00\n"
             "alter Kontostand 100,00\n05.03.2024 Bäckerei  2,40\n06.03.2024 Gehalt  100,00\n"
             "07.03.2024 Miete  50,00\n08.03.2024 Strom  20,00\nneuer Kontostand 127,60\n"]
    with pytest.raises(IngestError) as err:
        parse_pdf_text(pages, name="odd.pdf")
    assert "odd.pdf" in str(err.value) and "\n" not in str(err.value)


def test_paid_out_paid_in_balance_columns_take_their_signs_from_the_balance() -> None:
    # UK layout: unsigned amounts in "Paid out" / "Paid in" and a running balance; the balance's
    # change says which is which, proven row by row from the balance brought forward.
    pages = ["Example Bank  Statement of account  GBP\nSort code 12-34-56 Account 12345678\n"
             "Date Description Paid out Paid in Balance\n"
             "01 Mar 2024 Balance brought forward 1,000.00\n"
             "03 Mar 2024 Coffee House 4.50 995.50\n05 Mar 2024 Salary ACME 2,500.00 3,495.50\n"
             "10 Mar 2024 Rent 1,200.00 2,295.50\n31 Mar 2024 Balance carried forward 2,295.50\n"]
    stmt = parse_pdf_text(pages, name="uk.pdf").statements[0]
    assert [(t.amount, t.description) for t in stmt.transactions] == [
        (D("-4.50"), "Coffee House"), (D("2500.00"), "Salary ACME"), (D("-1200.00"), "Rent")]
    assert check_balance(stmt).status == "ok" and stmt.currency == "GBP"
    broken = [pages[0].replace("995.50", "996.50")]  # a balance that does not follow: refused
    with pytest.raises(IngestError):
        parse_pdf_text(broken, name="uk.pdf")
