"""Follow-up rewriting without a database: the deterministic carry-over (English and German,
payee / period / category / account / amounts, topic changes, document follow-ups), the state a
turn leaves as JSON, and the LLM rewrite through the real chat client against the loopback stub
(its prompt, its JSON reply, and the fallback when the reply or the server fails)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from app.money.followup import TurnState, carry_over, is_followup
from app.money.rewrite import (
    ANSWER_EXCERPT,
    PastTurn,
    parse_reply,
    render_history,
    rewrite_question,
)
from tests.openai_stub import OpenAIStub, Reply, chat_text

TODAY = date(2026, 11, 20)
MERCHANTS = ["rewe", "aldi süd", "bäckerei korn"]


def conversation(*questions: str, cited: tuple[int, ...] = ()) -> list:
    """Each question rewritten against the ones before it; returns the rewrites."""
    states: list[TurnState] = []
    out = []
    for q in questions:
        r = carry_over(q, states, today=TODAY, merchants=MERCHANTS, categories=["groceries"])
        out.append(r)
        states.append(r.state(cited))
    return out


def money(r) -> dict:
    return r.to_json()["money"]


def test_payee_then_period_then_amount_carry_over():
    first, second, third = conversation("How much did I spend at Rewe in September 2026?",
                                        "and in August?", "which of those were over 70 euros?")
    assert first.mode == "first" and money(first)["payee"] == "rewe"
    assert second.mode == "carry-over" and money(second)["intent"] == "sum"
    assert (money(second)["payee"], money(second)["date_from"], money(second)["date_to"]) == (
        "rewe", "2026-08-01", "2026-08-31")
    assert money(third) | {"min_amount": "70"} == money(third)
    assert money(third)["intent"] == "list" and money(third)["date_from"] == "2026-08-01"
    assert "period 2026-08" in third.carried and "payee rewe" in third.carried
    assert third.standalone.startswith("Which transactions: spending matching 'rewe' from "
                                       "2026-08-01 to 2026-08-31 of at least 70")


def test_german_follow_ups():
    _, second, third = conversation("Wie viel habe ich im September 2026 bei Rewe ausgegeben?",
                                    "und im Oktober?", "welche davon waren über 70 Euro?")
    assert money(second)["date_from"] == "2026-10-01" and money(second)["payee"] == "rewe"
    assert money(third)["intent"] == "list" and money(third)["min_amount"] == "70"


def test_a_new_payee_replaces_the_old_one_and_keeps_the_period():
    _, aldi = conversation("How much did I spend at Rewe in September 2026?", "what about Aldi?")
    assert money(aldi)["payee"] == "Aldi" and money(aldi)["date_from"] == "2026-09-01"
    _, grocery_count = conversation("How much did I spend on groceries in October 2026?",
                                    "how many of those were at Aldi?")
    m = money(grocery_count)
    assert (m["intent"], m["category"], m["payee"]) == ("count", "groceries", "Aldi")


def test_the_account_is_read_and_carried():
    first, second = conversation("How much did I spend on the ING account in September 2026?",
                                 "and in October?")
    assert money(first)["account"] == "ING" and money(first)["payee"] is None
    assert money(second)["account"] == "ING" and money(second)["date_from"] == "2026-10-01"


def test_a_standalone_question_starts_over():
    _, this_month = conversation("How much did I spend at Rewe in September 2026?",
                                 "How much did I spend on groceries this month?")
    assert this_month.mode == "standalone" and money(this_month)["payee"] is None
    assert not is_followup("How much did I spend on groceries this month?", today=TODAY)
    assert is_followup("and in October?", today=TODAY)


def test_document_follow_up_keeps_the_topic_and_the_cited_documents():
    _, follow = conversation("What is the notice period of the gym membership?",
                             "when does that contract end?", cited=(4, 9))
    assert follow.mode == "carry-over" and follow.documents == (4, 9)
    assert follow.standalone == ("when does that contract end? (about: What is the notice "
                                 "period of the gym membership?)")
    assert follow.money is None
    # After a money turn, a question about a contract is not a money follow-up.
    _, contract = conversation("How much did I spend at Rewe in September 2026?",
                               "when does that contract end?")
    assert contract.mode == "standalone" and contract.money is None


def test_state_round_trips_through_json():
    _, second = conversation("How much did I spend at Rewe in September 2026?", "and in August?")
    state = second.state([7, 7, 8])
    again = TurnState.from_json(json.loads(json.dumps(state.to_json())))
    assert again == state and again.documents == (7, 8)
    assert TurnState.from_json({"money": {"intent": "sum", "date_from": "not a date"}},
                               question="q").money is None


def test_history_is_rendered_with_filters_and_bounded_answers():
    states = conversation("How much did I spend at Rewe in September 2026?", "and in August?")
    turns = [PastTurn(question=r.question, answer="x " * 1000, state=r.state([]))
             for r in states]
    text = render_history(turns)
    assert "Turn 2\nQuestion: and in August?\nUnderstood as: How much in total" in text
    assert "Money filters: How much in total: spending matching 'rewe' from 2026-08-01" in text
    assert all(len(line) <= ANSWER_EXCERPT + 10 for line in text.splitlines())


@pytest.mark.parametrize(("reply", "message"), [
    ("no json here", "not a JSON object"),
    ('{"standalone": ', "not a JSON object"),
    ('{"standalone": "x", }', "not valid JSON"),
    ('{"question": "x"}', "no standalone question"),
])
def test_unusable_replies_are_refused(reply, message):
    with pytest.raises(ValueError, match=message):
        parse_reply(reply)
    assert parse_reply('Sure: {"standalone": " a  b ", "same_documents": true}') == ("a b", True)


def _client(stub: OpenAIStub):
    from app.core.config import load_settings
    from app.llm.client import make_chat_client

    return make_chat_client(load_settings(llm_base_url=stub.base_url, llm_timeout=5.0,
                                          _env_file=None))


def test_llm_rewrite_through_the_stub_and_its_fallback():
    states = conversation("How much did I spend at Rewe in September 2026?")
    turns = [PastTurn(question=states[0].question, answer="Spent 207.70 EUR [1-3].",
                      state=states[0].state([]))]
    with OpenAIStub(Reply('{"standalone": "How much did I spend at Rewe in August 2026?", '
                          '"same_documents": false}')) as stub:
        chat = _client(stub)
        r = rewrite_question("and in August?", turns, chat=chat, today=TODAY,
                             merchants=MERCHANTS)
        request = stub.last_chat
        chat.close()
    assert r.mode == "llm" and r.standalone == "How much did I spend at Rewe in August 2026?"
    assert money(r)["date_from"] == "2026-08-01" and money(r)["payee"] == "rewe"
    assert "New question: and in August?" in chat_text(request)
    assert "Money filters: How much in total: spending matching 'rewe' from 2026-09-01" in (
        chat_text(request))
    assert request["temperature"] == 0.0
    with OpenAIStub(Reply("I think you mean August.")) as stub:
        chat = _client(stub)
        r = rewrite_question("and in August?", turns, chat=chat, today=TODAY,
                             merchants=MERCHANTS)
        chat.close()
    assert r.mode == "carry-over" and "not a JSON object" in r.notice
    assert money(r)["date_from"] == "2026-08-01"
    with OpenAIStub(Reply(status=503)) as stub:
        chat = _client(stub)
        r = rewrite_question("and in August?", turns, chat=chat, today=TODAY,
                             merchants=MERCHANTS)
        chat.close()
    assert r.mode == "carry-over" and "without the language model" in r.notice
