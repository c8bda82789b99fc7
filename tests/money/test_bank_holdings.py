"""Investments through the real pipeline and database: securities, holdings and investment
transactions stored with citations, deduplicated across files, removed with their file; the
holdings queries (portfolio value at a date, money invested, dividends, cash flows) in SQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

from sqlalchemy import func, select

from app.core.models.money import Holding, InvestmentOccurrence, InvestmentTransaction, Security
from app.money.holdings import cash_flows, income_received, invested, portfolio
from tests.money.quirks import broker_csv_signed, broker_csv_unsigned, ofx_investment_xml

DATA = Path(__file__).resolve().parents[1] / "data" / "bank"


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)))


def test_ofx_investments_are_stored_and_answer_the_holdings_questions(bank_run, folder,
                                                                      clean_db) -> None:
    (folder / "broker-2024-03.ofx").write_bytes(ofx_investment_xml())
    (folder / "vanguard.ofx").write_bytes((DATA / "ofxparse_vanguard_inv.ofx").read_bytes())
    report = bank_run(folder)
    assert report.counts["indexed"] == 2, report.problems
    with clean_db.session() as s:
        worth = portfolio(s)
        assert worth.totals == {"USD": D("9900.00") + D("262.50") + D("10200.0")
                                + D("14279.72")}
        acme = next(p for p in worth.positions if p.ticker == "ACME")
        assert (acme.units, acme.market_value, acme.as_of) == (D("200"), D("9900.00"),
                                                               date(2024, 3, 31))
        assert acme.cite.origin.endswith("broker-2024-03.ofx") and acme.cite.line
        assert portfolio(s, at=date(2024, 1, 1)).totals == {"USD": D("24479.72")}  # 2011 only
        assert portfolio(s, security="WIDX").totals == {"USD": D("262.50")}
        spent = invested(s, security="ACME", date_from=date(2024, 1, 1),
                         date_to=date(2024, 12, 31))
        assert spent.totals == {"USD": D("5025.00")} and len(spent.rows) == 1
        divs = income_received(s, date_from=date(2024, 1, 1))
        # the cash dividend of ACME and the dividend reinvested into WIDX
        assert divs.totals == {"USD": D("42.00") + D("12.50")}
        assert [r.kind for r in divs.rows] == ["dividend", "reinvest"]
        flows = cash_flows(s, date_from=date(2024, 1, 1))
        assert flows.totals == {"USD": D("-4983.00")}  # -5025 buy + 42 dividend
        sec = s.scalar(select(Security).where(Security.ticker == "ACME"))
        assert sec is not None and (sec.isin, sec.name, sec.type) == ("US0000000001",
                                                                     "Acme Corp", "stock")


def test_an_overlapping_file_adds_occurrences_not_rows_and_removal_keeps_the_rest(
        bank_run, folder, clean_db) -> None:
    (folder / "a.ofx").write_bytes(ofx_investment_xml())
    bank_run(folder)
    assert _count(clean_db, InvestmentTransaction) == 3
    (folder / "copy.ofx").write_bytes(ofx_investment_xml())
    bank_run(folder)
    assert _count(clean_db, InvestmentTransaction) == 3
    assert _count(clean_db, InvestmentOccurrence) == 6
    assert _count(clean_db, Holding) == 4  # holdings belong to each file
    (folder / "a.ofx").unlink()
    bank_run(folder)
    assert _count(clean_db, InvestmentTransaction) == 3 and _count(clean_db, Holding) == 2
    with clean_db.session() as s:
        origins = {o for (o,) in s.execute(select(InvestmentTransaction.document_id))}
        assert len(origins) == 1  # re-pointed to the remaining file
    (folder / "copy.ofx").unlink()
    bank_run(folder)
    assert _count(clean_db, InvestmentTransaction) == 0 and _count(clean_db, Holding) == 0


def test_broker_csv_exports_signed_and_unsigned(bank_run, folder, clean_db) -> None:
    (folder / "schwab.csv").write_bytes(broker_csv_signed())
    (folder / "revolut.csv").write_bytes(broker_csv_unsigned())
    report = bank_run(folder)
    assert report.counts["indexed"] == 2, report.problems
    with clean_db.session() as s:
        rows = s.execute(select(InvestmentTransaction.kind, InvestmentTransaction.cash_amount,
                                InvestmentTransaction.currency)
                         .order_by(InvestmentTransaction.trade_date,
                                   InvestmentTransaction.id)).all()
    usd = [(k, c) for k, c, ccy in rows if ccy == "USD"]
    eur = [(k, c) for k, c, ccy in rows if ccy == "EUR"]
    assert usd == [("buy", D("-501.00")), ("dividend", D("4.20")), ("dividend", D("12.50")),
                   ("buy", D("-12.50")), ("split", D("0.00")), ("interest", D("0.37")),
                   ("sell", D("299.00"))]
    # Totals printed positive: the action gives the sign (buy out, sale and dividend in).
    assert eur == [("buy", D("-200.00")), ("dividend", D("1.50")), ("sell", D("120.00")),
                   ("fee", D("-0.50"))]
