"""The transactions table and the rules editor on the sample household's bank statement:
filters, sort, totals per currency, the statement-row link, CSV export (streamed, every match,
formula-safe), the category edited in a row, "always for this payee" adding a rule to the
owner's categories.toml and re-categorising that payee's other rows, and the rules editor."""

from __future__ import annotations

import csv
import html
import io
import tomllib
from pathlib import Path


def _tx(client, **params) -> dict:
    r = client.get("/api/transactions", params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    return r.json()


def test_table_filters_sort_totals_and_statement_links(hh_client, tmp_path: Path):
    client = hh_client(category_rules_file=tmp_path / "categories.toml")
    page = client.get("/transactions", params={"period": "2026-10", "direction": "out"})
    assert page.status_code == 200
    october = _tx(client, period="2026-10", direction="out")
    assert page.text.count('<tr id="tx-') == october["count"] == 16
    # Totals per currency: spent over the filtered rows, exact.
    spent = sum(-float(t["amount"]) for t in october["transactions"])
    assert f'<td class="num">{spent:.2f}</td>' in page.text
    # Each row links to its statement row.
    first = october["transactions"][0]
    assert f'href="/documents/{first["source"]["document_id"]}?row={first["source"]["row"]}"' \
        in page.text
    # Sorted by amount (largest spending first): rent before the bakery.
    by_amount = client.get("/transactions", params={"period": "2026-10", "order": "amount"})
    assert by_amount.text.index("Hausverwaltung") < by_amount.text.index("Bäckerei Korn")
    payee = client.get("/transactions", params={"payee": "streamflix"})
    assert payee.text.count('<tr id="tx-') == 4
    rng = client.get("/transactions", params={"min": "600", "max": "700"})
    assert rng.text.count('<tr id="tx-') == 1 and "Elektro Blitz Online" in rng.text
    bad = client.get("/transactions", params={"min": "lots"})
    assert bad.status_code == 400
    assert "min: 'lots' is not a number" in html.unescape(bad.text)
    empty = client.get("/transactions", params={"period": "2025-01"})
    assert "No transactions match." in empty.text


def test_csv_export_has_every_matching_row(hh_client, tmp_path: Path):
    client = hh_client(category_rules_file=tmp_path / "categories.toml")
    r = client.get("/transactions.csv", params={"payee": "rewe"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    expected = _tx(client, payee="rewe")
    assert [int(x["id"]) for x in rows] == [t["id"] for t in expected["transactions"]]
    assert {x["payee"] for x in rows} == {"Rewe"}
    assert all(x["row"] and x["document_id"] for x in rows)
    assert rows[0]["amount"] == expected["transactions"][0]["amount"]
    bad = client.get("/transactions.csv", params={"period": "someday"})
    assert bad.status_code == 400


def test_edit_then_always_for_this_payee_makes_a_rule(hh_client, tmp_path: Path):
    rules_file = tmp_path / "categories.toml"
    client = hh_client(category_rules_file=rules_file)
    bakery = _tx(client, payee="Bäckerei Korn")["transactions"]
    assert len(bakery) == 10 and {t["category"] for t in bakery} == {None}
    one, other = bakery[0]["id"], bakery[1]["id"]
    # A plain edit changes only that row.
    r = client.post(f"/transactions/{one}/category",
                    data={"category": "Treats", "back": "/transactions?payee=korn"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/transactions?payee=korn&saved={one}#tx-{one}"
    after = {t["id"]: t["category"] for t in _tx(client, payee="Bäckerei Korn")["transactions"]}
    assert after[one] == "treats" and after[other] is None
    assert not rules_file.exists()
    # "Always for this payee": a rule in the owner's file, every other row re-categorised.
    r = client.post(f"/transactions/{other}/category",
                    data={"category": "bakery", "always": "1",
                          "back": "https://evil.example/transactions"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/transactions?saved=")  # no open redirect
    rules = tomllib.loads(rules_file.read_text())["rule"]
    assert rules == [{"category": "bakery", "match": ["bäckerei korn"], "direction": "out"}]
    after = {t["id"]: t["category"] for t in _tx(client, payee="Bäckerei Korn")["transactions"]}
    assert after[one] == "treats"  # set by hand: rules never change it
    assert all(c == "bakery" for i, c in after.items() if i != one)
    page = client.get(r.headers["location"].split("#")[0])
    assert "8 other transactions re-categorised" in html.unescape(page.text)
    # The rules page lists it; removing it re-categorises back.
    rules_page = client.get("/rules")
    assert "<code>bäckerei korn</code>" in rules_page.text
    r = client.post("/rules/1/delete", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/rules?done=removed&changed=8"
    after = {t["id"]: t["category"] for t in _tx(client, payee="Bäckerei Korn")["transactions"]}
    assert after[other] == "bakery"  # the row edited with "always" was set by hand too
    assert sum(1 for c in after.values() if c is None) == 8
    assert (tmp_path / "categories.toml.bak").exists()
    client.post(f"/transactions/{one}/category", data={"category": ""})
    client.post(f"/transactions/{other}/category", data={"category": ""})


def test_rules_editor_adds_and_refuses_mistakes(hh_client, tmp_path: Path):
    rules_file = tmp_path / "categories.toml"
    client = hh_client(category_rules_file=rules_file)
    r = client.post("/rules/add", data={"category": "parking", "match": "parkhaus\n",
                                        "direction": "out", "max_amount": "20"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/rules?done=added&changed=2"
    parking = _tx(client, category="parking")["transactions"]
    assert {t["counterparty"] for t in parking} == {"Parkhaus Zentrum"} and len(parking) == 2
    bad = client.post("/rules/add", data={"category": "x", "match": "re:([a-z"})
    assert bad.status_code == 400
    assert "match: 're:([a-z' is not a valid regex" in html.unescape(bad.text)
    assert 'value="x"' in bad.text  # the form comes back filled in
    nomatch = client.post("/rules/add", data={"category": "x", "match": "  "})
    assert nomatch.status_code == 400
    assert "match: give at least one payee text" in html.unescape(nomatch.text)
    assert len(tomllib.loads(rules_file.read_text())["rule"]) == 1
    assert client.post("/rules/9/delete").status_code == 404
    r = client.post("/rules/1/delete", follow_redirects=False)
    assert r.headers["location"] == "/rules?done=removed&changed=2"
    assert _tx(client, category="parking")["count"] == 0
