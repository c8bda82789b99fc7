"""Statement parsers on synthetic files in every format, plus the real-world dialect corpus."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from app.core.errors import CorruptDocumentError, EmptyDocumentError, UnsupportedFormatError
from ingest.money import parse_statement_file
from ingest.money.balance import check_balance
from ingest.money.camt import parse_camt053
from ingest.money.mt940 import parse_mt940
from ingest.money.ofx import parse_ofx
from ingest.money.pdfparse import parse_pdf_text
from tests.money.realworld import realworld_dir
from tests.support.statements_synth import Acct, Tx, camt053, mt940, ofx_sgml, ofx_xml

DATA = Path(__file__).resolve().parent.parent / "data" / "bank"
REALWORLD = realworld_dir() or Path("/nonexistent")

D = Decimal


def _txs() -> list[Tx]:
    return [
        Tx(date(2026, 2, 3), D("-4.50"), "Blue Bottle Coffee", "card 1234", ref="F1"),
        Tx(date(2026, 2, 3), D("-4.50"), "Blue Bottle Coffee", "card 1234", ref="F2"),
        Tx(date(2026, 2, 15), D("2500.00"), "ACME Payroll", "salary", ref="F3"),
        Tx(date(2026, 2, 20), D("-61.07"), "REWE Markt", "Einkauf", ref="F4"),
    ]


def test_ofx_sgml_multi_account_gives_one_statement_per_account() -> None:
    bank = Acct("1234567890", _txs(), currency="USD", bank_id="121000248")
    card = Acct("4111111111111111", [Tx(date(2026, 2, 10), D("-15.99"), "NETFLIX.COM",
                                         ref="C1")], card=True, currency="USD")
    sf = parse_ofx(ofx_sgml([bank, card]), name="two.ofx")
    assert [len(s.transactions) for s in sf.statements] == [4, 1]
    first, second = sf.statements
    assert first.account.identifier == "121000248/1234567890"
    assert second.account.type == "credit"
    assert second.account.masked == "************1111"
    assert [t.amount for t in first.transactions] == [D("-4.50"), D("-4.50"), D("2500.00"),
                                                      D("-61.07")]
    assert first.transactions[0].bank_id == "F1"
    assert first.closing_balance == D("1000.00") + sum(t.amount for t in _txs())
    # Every transaction cites the line of its <STMTTRN> in the file.
    lines = ofx_sgml([bank, card]).decode().splitlines()
    for tx in first.transactions + second.transactions:
        assert "<STMTTRN>" in lines[tx.location.line - 1]
        assert tx.bank_id in lines[tx.location.line - 1]


def test_ofx_xml_and_shipped_sample_parse() -> None:
    sf = parse_ofx(ofx_xml([Acct("998877", _txs())]), name="v2.ofx")
    assert sf.transaction_count == 4
    assert sf.statements[0].transactions[2].counterparty == "ACME Payroll"
    shipped = parse_ofx((DATA / "two_accounts.ofx").read_bytes(), name="two_accounts.ofx")
    assert [s.account.masked for s in shipped.statements] == ["****************7890",
                                                               "************1111"]


def test_ofx_truncated_and_bad_amount_are_clear_errors() -> None:
    data = ofx_sgml([Acct("1", _txs())])
    with pytest.raises(CorruptDocumentError, match="truncated"):
        parse_ofx(data[: len(data) // 2], name="cut.ofx")
    with pytest.raises(CorruptDocumentError, match=r"bad\.ofx line \d+: TRNAMT not an amount: '-4,5x'"):
        parse_ofx(data.replace(b"<TRNAMT>-4.50", b"<TRNAMT>-4,5x", 1), name="bad.ofx")
    with pytest.raises(UnsupportedFormatError):
        parse_ofx(b"hello", name="x.ofx")


def test_mt940_round_trip_with_balances_and_lines() -> None:
    acct = Acct("0532013000", _txs(), opening=D("100.00"))
    sf = parse_mt940(mt940([acct]), name="a.sta")
    stmt = sf.statements[0]
    assert stmt.opening_balance == D("100.00")
    assert check_balance(stmt).status == "ok"
    assert [t.counterparty for t in stmt.transactions][:1] == ["Blue Bottle Coffee"]
    assert stmt.transactions[0].bank_id is None  # "F1" is too short to be a unique bank id
    text = mt940([acct]).decode("cp1252").splitlines()
    assert all(text[t.location.line - 1].startswith(":61:") for t in stmt.transactions)


def test_mt940_mismatched_balance_is_reported_not_hidden() -> None:
    acct = Acct("0532013000", _txs(), opening=D("100.00"), closing=D("99999.00"))
    stmt = parse_mt940(mt940([acct]), name="a.sta").statements[0]
    check = check_balance(stmt)
    assert check.status == "mismatch"
    assert check.difference == D("99999.00") - (D("100.00") + sum(t.amount for t in _txs()))
    assert "differs" in (check.message or "")


def test_mt940_truncated_statement_is_a_clear_error() -> None:
    data = mt940([Acct("0532013000", _txs())])
    cut = data[: data.index(b":62F:")]
    with pytest.raises(CorruptDocumentError, match="without closing balance"):
        parse_mt940(cut, name="cut.sta")


def test_camt053_pending_entries_are_flagged_and_left_out_of_the_balance() -> None:
    txs = [*_txs(), Tx(date(2026, 2, 27), D("-9.99"), "Spotify", "abo", pending=True)]
    sf = parse_camt053(camt053([Acct("DE89370400440532013000", txs)]), name="c.xml")
    stmt = sf.statements[0]
    assert stmt.transactions[-1].pending is True
    assert check_balance(stmt).status == "ok"
    assert stmt.account.masked == "DE89**************3000"
    assert stmt.transactions[3].counterparty == "REWE Markt"  # the creditor of a debit


def test_camt052_report_is_read_with_its_pending_entries_marked() -> None:
    txs = _txs()
    txs[1] = Tx(txs[1].day, txs[1].amount, txs[1].payee, pending=True)
    data = (camt053([Acct("DE1", txs)]).replace(b"camt.053.001.08", b"camt.052.001.02")
            .replace(b"BkToCstmrStmt", b"BkToCstmrAcctRpt").replace(b"<Stmt>", b"<Rpt>")
            .replace(b"</Stmt>", b"</Rpt>"))
    sf = parse_statement_file(data, name="report.xml")
    assert sf.format == "camt052"
    assert [t.pending for t in sf.statements[0].transactions] == [i == 1 for i in range(len(txs))]
    # the pending row is kept, marked, and left out of the balance check
    assert check_balance(sf.statements[0]).status == "ok"
    with pytest.raises(UnsupportedFormatError, match=r"camt\.056"):
        parse_statement_file(data.replace(b"camt.052.001.02", b"camt.056.001.02"),
                             name="other.xml")


def test_pdf_text_profile_reads_lines_with_pages_and_balances() -> None:
    pages = [
        "Sparbank AG  Kontoauszug 2/2026\nIBAN DE89 3704 0044 0532 0130 00\n"
        "Alter Kontostand 1.000,00 EUR\n"
        "03.02.2026 03.02.2026 REWE Markt Berlin -45,10\nEinkauf vom 02.02.\n"
        "05.02.2026 Stadtwerke Strom -85,00\n",
        "15.02.2026 ACME GmbH 2.500,00\nGehalt Februar\nNeuer Kontostand 3.369,90 EUR\n",
    ]
    sf = parse_pdf_text(pages, name="auszug.pdf")
    stmt = sf.statements[0]
    assert [t.amount for t in stmt.transactions] == [D("-45.10"), D("-85.00"), D("2500.00")]
    assert [t.location.page for t in stmt.transactions] == [1, 1, 2]
    assert stmt.transactions[0].description == "Einkauf vom 02.02."
    assert stmt.account.identifier == "DE89370400440532013000"
    assert check_balance(stmt).status == "ok"


def test_pdf_that_is_not_a_statement_is_declined() -> None:
    with pytest.raises(UnsupportedFormatError):
        parse_pdf_text(["Minutes of the meeting\n03.02.2026 Budget approved 1.000,00"],
                       name="minutes.pdf")


def test_unknown_format_and_empty_csv() -> None:
    with pytest.raises(UnsupportedFormatError):
        parse_statement_file(b"\x00\x01binary", name="blob.bin")
    with pytest.raises(EmptyDocumentError):
        parse_statement_file(b"\n\n", name="empty.csv")


# -- the real-world corpus: every file parses or is refused with a reason --------------------
REALWORLD_EXPECTED = {
    "mt940_ASNB_0708271685_09022020_164516.940.txt": (31, 8),
    "mt940_betterplace_sepa_snippet.sta": (2, 11),
    "mt940_betterplace_with_binary_character.sta": (2, 4),
    "mt940_cmxl_mt940.sta": (3, 16),
    "mt940_jejik_abnamro.sta": (2, 10),
    "mt940_jejik_ing.sta": (1, 7),
    "mt940_jejik_postfinance.sta": (2, 4),
    "mt940_jejik_rabobank.sta": (4, 5),
    "mt940_jejik_triodos.sta": (1, 2),
    "mt940_mBank_mt940.sta": (1, 3),
    "mt940_sberbank_171011_01234945.sta": (1, 3),
    "mt940_self-provided_february_30.sta": (1, 1),
    "mt940_self-provided_raiffeisen-cmi.sta": (1, 7),
    "iso20022_camt053.xml": (1, 1),
    "iso20022_davider80.xml": (1, 16),
    "iso20022_gcamp6.xml": (1, 5),
}


@pytest.mark.skipif(not (REALWORLD / "statements").is_dir(), reason="shared corpus absent")
@pytest.mark.parametrize("name", sorted(REALWORLD_EXPECTED))
def test_realworld_statements_parse(name: str) -> None:
    sf = parse_statement_file((REALWORLD / "statements" / name).read_bytes(), name=name)
    assert (len(sf.statements), sf.transaction_count) == REALWORLD_EXPECTED[name]
    for stmt in sf.statements:
        assert (stmt.currency and len(stmt.currency) == 3) or name == "iso20022_gcamp6.xml"
        for tx in stmt.transactions:
            assert tx.location.line and tx.location.line > 0


@pytest.mark.skipif(not (REALWORLD / "statements").is_dir(), reason="shared corpus absent")
def test_realworld_dialect_details() -> None:
    def load(name: str):
        return parse_statement_file((REALWORLD / "statements" / name).read_bytes(), name=name)

    feb = load("mt940_self-provided_february_30.sta")
    tx = feb.statements[0].transactions[0]
    # Feb 30 is flagged and kept in February, never shifted silently into March.
    assert tx.raw_date == "160230" and tx.value_date == date(2016, 2, 29)
    assert tx.booking_date == date(2016, 3, 1)
    assert any("160230" in w for w in feb.warnings)
    hu = load("mt940_self-provided_raiffeisen-cmi.sta")
    assert "átutalás" in (hu.statements[0].transactions[0].description or "")
    sepa = load("mt940_betterplace_sepa_snippet.sta")
    assert sepa.statements[0].transactions[0].counterparty == "KARL KAUFMANN"
    assert "Verwendungszweck" in (sepa.statements[0].transactions[1].description or "")
    swiss = load("iso20022_davider80.xml")
    assert check_balance(swiss.statements[0]).status == "ok"
    abn = load("mt940_jejik_abnamro.sta")
    assert check_balance(abn.statements[0]).status == "mismatch"  # the sample really is off
    assert abn.statements[0].transactions[1].counterparty == "DIRCKIII FIL2500 KATWIJK"
    report = load("iso20022_camt052.xml")  # an intraday report: read, booked rows check out
    assert report.format == "camt052" and check_balance(report.statements[0]).status == "ok"
    bad = REALWORLD / "bad_inputs" / "upstream_mt940_february_30.sta"
    if bad.exists():
        assert load_bytes(bad).statements[0].transactions[0].raw_date == "160230"


def load_bytes(path: Path):
    return parse_statement_file(path.read_bytes(), name=path.name)
