"""Money JSON API and the /reports pages through the real app factory (TestClient, real DB)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from app.cli import cli
from app.services.runtime import Runtime
from ingest.money.mt940 import parse_mt940
from tests.support.statements_seed import store_file
from tests.support.statements_synth import Acct, Tx, mt940, random_history

D = Decimal


@pytest.fixture
def client(clean_db, settings):
    from app.http.app import create_app

    txs = random_history(start=date(2025, 6, 1), days=250, seed=5)
    txs += [Tx(date(2026, 1, 29), D("-249.00"), "IKEA <b>Möbel</b>", "Regal"),
            Tx(date(2026, 1, 30), D("-249.00"), "IKEA <b>Möbel</b>", "Regal")]
    txs.sort(key=lambda t: t.day)
    with clean_db.session() as s:
        store_file(s, parse_mt940(mt940([Acct("DE89370400440532013000", txs,
                                              closing=D("1.00"))]), name="g.sta"),
                   origin="/home/me/bank/giro.sta")
    ctx = Runtime(settings=settings, db=clean_db)
    with TestClient(create_app(runtime=ctx), base_url="http://localhost",
                    raise_server_exceptions=False) as c:
        yield c


def test_transactions_endpoints(client) -> None:
    r = client.get("/api/transactions", params={"payee": "ikea", "period": "2026-W05"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == 2
    tx = body["transactions"][0]
    assert tx["amount"] == "-249.00" and tx["source"]["path"] == "/home/me/bank/giro.sta"
    one = client.get(f"/api/transactions/{tx['id']}").json()
    assert one["occurrences"][0]["line"] == tx["source"]["line"]
    totals = client.get("/api/transactions/sum", params={"period": "2026-01",
                                                         "direction": "out"}).json()["totals"]
    assert totals[0]["currency"] == "EUR" and Decimal(totals[0]["total"]) < 0
    groups = client.get("/api/transactions/groups", params={"by": "month"}).json()["groups"]
    assert {g["key"] for g in groups} >= {"2025-06", "2026-01"}
    assert client.get("/api/transactions", params={"min": "x"}).status_code == 400
    assert client.get("/api/transactions/999999").status_code == 404
    problems = client.get("/api/statements", params={"problems": "true"}).json()
    assert len(problems) == 1 and problems[0]["balance_status"] == "mismatch"
    unusual = client.get("/api/money/unusual", params={"period": "2026-W05"}).json()
    assert any(f["kind"] == "double_charge" for f in unusual["flags"])


def test_reports_api_and_pages(client) -> None:
    built = client.post("/api/reports/spending", params={"week": "2026-W05"})
    assert built.status_code == 200, built.text
    report_id = built.json()["id"]
    listed = client.get("/api/reports").json()
    assert [r["period"] for r in listed] == ["2026-W05"] and listed[0]["flags"] >= 1
    assert client.get(f"/api/reports/{report_id}").json()["content"]["period"] == "2026-W05"
    page = client.get("/reports")
    assert page.status_code == 200 and "2026-W05" in page.text and 'href="/reports"' in page.text
    view = client.get(f"/reports/{report_id}")
    assert view.status_code == 200
    assert view.text.count('src="data:image/png;base64,') == 3
    assert "IKEA &lt;b&gt;Möbel&lt;/b&gt;" in view.text and "<b>Möbel</b>" not in view.text
    form = client.post("/reports/build", data={"period": "2026-01"}, follow_redirects=False)
    assert form.status_code == 303 and form.headers["location"].startswith("/reports/")
    bad = client.post("/reports/build", data={"period": "soon"})
    assert bad.status_code == 400


def test_money_question_box_and_transaction_page(client) -> None:
    page = client.get("/reports", params={"q": "Show me all expenses from 2026-01 that were "
                                                "unusual"})
    assert page.status_code == 200
    assert "Possible double charge" in page.text
    assert 'href="/reports/transactions/' in page.text
    tx_id = int(page.text.split('href="/reports/transactions/')[1].split('"')[0])
    tx = client.get(f"/reports/transactions/{tx_id}")
    assert tx.status_code == 200 and "/home/me/bank/giro.sta" in tx.text and "line" in tx.text
    other = client.get("/reports", params={"q": "who signed the lease?"})
    assert "does not look like a money question" in other.text


def test_set_category_by_hand(client) -> None:
    tx = client.get("/api/transactions", params={"limit": 1}).json()["transactions"][0]
    r = client.patch(f"/api/transactions/{tx['id']}", json={"category": "Household"})
    assert r.status_code == 200 and r.json()["category"] == "household"
    assert client.patch("/api/transactions/999999", json={"category": "x"}).status_code == 404


@pytest.mark.parametrize(("args", "path", "params"), [
    (["tx", "statements"], "/api/statements", {}),
    (["tx", "statements", "--problems"], "/api/statements", {"problems": "true"}),
    (["tx", "list", "--payee", "ikea", "--period", "2026-W05"], "/api/transactions",
     {"payee": "ikea", "period": "2026-W05"}),
    (["tx", "list", "--limit", "5", "--offset", "3", "--order", "amount", "--min", "10,5"],
     "/api/transactions", {"limit": 5, "offset": 3, "order": "amount", "min": "10,5"}),
    (["tx", "sum", "--period", "2026-01", "--direction", "out"], "/api/transactions/sum",
     {"period": "2026-01", "direction": "out"}),
    (["tx", "sum", "--from", "2025-07-01", "--to", "2025-07-31", "--currency", "eur"],
     "/api/transactions/sum", {"from": "2025-07-01", "to": "2025-07-31", "currency": "eur"}),
    (["tx", "top", "--by", "category", "--period", "2026-01"], "/api/transactions/groups",
     {"by": "category", "period": "2026-01"}),
])
def test_cli_json_and_api_give_the_same_shapes(client, args, path, params) -> None:
    result = CliRunner().invoke(cli, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    from_cli = json.loads(result.output)
    from_api = client.get(path, params=params)
    assert from_api.status_code == 200, from_api.text
    assert from_cli == from_api.json()
    items = from_cli if isinstance(from_cli, list) else (
        from_cli.get("transactions") or from_cli.get("totals") or from_cli.get("groups"))
    assert items  # something to compare, not two empty lists


def test_category_rules_endpoint(client) -> None:
    rules = client.get("/api/categories/rules").json()
    assert rules[0]["source"] == "builtin" and rules[0]["category"] == "groceries"
    bad_order = client.get("/api/transactions", params={"order": "size"})
    assert bad_order.status_code == 400 and "order" in bad_order.text
    bad_period = client.get("/api/transactions", params={"period": "soon"})
    assert bad_period.status_code == 400 and "period: cannot read 'soon'" in bad_period.text
