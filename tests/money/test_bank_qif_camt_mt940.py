"""QIF (bank, card, investment, splits, opening balance, date order), CAMT.052/053/054 (status,
batches, dedup across message types) and MT940/MT942 dialects, on generated files that copy
the quirks of real ones."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from app.core.errors import CorruptDocumentError
from ingest.money import parse_statement_file
from ingest.money.balance import check_balance
from ingest.money.mt940 import parse_mt940
from ingest.money.qif import parse_qif
from tests.money.quirks import qif_investment
from tests.support.statements_synth import Acct, Tx, camt053, mt940


def _txs() -> list[Tx]:
    return [Tx(date(2024, 3, 5), D("-12.50"), "Bakery", "Brot", ref="R1"),
            Tx(date(2024, 3, 6), D("1500.00"), "Employer", "Salary", ref="R2"),
            Tx(date(2024, 3, 7), D("-40.00"), "Grocer", "Food", ref="R3")]


# -- QIF -----------------------------------------------------------------------------------------
def test_qif_bank_and_investment_accounts_with_splits_and_opening_balance() -> None:
    sf = parse_qif(qif_investment(), name="money.qif")
    bank, broker = sf.statements
    assert bank.account.identifier == "Checking" and broker.account.identifier == "Broker"
    # The opening-balance record is the statement's opening balance, not a transaction.
    assert bank.opening_balance == D("1000.00")
    assert [(t.booking_date.isoformat(), t.amount) for t in bank.transactions] == [
        ("2024-03-05", D("-80.00")), ("2024-03-25", D("2500.00"))]
    assert "split: Food:Groceries -60.00; Household -20.00" in bank.transactions[0].description
    assert "dates read as day/month (a first part over 12 decides it)" in sf.warnings
    kinds = [(i.kind, i.units, i.cash) for i in broker.investments]
    assert kinds == [("buy", D("10"), D("-501.00")), ("dividend", None, D("4.20")),
                     ("reinvest", D("0.5"), D("0.00")),
                     ("sell", D("-5"), D("0.00"))]  # SellX: the cash went to [Checking]
    assert [(t.amount, t.counterparty) for t in broker.transactions] == [(D("-100.00"),
                                                                         "Checking")]
    assert {s.name for s in sf.securities} == {"Acme Corp", "World Index"}


@pytest.mark.parametrize("dates, order", [
    (["12/19/18", "12/20/18"], "month/day (a second part over 12"),
    (["19.12.18", "20.12.18"], "day/month (a first part over 12"),
    (["03.11.25", "04.11.25"], "day/month (European dates"),
    (["3/11/2025", "4/11/2025", "5/2/2025"], "month/day (the only reading"),
])
def test_qif_date_order_is_decided_per_file_and_stated(dates: list[str], order: str) -> None:
    body = "".join(f"D{d}\nT-1.00\nPX\n^\n" for d in dates)
    sf = parse_qif(f"!Type:CCard\n{body}".encode(), name="c.qif")
    assert any(order in w for w in sf.warnings)
    assert sf.statements[0].account.type == "credit"


def test_qif_dates_that_contradict_each_other_fail() -> None:
    with pytest.raises(CorruptDocumentError, match="neither day/month nor month/day"):
        parse_qif(b"!Type:Bank\nD13/01/2024\nT-1\n^\nD01/13/2024\nT-2\n^\n", name="x.qif")


# -- CAMT ----------------------------------------------------------------------------------------
def _camt(kind: str, txs: list[Tx], **kw) -> bytes:  # type: ignore[no-untyped-def]
    data = camt053([Acct("DE89370400440532013000", txs, **kw)])
    if kind == "053":
        return data
    body, item = {"052": (b"BkToCstmrAcctRpt", b"Rpt"), "054": (b"BkToCstmrDbtCdtNtfctn",
                                                                 b"Ntfctn")}[kind]
    return (data.replace(b"camt.053.001.08", b"camt." + kind.encode() + b".001.08")
            .replace(b"BkToCstmrStmt", body).replace(b"<Stmt>", b"<" + item + b">")
            .replace(b"</Stmt>", b"</" + item + b">"))


@pytest.mark.parametrize("version", ["001.02", "001.04", "001.06", "001.08", "001.13"])
@pytest.mark.parametrize("kind", ["052", "053", "054"])
def test_camt_every_message_and_version(kind: str, version: str) -> None:
    data = _camt(kind, _txs()).replace(b".001.08", b"." + version.encode())
    sf = parse_statement_file(data, name=f"c{kind}.xml")
    assert sf.format == f"camt{kind}"
    assert [t.amount for t in sf.statements[0].transactions] == [D("-12.50"), D("1500.00"),
                                                                 D("-40.00")]


def test_camt_without_namespace_is_recognised_by_its_message_element() -> None:
    data = _camt("053", _txs()).replace(
        b' xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"', b"")
    assert parse_statement_file(data, name="plain.xml").transaction_count == 3


def test_camt_batch_entry_is_split_when_its_parts_add_up() -> None:
    data = _camt("053", _txs()[:1]).replace(
        b"<NtryDtls><TxDtls>",
        b"<NtryDtls><Btch><NbOfTxs>2</NbOfTxs></Btch><TxDtls><AmtDtls><TxAmt>"
        b'<Amt Ccy="EUR">10.00</Amt></TxAmt></AmtDtls><RltdPties><Cdtr><Nm>Gym</Nm></Cdtr>'
        b"</RltdPties></TxDtls><TxDtls><AmtDtls><TxAmt><Amt Ccy=\"EUR\">2.50</Amt></TxAmt>"
        b"</AmtDtls>")
    stmt = parse_statement_file(data, name="batch.xml").statements[0]
    assert [(t.amount, t.counterparty, t.bank_id) for t in stmt.transactions] == [
        (D("-10.00"), "Gym", "R1/1"), (D("-2.50"), "Bakery", "R1/2")]
    broken = data.replace(b">2.50<", b">2.00<")  # parts no longer add up: the entry stays one
    assert [t.amount for t in parse_statement_file(broken, name="b.xml").statements[0]
            .transactions] == [D("-12.50")]


# -- MT940 / MT942 -------------------------------------------------------------------------------
def _sta() -> str:
    return mt940([Acct("0532013000", _txs(), opening=D("100.00"))]).decode("cp1252")


def test_mt940_blank_entry_date_and_funds_code_are_read() -> None:
    text = _sta().replace(":61:2403050305D12,50", ":61:240305    DR12,50").replace(
        ":61:2403060306C1500,00", ":61:2403060306CR1500,00")
    stmt = parse_mt940(text.encode("cp1252"), name="x.sta").statements[0]
    # "DR": debit in EUR (funds code R), not a reversal; "CR" likewise a credit
    assert [t.amount for t in stmt.transactions] == [D("-12.50"), D("1500.00"), D("-40.00")]
    assert check_balance(stmt).status == "ok"


def test_mt940_february_30_is_flagged_not_shifted() -> None:
    text = _sta().replace(":61:2403050305D", ":61:2402300230D")
    sf = parse_mt940(text.encode("cp1252"), name="feb.sta")
    tx = sf.statements[0].transactions[0]
    assert tx.raw_date == "240230" and tx.value_date == date(2024, 2, 29)
    assert any("240230" in w and "flagged" in w for w in sf.warnings)


def test_mt940_eight_bit_text_is_decoded() -> None:
    text = _sta().replace("Bakery", "Pekárna Žižkov")
    stmt = parse_mt940(text.encode("cp1250"), name="cz.sta").statements[0]
    assert stmt.transactions[0].counterparty == "Pekárna Žižkov"


def test_mt942_interim_report_checks_against_its_own_totals() -> None:
    report = (":20:ST240305\n:25:PL29114010810000267002001002\n:28C:1/1\n:34F:PLN0\n"
              ":13D:2403051815+0100\n:61:2403050305CN10,00NTRFNONREF//MB1\n:86:Salary\n"
              ":61:2403050305DN2,50NTRFNONREF//MB2\n:86:Coffee\n"
              ":90D:1PLN2,50\n:90C:1PLN10,00\n-\n")
    sf = parse_statement_file(report.encode(), name="interim.sta")
    stmt = sf.statements[0]
    assert sf.format == "mt942" and [t.amount for t in stmt.transactions] == [D("10.00"),
                                                                              D("-2.50")]
    assert check_balance(stmt).status == "ok"
    wrong = report.replace(":90C:1PLN10,00", ":90C:1PLN11,00")
    assert check_balance(parse_statement_file(wrong.encode(), name="w.sta")
                         .statements[0]).status == "mismatch"
