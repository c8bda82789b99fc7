"""Holdings through every entry point: `homerag holdings`, /api/holdings, the money page's
holdings section, the LLM tools (over real loopback HTTP with the stub model) and
`homerag tx profile` — the same figures and sources everywhere."""

from __future__ import annotations

import json
import re
import time
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from app.cli import cli
from app.services.runtime import Runtime
from ingest.money import parse_statement_file
from tests.money.quirks import ofx_investment_xml
from tests.support.statements_seed import store_file

DATA = Path(__file__).resolve().parents[1] / "data" / "bank"


@pytest.fixture
def invested_db(clean_db, settings):
    with clean_db.session() as s:
        store_file(s, parse_statement_file(ofx_investment_xml(), name="broker.ofx"),
                   origin="/home/me/broker/2024-03.ofx")
        store_file(s, parse_statement_file((DATA / "ofxparse_vanguard_inv.ofx").read_bytes(),
                                           name="vanguard.ofx"),
                   origin="/home/me/broker/vanguard.ofx")
    return clean_db


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_cli_holdings_and_views(invested_db) -> None:
    code, out = run("holdings", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["totals"] == {"USD": "34642.22"}  # 9900 + 262.50 + 10200.0 + 14279.72 = 34642.22
    acme = next(p for p in data["positions"] if p["ticker"] == "ACME")
    assert acme["units"] == "200" and acme["source"]["path"] == "/home/me/broker/2024-03.ofx"
    code, out = run("holdings", "--at", "2020-01-01")
    assert code == 0 and "Total market value: 24479.72 USD" in out
    code, out = run("holdings", "invested", "--security", "acme", "--json")
    assert json.loads(out)["totals"] == {"USD": "5025.00"}
    code, out = run("holdings", "income", "--from", "2024-01-01")
    assert "Dividends received: 54.50 USD (2 transactions)" in out
    code, out = run("holdings", "--at", "yesterday")
    assert code == 2 and "--at must be a date" in out


def test_api_and_money_page_give_the_same_figures(invested_db, settings) -> None:
    from app.http.app import create_app

    rt = Runtime(settings=settings, db=invested_db)
    with TestClient(create_app(runtime=rt), base_url="http://localhost",
                    raise_server_exceptions=False) as c:
        api = c.get("/api/holdings").json()
        _, out = run("holdings", "--json")
        assert api == json.loads(out)
        assert c.get("/api/holdings/cash", params={"from": "2024-01-01"}).json()["totals"] == {
            "USD": "-4983.00"}
        assert c.get("/api/holdings/nonsense").status_code == 400
        page = c.get("/reports")
        assert page.status_code == 200
        html = page.text
        assert 'id="holdings"' in html and "Acme Corp (ACME)" in html and "34642.22 USD" in html
        assert "/home/me/broker/2024-03.ofx" in html


def test_llm_holdings_tools_compute_and_cite(invested_db, openai_stub) -> None:
    from app.answer.tools import CitationSpace, LoopState, tool_loop
    from app.core.config import LLMEndpoint
    from app.llm.client import OpenAIChatClient
    from app.money.ask import money_tools
    from tests.openai_stub import ToolCall, tool_messages, tool_then_answer

    openai_stub.reply_with(tool_then_answer(
        [ToolCall("portfolio_value", {}), ToolCall("invested_in_security",
                                                   {"security": "ACME", "date_from": "2024-01-01"}),
         ToolCall("income_received", {"date_from": "2024-01-01", "kind": "nonsense"})],
        lambda req: "Your portfolio is worth 34642.22 USD [1]."))
    client = OpenAIChatClient(LLMEndpoint(base_url=openai_stub.base_url, model="m",
                                          api_key=None, timeout=10))
    with invested_db.session() as s:
        tools = money_tools(s, today=date(2024, 4, 1))
        assert {"portfolio_value", "invested_in_security", "income_received"} <= {
            t.name for t in tools}
        space, state = CitationSpace(), LoopState()
        list(tool_loop(client, [{"role": "user", "content": "worth?"}], tools=tools,
                       space=space, deadline=time.monotonic() + 20, stream=False, state=state))
    assert [t.ok for t in state.traces] == [True, True, False]
    results = [m["content"] for m in tool_messages(openai_stub.chat_requests[1])]
    assert "Portfolio value: 34642.22 USD" in results[0]  # each account at its latest date
    assert "Invested: 5025.00 USD over 1 transaction(s)" in results[1]
    assert re.search(r"\[\d+\]", results[0])
    cited = space.by_number()[1]
    assert cited.kind == "investment" and cited.path.startswith("/home/me/broker/")


def test_tx_profile_prints_a_stanza_or_one_line_error(tmp_path) -> None:
    code, out = run("tx", "profile", str(DATA / "bank2ynab_kbc_mastercard_be.csv"))
    assert code == 0 and out.startswith("[[profile]]") and 'amount = ["bedrag"]' in out
    plain = tmp_path / "notes.csv"
    plain.write_text("name,colour\nalice,blue\n")
    result = CliRunner().invoke(cli, ["tx", "profile", str(plain)])
    assert result.exit_code == 1 and "no row holds a date and an amount" in result.output
    assert len(result.output.strip().splitlines()) == 1
