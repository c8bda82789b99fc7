"""The MCP `holdings` tool over streamable HTTP against investment statements stored in the real
database (a synthetic OFX investment statement and ofxparse's Vanguard fixture, beside the
sample household): positions, money invested and dividends, each row linked to its statement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "bank"


@pytest.fixture
def invested(household) -> None:
    from ingest.money import parse_statement_file
    from tests.money.quirks import ofx_investment_xml
    from tests.support.statements_seed import store_file

    db, _ = household
    with db.session() as s:
        store_file(s, parse_statement_file(ofx_investment_xml(), name="broker.ofx"),
                   origin="/home/me/broker/2024-03.ofx")
        store_file(s, parse_statement_file((DATA / "ofxparse_vanguard_inv.ofx").read_bytes(),
                                           name="vanguard.ofx"),
                   origin="/home/me/broker/vanguard.ofx")


def test_holdings_tool_gives_positions_and_flows_with_their_statements(invested, make_runtime,
                                                                       serve_app):
    from mcp import Client

    base = serve_app(make_runtime(public_url="http://127.0.0.1:8000"))

    async def call(client: Any, args: dict[str, Any]) -> dict[str, Any]:
        result = await client.call_tool("holdings", args)
        assert not result.is_error, result.content
        return result.structured_content

    async def main() -> tuple[dict[str, Any], ...]:
        async with Client(f"{base}/mcp", read_timeout_seconds=60) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert tools["holdings"].input_schema["properties"]["view"]["enum"] == [
                "positions", "invested", "income", "cash"]
            positions = await call(client, {})
            invested_acme = await call(client, {"view": "invested", "security": "acme"})
            income = await call(client, {"view": "income", "date_from": "2024-01-01"})
            bad = await client.call_tool("holdings", {"at": "yesterday"})
            assert bad.is_error and "must be a date" in bad.content[0].text
            return positions, invested_acme, income

    positions, invested_acme, income = anyio.run(main)
    assert positions["view"] == "positions" and positions["totals"] == {"USD": "34642.22"}
    acme = next(p for p in positions["positions"] if p["ticker"] == "ACME")
    assert acme["units"] == "200" and acme["source"]["path"] == "/home/me/broker/2024-03.ofx"
    assert acme["url"].startswith(
        f"http://127.0.0.1:8000/documents/{acme['source']['document_id']}")
    assert invested_acme["totals"] == {"USD": "5025.00"}
    assert income["totals"] == {"USD": "54.50"} and len(income["rows"]) == 2
    assert all(r["url"] and "/documents/" in r["url"] for r in income["rows"])
