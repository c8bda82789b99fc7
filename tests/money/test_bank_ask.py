"""Money questions: the deterministic parser/answers and the LLM tools, against PostgreSQL."""

from __future__ import annotations

import re
import time
from datetime import date
from decimal import Decimal

import pytest

from app.money.ask import answer_money_question, markers, money_tools
from app.money.nlq import parse_money_question
from ingest.money.mt940 import parse_mt940
from tests.support.statements_seed import store_file
from tests.support.statements_synth import Acct, Tx, mt940, random_history

D = Decimal


def history() -> list[Tx]:
    txs = random_history(start=date(2025, 1, 1), days=425, seed=3)
    txs = [t if not (t.payee == "Netflix" and t.day >= date(2026, 2, 1))
           else Tx(t.day, D("-15.99"), "Netflix", "Abo") for t in txs]
    txs += [Tx(date(2026, 1, 29), D("-249.00"), "IKEA", "Regal"),
            Tx(date(2026, 1, 30), D("-249.00"), "IKEA", "Regal")]
    return sorted(txs, key=lambda t: t.day)


@pytest.fixture(scope="module")
def txs() -> list[Tx]:
    return history()


@pytest.fixture
def seeded(clean_db, txs):
    with clean_db.session() as s:
        store_file(s, parse_mt940(mt940([Acct("DE89370400440532013000", txs)]), name="g.sta"),
                   origin="/home/me/bank/giro.sta")
        store_file(s, parse_mt940(mt940([Acct("US99", [
            Tx(date(2026, 1, 20), D("-30.00"), "Trader Joe's", "food")], currency="USD")]),
            name="u.sta"), origin="/home/me/bank/usd.sta")
    return clean_db


def test_parser_understands_english_and_german() -> None:
    today = date(2026, 11, 25)
    q = parse_money_question("How much did I spend on groceries in March?", today=today)
    assert q is not None and (q.intent, q.filter.category, q.filter.direction) == (
        "sum", "groceries", "out")
    assert (q.filter.date_from, q.filter.date_to) == (date(2026, 3, 1), date(2026, 3, 31))
    q = parse_money_question("Wie oft war ich letzten Monat bei Lidl einkaufen?", today=today,
                             merchants=["lidl"])
    assert q is not None and (q.intent, q.filter.counterparty) == ("count", "lidl")
    assert q.filter.date_from == date(2026, 10, 1)
    q = parse_money_question("Zeige alle Ausgaben über 200 € im September", today=today)
    assert q is not None and q.intent == "list" and q.filter.min_amount == D("200")
    assert q.filter.currency == "EUR"
    q = parse_money_question("Show me all expenses from last month that were unusual",
                             today=today)
    assert q is not None and q.intent == "unusual"
    q = parse_money_question("Which subscription got more expensive?", today=today)
    assert q is not None and q.intent == "recurring"
    assert parse_money_question("What is the notice period of my gym contract?",
                                today=today) is None


def test_sum_answer_is_exact_and_cites_rows(seeded, txs) -> None:
    with seeded.session() as s:
        result = answer_money_question("How much did I spend on groceries in January 2026?", s,
                                       today=date(2026, 3, 1))
    assert result is not None
    from ingest.money.categories import categorise

    expected = -sum(t.amount for t in txs if t.day.year == 2026 and t.day.month == 1
                    and t.amount < 0 and (categorise(t.payee, t.memo, t.amount) or ("",))[0]
                    == "groceries")
    count = sum(1 for t in txs if t.day.year == 2026 and t.day.month == 1 and t.amount < 0
                and (categorise(t.payee, t.memo, t.amount) or ("",))[0] == "groceries")
    assert f"Spent {expected:,.2f} EUR in {count} transactions" in result.answer
    # Trader Joe's (USD) is groceries too: reported apart, never added to the euros
    assert "Spent 30.00 USD in 1 transaction " in result.answer
    assert len(result.citations) == count + 1
    assert re.search(r"\[\d+-\d+\]", result.answer)
    for c in result.citations:
        assert c.citable.path.startswith("/home/me/bank/") and c.citable.location["line"] > 0
        assert c.citable.kind == "transaction"
    assert result.notice and "no language model" in result.notice


