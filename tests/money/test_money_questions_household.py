"""Money questions on the demo household (app/sample/household), through the ask service: the
right rows answer them, without an LLM and with a stub model that never calls tools; filters that
match nothing fall back to the documents; figures the model made up are flagged."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from tests.http.household import household  # noqa: F401
from tests.openai_stub import OpenAIStub, Reply, chat_text

TODAY = date(2026, 11, 25)
STATEMENT = "ing-girokonto-2026-08-to-11.csv"


@pytest.fixture(scope="module")
def rt(household, pg_url):  # noqa: F811
    from tests.http.corpus import make_context, make_settings

    db, data_dir = household
    return make_context(db, make_settings(pg_url, data_dir))


@pytest.fixture(scope="module")
def stub():
    with OpenAIStub() as s:
        yield s


@pytest.fixture
def llm(stub):
    from app.core.config import LLMEndpoint
    from app.llm.client import OpenAIChatClient

    stub.requests.clear()
    return OpenAIChatClient(LLMEndpoint(base_url=stub.base_url, model="stub-model",
                                        api_key=None, timeout=20))


def ask(rt, question: str, chat: Any = None):
    from app.services.ask import ask as ask_service

    return ask_service(rt, question, chat=chat, today=TODAY)


def tx_rows(result) -> list[str]:
    return [c.citable.text for c in result.citations if c.citable.kind == "transaction"]


def test_electricity_back_payment_is_the_back_payment_row(rt) -> None:
    """The demo's Stadtwerke mail announces a back-payment of 86,40 EUR; the statement books it
    as 'Nachzahlung Jahresabrechnung' next to three monthly 'Abschlag Strom' rows."""
    for question in ("How much is the electricity back-payment?",
                     "Wie hoch ist die Nachzahlung für Strom?"):
        result = ask(rt, question)
        assert "86.40 EUR in 1 transaction" in result.answer, result.answer
        assert "71.00" not in result.answer  # not the monthly advance payments
        rows = tx_rows(result)
        assert len(rows) == 1 and "Nachzahlung Jahresabrechnung" in rows[0]
        cited = result.citations[0].citable
        assert cited.path.endswith(STATEMENT) and cited.location["row"] > 0
        assert "category utilities" in result.filters
        assert any(f.startswith(("text ~ ", "payee ~ ")) and "nachzahlung" in f.lower()
                   for f in result.filters), result.filters
        assert result.notice and "Filters:" in result.notice


@pytest.mark.parametrize(("question", "figure", "rows"), [
    ("How much did I spend on parking?", "Spent 25.00 EUR in 2 transactions", 2),
    ("What was the 649 EUR payment?", "2026-10-17 -649.00 EUR Elektro Blitz Online", 1),
    ("How much did I pay Stadtwerke in October 2026?", "Spent 71.00 EUR in 1 transaction", 1),
    ("How much did I spend at Bäckerei Korn in October 2026?",
     "Spent 168.06 EUR in 4 transactions", 4),
    ("Wie viel habe ich am 15.11.2026 bei Rewe bezahlt?", "Spent 81.08 EUR in 1 transaction", 1),
])
def test_demo_questions_answered_by_their_rows(rt, question: str, figure: str,
                                               rows: int) -> None:
    result = ask(rt, question)
    assert figure in result.answer, result.answer
    assert len(tx_rows(result)) == rows, tx_rows(result)


def test_no_matching_transaction_falls_back_to_the_documents(rt) -> None:
    result = ask(rt, "How much did I pay for the washing machine?")
    assert result.answer.startswith("No imported transaction matches (payee ~ washing machine")
    assert "answered from the documents" in (result.notice or "")
    assert result.citations and not tx_rows(result)
    assert any(c.citable.path.endswith("home-network-and-appliances.txt")
               for c in result.citations)


def _words_the_computed_result(request: dict[str, Any]) -> Reply:
    """A model that never calls tools: it repeats the first total of the computed block and
    cites the block and the first row."""
    text = chat_text(request)
    m = re.search(r'<source id="1" kind="computed"[^>]*>\n.*?(Spent|Received|Net) ([\d,.]+ \w+)',
                  text, re.S)
    figure = m.group(2) if m else "nothing"
    return Reply(f"You paid {figure} for it [1][2].")


def test_llm_only_words_the_computed_result(rt, stub, llm) -> None:
    stub.reply_with(_words_the_computed_result)
    result = ask(rt, "How much is the electricity back-payment?", chat=llm)
    request = stub.chat_requests[-1]
    assert "tools" not in request and "tool_choice" not in request
    assert result.mode == "llm" and result.answer == "You paid 86.40 EUR for it [1][2]."
    assert result.unverified_figures == ()
    assert "Nachzahlung Jahresabrechnung" in " ".join(tx_rows(result))
    assert result.notice and result.notice.startswith("Filters: ")
    assert "category utilities" in result.filters


def test_llm_figure_not_in_the_results_is_flagged(rt, stub, llm) -> None:
    stub.reply_with(Reply("The back-payment is 68,40 EUR [2], due on 15.11.2026."))
    result = ask(rt, "How much is the electricity back-payment?", chat=llm)
    assert result.unverified_figures == ("68,40 EUR",)
    assert "check them: 68,40 EUR" in (result.notice or "")
    assert result.to_json()["unverified_figures"] == ["68,40 EUR"]


def test_llm_no_match_answers_from_documents_without_tools(rt, stub, llm) -> None:
    stub.reply_with(lambda req: Reply("The note says it was bought at Elektro Blitz in 2024 "
                                      "[1]; it gives no price."))
    result = ask(rt, "How much did I pay for the washing machine?", chat=llm)
    request = stub.chat_requests[-1]
    assert "tools" not in request
    assert "Elektro Blitz" in chat_text(request)  # the note was offered
    assert result.mode == "llm" and "answered from the documents" in (result.notice or "")
    assert result.unverified_figures == ()


def test_llm_failure_still_gives_the_computed_answer(rt, stub, llm) -> None:
    stub.reply_with(Reply(status=500, error_message="GPU on fire"))
    result = ask(rt, "How much is the electricity back-payment?", chat=llm)
    assert "86.40 EUR in 1 transaction" in result.answer
    assert "GPU on fire" in (result.notice or "") and "Filters:" in (result.notice or "")
