"""`homerag contracts` and /api/contracts + /contracts page, against the test database."""

from __future__ import annotations

import json

from click.testing import CliRunner
from fastapi.testclient import TestClient

from app.cli import cli


def test_cli_contracts_json_and_text(contract_docs, settings) -> None:
    result = CliRunner().invoke(cli, ["contracts", "--json", "--today", "2025-10-15"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["refreshed"] == {"extracted": 2, "llm": 0, "rules": 2, "failed": []}
    assert [(d["title"], d["kind"], d["date"], d["days_left"]) for d in out["deadlines"]] == [
        ("Mietvertrag", "cancel_by", "2025-11-30", 46)]
    assert {c["title"]: c["method"] for c in out["contracts"]} == {
        "Mietvertrag": "rules", "SERVICE AGREEMENT": "rules"}
    text = CliRunner().invoke(cli, ["contracts", "--all", "--no-refresh", "--today",
                                    "2025-10-15"], catch_exceptions=False)
    assert text.exit_code == 0, text.output
    assert "2025-11-30 (46 days)  cancel by: Mietvertrag; renews 2026-03-01  [rules]" in text.output
    assert "mit einer Frist von drei Monaten" in text.output
    assert "parties: Acme Storage Ltd, Jane Doe" in text.output
    assert "19.99 USD monthly" in text.output


def test_cli_contracts_rejects_a_bad_date(settings) -> None:
    result = CliRunner().invoke(cli, ["contracts", "--today", "15.10.2025"])
    assert result.exit_code == 2 and "15.10.2025" in result.output


def test_api_and_page(contract_docs, settings, clean_db) -> None:
    from app.http.app import create_app
    from app.services.runtime import Runtime

    ctx = Runtime(settings=settings, db=clean_db)
    with TestClient(create_app(runtime=ctx), base_url="http://localhost",
                    raise_server_exceptions=False) as client:
        assert client.get("/api/contracts").json()["contracts"] == []
        refreshed = client.post("/api/contracts/refresh").json()
        assert refreshed["extracted"] == 2
        data = client.get("/api/contracts", params={"today": "2025-12-15", "days": 60}).json()
        assert [(d["title"], d["date"]) for d in data["deadlines"]] == [
            ("SERVICE AGREEMENT", "2026-01-29")]
        assert client.get("/api/contracts", params={"today": "soon"}).status_code == 400
        page = client.get("/contracts", params={"today": "2025-10-15"})
        assert page.status_code == 200
        assert "2025-11-30" in page.text and "Mietvertrag" in page.text
        assert "rule-based" in page.text and "Frist von drei Monaten" in page.text
        assert 'href="/contracts" aria-current="page"' in page.text


def test_cli_json_and_api_give_the_same_listing(contract_docs, rt) -> None:
    from app.http.app import create_app
    from app.services.contracts import refresh_contracts

    refresh_contracts(rt, chat=None)
    result = CliRunner().invoke(cli, ["contracts", "--json", "--no-refresh", "--today",
                                      "2025-10-15", "--days", "90"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with TestClient(create_app(runtime=rt), base_url="http://localhost",
                    raise_server_exceptions=False) as client:
        api = client.get("/api/contracts", params={"today": "2025-10-15", "days": 90}).json()
    listing = json.loads(result.output)
    assert listing == api
    assert len(listing["contracts"]) == 2 and listing["deadlines"]
