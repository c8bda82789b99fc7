"""OFX/QFX as real downloads write it: header variants, comments, empty and unclosed elements,
tidy-nested files, several transaction lists, investment statements; errors in plain words."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from app.core.errors import CorruptDocumentError, EmptyDocumentError
from ingest.money import parse_statement_file
from ingest.money.balance import check_balance
from ingest.money.ofx import parse_ofx
from tests.money.quirks import ofx_investment_xml, ofx_two_tranlists, ofx_variants


@pytest.mark.parametrize("variant", sorted(ofx_variants()))
def test_every_header_and_body_variant_reads_the_same_statement(variant: str) -> None:
    sf = parse_statement_file(ofx_variants()[variant], name=f"{variant}.qfx")
    assert sf.format == "ofx" and len(sf.statements) == 1
    stmt = sf.statements[0]
    assert [(t.booking_date.isoformat(), t.amount, t.bank_id) for t in stmt.transactions] == [
        ("2024-03-05", D("-42.40"), "A1"), ("2024-03-06", D("1500.00"), "A2")]
    assert stmt.currency == "USD" and stmt.closing_balance == D("1457.60")
    assert stmt.account.identifier == "121000248/5550001111"


def test_empty_elements_stay_empty_and_do_not_swallow_their_followers() -> None:
    stmt = parse_ofx(ofx_variants()["empty_tags"], name="e.ofx").statements[0]
    assert stmt.transactions[0].counterparty is None
    assert stmt.transactions[1].counterparty == "Payroll"


def test_every_banktranlist_of_a_statement_counts() -> None:
    stmt = parse_ofx(ofx_two_tranlists(), name="two.ofx").statements[0]
    assert [t.bank_id for t in stmt.transactions] == ["A1", "A2"]
    assert (stmt.period_start.isoformat(), stmt.period_end.isoformat()) == (
        "2024-03-01", "2024-03-31")


@pytest.mark.parametrize("cut, message", [
    (lambda b: b[: len(b) // 2], "truncated (no closing </OFX> tag)"),
    (lambda b: b.replace(b"<OFX>", b"<OFXX>"), "not an OFX file"),
    (lambda b: b.replace(b"</STMTRS>", b"</STMTRS></STMTRS>"),
     "closing tag </STMTRS> without an opening <STMTRS>"),
    (lambda b: b.replace(b"<TRNAMT>-42.40", b"<TRNAMT>-42,4x"), "TRNAMT not an amount"),
    (lambda b: b.replace(b"<DTPOSTED>20240305", b"<DTPOSTED>20240230"), "does not exist"),
])
def test_malformed_files_fail_in_plain_words(cut, message: str) -> None:  # type: ignore[no-untyped-def]
    data = cut(ofx_variants()["full_header"])
    with pytest.raises((CorruptDocumentError, EmptyDocumentError)) as err:
        parse_ofx(data, name="bank.qfx")
    text = str(err.value)
    assert text.startswith("bank.qfx") and message in text
    assert "\n" not in text and "<_io" not in text and "object at 0x" not in text


def test_an_error_response_fails_with_the_banks_message() -> None:
    data = ("OFXHEADER:100\n\n<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>15500<SEVERITY>ERROR"
            "<MESSAGE>Invalid user ID or password</STATUS></SONRS></SIGNONMSGSRSV1></OFX>")
    with pytest.raises(EmptyDocumentError, match=r"error 15500 \(Invalid user ID or password\)"):
        parse_ofx(data.encode(), name="login.ofx")


def test_investment_statement_gives_trades_income_positions_and_cash() -> None:
    sf = parse_statement_file(ofx_investment_xml(), name="broker.ofx")
    stmt = sf.statements[0]
    assert stmt.account.type == "investment"
    assert [(t.amount, t.counterparty) for t in stmt.transactions] == [(D("6000.00"), "Deposit")]
    kinds = [(i.kind, i.security, i.units, i.cash) for i in stmt.investments]
    assert kinds == [("buy", "ISIN:US0000000001", D("100"), D("-5025.00")),
                     ("dividend", "ISIN:US0000000001", None, D("42.00")),
                     ("reinvest", "ISIN:US0000000002", D("0.5"), D("0.00"))]
    assert stmt.investments[0].fees == D("25.00")
    assert [(p.security, p.units, p.market_value) for p in stmt.positions] == [
        ("ISIN:US0000000001", D("200"), D("9900.00")),
        ("ISIN:US0000000002", D("10.5"), D("262.50"))]
    # Cash: +6000 deposit - 5025 buy + 42 dividend = 1017, the file's AVAILCASH.
    assert stmt.closing_balance == D("1017.00")
    cash = sum(t.amount for t in stmt.transactions) + sum(i.cash for i in stmt.investments)
    assert cash == stmt.closing_balance
    assert {s.key: (s.ticker, s.type) for s in sf.securities} == {
        "ISIN:US0000000001": ("ACME", "stock"), "ISIN:US0000000002": ("WIDX", "fund")}
    assert check_balance(stmt).status == "unverified"  # no opening balance in OFX
