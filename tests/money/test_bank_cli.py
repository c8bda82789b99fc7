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
    rows = json.loads(out)
    assert [r["amount"] for r in rows] == ["-249.00", "-249.00"]
    for r in rows:
        assert {"id", "date", "amount", "currency", "counterparty", "description", "account",
                "source"} <= set(r)
        assert r["source"]["path"] == "/home/me/bank/giro.sta" and r["source"]["line"] > 0
        assert r["currency"] == "EUR" and r["account"].endswith("3000")
    code, out = run("tx", "list", "--currency", "usd", "--json")
    [row] = json.loads(out)
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
    assert code == 2 and "'abc' is not a number" in out


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
    assert code == 1 and "2026-W47" in out
    code, out = run("tx", "statements", "--json")
    assert code == 0 and len(json.loads(out)) == 2
