"""`homerag tx ...` and `homerag report spending` through click, against the test database."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner

from app.cli import cli
from ingest.money.csvparse import parse_csv
from ingest.money.csvprofiles import CsvOptions
from ingest.money.mt940 import parse_mt940
from tests.support.statements_seed import store_file
from tests.support.statements_synth import Acct, Tx, csv_signed, mt940, random_history

D = Decimal


@pytest.fixture
def seeded(clean_db, settings):
    txs = random_history(start=date(2025, 6, 1), days=250, seed=5)
    txs += [Tx(date(2026, 1, 29), D("-249.00"), "IKEA", "Regal"),
            Tx(date(2026, 1, 30), D("-249.00"), "IKEA", "Regal")]
    txs.sort(key=lambda t: t.day)
    with clean_db.session() as s:
        store_file(s, parse_mt940(mt940([Acct("DE89370400440532013000", txs)]), name="g.sta"),
                   origin="/home/me/bank/giro.sta")
        csv = parse_csv(csv_signed([Tx(date(2026, 1, 20), D("-30.00"), "Trader Joe's", "food")]),
                        name="us.csv", options=CsvOptions())
        store_file(s, csv, origin="/home/me/bank/us.csv")
    return clean_db


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_tx_list_json_has_the_stable_fields(seeded) -> None:
    code, out = run("tx", "list", "--payee", "ikea", "--period", "2026-W05", "--json")
    assert code == 0, out
    page = json.loads(out)
    assert page["count"] == 2 and "matching 'ikea'" in page["filter"]
    rows = page["transactions"]
    assert [r["amount"] for r in rows] == ["-249.00", "-249.00"]
    for r in rows:
        assert {"id", "date", "amount", "currency", "counterparty", "description", "account",
                "source"} <= set(r)
        assert r["source"]["path"] == "/home/me/bank/giro.sta" and r["source"]["line"] > 0
        assert r["currency"] == "EUR" and r["account"].endswith("3000")
    code, out = run("tx", "list", "--currency", "usd", "--json")
    [row] = json.loads(out)["transactions"]
    assert row["source"] == {"document_id": row["source"]["document_id"],
                             "path": "/home/me/bank/us.csv", "row": 2}


def test_tx_sum_per_currency_and_top(seeded) -> None:
    code, out = run("tx", "sum", "--period", "2026-01", "--direction", "out", "--json")
    assert code == 0, out
    totals = {t["currency"]: t for t in json.loads(out)["totals"]}
    assert set(totals) == {"EUR", "USD"}
    assert totals["USD"]["total"] == "-30.00"
    code, out = run("tx", "top", "--period", "2026-01", "--by", "category", "--json")
    groups = json.loads(out)["groups"]
    assert groups and all(Decimal(g["total"]) < 0 for g in groups)
    code, out = run("tx", "list", "--min", "abc")
    assert code == 2 and "min: 'abc' is not a number" in out
    code, out = run("tx", "sum", "--period", "someday")
    assert code == 2 and "period: cannot read 'someday'" in out
    code, out = run("tx", "list", "--limit", "2", "--order", "amount")
    assert code == 0 and "next page: --offset 2" in out and out.count("\n") == 5


def test_report_spending_formats(seeded) -> None:
    code, out = run("report", "spending", "--week", "2026-W05", "--json")
    assert code == 0, out
    content = json.loads(out)
    assert content["period"] == "2026-W05"
    assert any(f["kind"] == "double_charge" for f in content["flags"])
    code, md = run("report", "spending", "--week", "2026-W05", "--markdown", "--no-store")
    assert code == 0 and md.startswith("# Weekly spending report 2026-W05")
    code, html = run("report", "spending", "--month", "2026-01", "--html")
    assert code == 0 and "<img" in html and "Monthly spending report 2026-01" in html
    code, out = run("report", "spending", "--week", "2026-53x")
    assert code == 2 and "2026-W47" in out
    code, out = run("report", "spending", "--week", "2026-W05", "--month", "2026-01")
    assert code == 2 and "not both" in out
    code, out = run("tx", "statements", "--json")
    assert code == 0 and len(json.loads(out)) == 2
    code, text = run("tx", "statements")
    assert code == 0 and "/home/me/bank/us.csv" in text and "balance" in text


def test_categorise_and_rules(seeded, settings) -> None:
    rules_file = settings.resolved_category_rules_file
    rules_file.write_text('[[rule]]\ncategory = "furniture"\nmatch = "ikea"\n', encoding="utf-8")
    code, out = run("tx", "rules", "--json")
    assert code == 0, out
    rules = json.loads(out)
    assert rules[0] == {"label": "categories.toml#1", "category": "furniture", "source": "owner",
                        "patterns": ["ikea"], "direction": None, "min_amount": None,
                        "max_amount": None}
    assert {r["source"] for r in rules[1:]} == {"builtin"}
    ikea = json.loads(run("tx", "list", "--payee", "ikea", "--json")[1])["count"]
    assert ikea >= 2
    code, out = run("tx", "categorise", "--json")
    assert code == 0 and json.loads(out) == {"changed": ikea, "suggested": {}}
    code, out = run("tx", "list", "--category", "furniture", "--json")
    assert json.loads(out)["count"] == ikea
    assert json.loads(run("tx", "categorise", "--json")[1])["changed"] == 0
    code, out = run("tx", "categorise", "--llm")
    assert code == 1 and "no LLM configured" in out


def test_filter_input_is_read_once_for_every_caller() -> None:
    from app.core.errors import InvalidInputError
    from app.services.money import TransactionFilterInput as In

    today = date(2026, 3, 18)  # a Wednesday
    f = In(date_from="2026-01-01", period="letzte Woche", min_amount=" 12,50 ", currency="usd",
           payee=" ", direction="out").resolve(today=today)
    assert (f.date_from, f.date_to) == (date(2026, 3, 9), date(2026, 3, 15))  # period wins
    assert (f.min_amount, f.currency, f.counterparty, f.direction) == (
        D("12.50"), "USD", None, "out")
    assert In(period="2026-W05").resolve(today=today).date_to == date(2026, 2, 1)
    assert In(period="2026-02").resolve(today=today).date_to == date(2026, 2, 28)
    for bad, message in [(In(date_to="1.2.2026"), "to: '1.2.2026' is not a date"),
                         (In(max_amount="ten"), "max: 'ten' is not a number"),
                         (In(direction="sideways"), "direction must be 'in' or 'out'"),
                         (In(period="2026-W60"), "2026-W60 is not an ISO week")]:
        with pytest.raises(InvalidInputError, match=message):
            bad.resolve(today=today)