def test_unusual_last_month_lists_flags_with_citations(seeded) -> None:
    with seeded.session() as s:
        result = answer_money_question("Show me all expenses from last month that were unusual",
                                       s, today=date(2026, 2, 15))
    assert result is not None
    assert "Possible double charge: IKEA 249.00 EUR" in result.answer
    ikea = [c for c in result.citations if "IKEA" in c.citable.text]
    assert len(ikea) == 2


def test_subscription_price_rise_and_multi_currency(seeded) -> None:
    with seeded.session() as s:
        rise = answer_money_question("Which subscription got more expensive?", s,
                                     today=date(2026, 3, 10))
        both = answer_money_question("How much did I spend in January 2026?", s,
                                     today=date(2026, 3, 1))
        german = answer_money_question("Welche Abos sind teurer geworden?", s,
                                       today=date(2026, 3, 10))
    assert rise is not None and "Netflix (monthly) rose from 12.99 EUR to 15.99 EUR (+23%)" \
        in rise.answer
    assert german is not None and "Netflix" in german.answer
    assert both is not None and "not added together" in both.answer
    assert "30.00 USD" in both.answer and " EUR in " in both.answer


def test_not_money_and_empty_database(clean_db) -> None:
    with clean_db.session() as s:
        assert answer_money_question("Who wrote the rental contract?", s,
                                     today=date(2026, 1, 1)) is None
        empty = answer_money_question("How much did I spend last month?", s,
                                      today=date(2026, 1, 1))
    assert empty is not None and "can't answer money questions yet" in empty.answer
    assert not empty.citations


def test_markers() -> None:
    assert markers([1, 2, 3, 7, 9, 10]) == "[1-3][7][9][10]"
    assert markers([]) == ""


def test_llm_tool_loop_sums_in_code_and_cites_rows(seeded, openai_stub) -> None:
    from app.answer.tools import CitationSpace, LoopState, tool_loop
    from app.core.config import LLMEndpoint
    from app.llm.client import OpenAIChatClient
    from tests.openai_stub import ToolCall, tool_messages, tool_then_answer

    openai_stub.reply_with(tool_then_answer(
        [ToolCall("sum_transactions", {"period": "2026-01", "category": "groceries",
                                       "direction": "out"}),
         ToolCall("group_transactions", {"period": "2026-01", "by": "nonsense"})],
        lambda req: "Groceries in January: see the total [1]."))
    client = OpenAIChatClient(LLMEndpoint(base_url=openai_stub.base_url, model="m",
                                          api_key=None, timeout=10))
    with seeded.session() as s:
        tools = money_tools(s, today=date(2026, 3, 1))
        assert {t.name for t in tools} >= {"sum_transactions", "list_transactions",
                                           "unusual_spending", "recurring_charges"}
        space = CitationSpace()
        state = LoopState()
        items = list(tool_loop(client, [{"role": "user", "content": "groceries?"}], tools=tools,
                               space=space, deadline=time.monotonic() + 20, stream=False,
                               state=state))
    assert [t.ok for t in state.traces] == [True, False]
    assert "by must be one of" in (state.traces[1].error or "")
    second = openai_stub.chat_requests[1]
    result_msg = tool_messages(second)[0]["content"]
    assert re.search(r"Spent [\d,]+\.\d\d EUR in \d+ transactions", result_msg)
    assert "[1-" in result_msg
    cited = space.by_number()[1]
    assert cited.kind == "transaction" and cited.path == "/home/me/bank/giro.sta"
    assert items[-1].answer.startswith("Groceries in January")
