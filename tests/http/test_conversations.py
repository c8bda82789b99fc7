"""Conversations with follow-ups on the sample household (real database): a three-turn money
conversation whose third question only makes sense with the first two, answered without an LLM
(filters carried over) and with the loopback stub as the LLM (it rewrites from the history
homerag gives it and calls the money tools); a document follow-up; storage through the API
(list, read, Markdown export, delete) and the CLI."""

# ruff: noqa: F811
from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from click.testing import CliRunner

from app.services.ask import ask_turn

# The household fixtures are shared with tests/mcp; tests name them as parameters.
from tests.mcp.household import household, make_runtime, serve_app  # noqa: F401
from tests.openai_stub import (
    OpenAIStub,
    Reply,
    ToolCall,
    chat_text,
    offered_numbers,
    tool_messages,
)

TODAY = date(2026, 11, 20)
TURNS = ("How much did I spend at Rewe in September 2026?", "and in August?",
         "which of those were over 70 euros?")
MONTHS = {"august": 8, "september": 9, "october": 10}


def rewe_rows(rt: Any, *, month: int, minimum: str | None = None) -> set[int]:
    """The expected transactions, read through the money service (not through a conversation)."""
    from app.services.money import TransactionFilterInput, list_transactions

    page = list_transactions(rt, TransactionFilterInput(payee="Rewe", period=f"2026-{month:02d}",
                                                        min_amount=minimum, direction="out"))
    return {r.id for r in page.rows}


def cited_ids(result: Any) -> set[int]:
    return {c.citable.location["transaction_id"] for c in result.citations
            if c.citable.kind == "transaction"}


def test_three_turns_without_an_llm_carry_payee_then_period(make_runtime):
    rt = make_runtime()
    conv = None
    results = []
    for question in TURNS:
        result, rewrite, stored = ask_turn(rt, question, conversation_id=conv, today=TODAY,
                                           origin="cli")
        conv = stored["id"]
        results.append((result, rewrite))
    (first, _), (second, r2), (third, r3) = results
    assert cited_ids(first) == rewe_rows(rt, month=9)
    assert r2["mode"] == "carry-over" and "payee rewe" in [c.lower() for c in r2["carried"]]
    assert cited_ids(second) == rewe_rows(rt, month=8)
    from app.services.money import TransactionFilterInput, sum_transactions

    august = sum_transactions(rt, TransactionFilterInput(payee="Rewe", period="2026-08",
                                                         direction="out")).totals[0].total
    assert f"{abs(august):,.2f} EUR" in second.answer
    expected = rewe_rows(rt, month=8, minimum="70")
    assert len(expected) == 2 and expected < rewe_rows(rt, month=8)
    assert r3["money"]["intent"] == "list" and r3["money"]["min_amount"] == "70"
    assert r3["money"]["date_from"] == "2026-08-01" and r3["money"]["payee"].lower() == "rewe"
    assert cited_ids(third) == expected
    # Asked on its own, the third question finds no transactions to list.
    alone, _, _ = ask_turn(rt, TURNS[2], today=TODAY, store=False)
    assert not any(c.citable.kind == "transaction" for c in alone.citations)


_FILTERS = re.compile(r"Money filters: .*?matching '([^']+)' from (\S+) to (\S+)")


def _dates(text: str) -> tuple[str, str] | None:
    m = re.search(r"from (\d{4}-\d{2}-\d{2}) to (\d{4}-\d{2}-\d{2})", text)
    if m:
        return m.group(1), m.group(2)
    m = re.search(r"\b(" + "|".join(MONTHS) + r")\b(?: (\d{4}))?", text, re.IGNORECASE)
    if not m:
        return None
    month, year = MONTHS[m.group(1).lower()], int(m.group(2) or 2026)
    last = (date(year, month + 1, 1) - date(year, month, 1)).days
    return f"{year}-{month:02d}-01", f"{year}-{month:02d}-{last}"


def scripted_llm(request: dict[str, Any]) -> Reply:
    """A model that reads what homerag gives it: the rewrite from the history's filter lines,
    then (when homerag offers the money tools) a tool call from the standalone question, and an
    answer citing the rows it was given."""
    text = chat_text(request)
    if "You rewrite follow-up questions" in request["messages"][0]["content"]:
        question = text.rsplit("New question:", 1)[1].split("\n")[0]
        payee, start, end = _FILTERS.findall(text)[-1]
        start, end = _dates(question) or (start, end)
        over = re.search(r"over (\d+)", question)
        if over:
            standalone = f"Which transactions at {payee} from {start} to {end} were over " \
                         f"{over.group(1)} euros?"
        else:
            standalone = f"How much did I spend at {payee} from {start} to {end}?"
        return Reply(f'{{"standalone": "{standalone}", "same_documents": false}}')
    if not request.get("tools"):  # homerag computed the figures itself: cite its rows
        numbers = offered_numbers(request)
        return Reply("These are the payments " + "".join(f"[{n}]" for n in numbers) + ".")
    results = tool_messages(request)
    if not results:
        question = text.rsplit("Question:", 1)[1].split("\n")[0]
        payee = re.search(r"\bat (\w+)", question).group(1)
        start, end = _dates(question)
        args = {"counterparty": payee, "date_from": start, "date_to": end, "direction": "out"}
        over = re.search(r"over (\d+)", question)
        if over:
            args["min_amount"] = over.group(1)
        name = "list_transactions" if question.startswith("Which") else "sum_transactions"
        return Reply(tool_calls=[ToolCall(name, args)])
    numbers = sorted({int(n) for m in results for n in re.findall(r'<source id="(\d+)"',
                                                                    m["content"])})
    return Reply("These are the payments " + "".join(f"[{n}]" for n in numbers) + ".")


def test_three_turns_with_the_llm_rewriting_from_the_history(make_runtime):
    with OpenAIStub(scripted_llm) as stub:
        rt = make_runtime(llm_base_url=stub.base_url, llm_timeout=20.0)
        conv = None
        outcome = []
        for question in TURNS:
            result, rewrite, stored = ask_turn(rt, question, conversation_id=conv, today=TODAY)
            conv = stored["id"]
            outcome.append((result, rewrite))
        rewrites = [r for r in stub.chat_requests
                    if "You rewrite follow-up" in r["messages"][0]["content"]]
    assert len(rewrites) == 2  # the first question needs none
    history = chat_text(rewrites[-1])
    assert "and in August?" in history and "matching 'rewe' from 2026-08-01 to 2026-08-31" in (
        history.lower())
    (first, _), (second, r2), (third, r3) = outcome
    assert r2["mode"] == "llm" and r3["mode"] == "llm"
    assert r3["standalone"] == ("Which transactions at rewe from 2026-08-01 to 2026-08-31 were "
                                "over 70 euros?")
    assert first.mode == third.mode == "llm"
    assert cited_ids(first) == rewe_rows(rt, month=9)
    assert cited_ids(second) == rewe_rows(rt, month=8)
    assert cited_ids(third) == rewe_rows(rt, month=8, minimum="70")


def test_rewrite_falls_back_to_carry_over_when_the_llm_fails(make_runtime):
    with OpenAIStub(Reply(status=500)) as stub:
        rt = make_runtime(llm_base_url=stub.base_url, llm_timeout=5.0)
        _, _, stored = ask_turn(rt, TURNS[0], today=TODAY, chat=None)
        result, rewrite, _ = ask_turn(rt, TURNS[1], conversation_id=stored["id"], today=TODAY,
                                      chat=None)
        assert rewrite["mode"] == "carry-over" and not stub.chat_requests
        result, rewrite, _ = ask_turn(rt, TURNS[2], conversation_id=stored["id"], today=TODAY)
    assert rewrite["mode"] == "carry-over"
    assert "rewritten without the language model" in rewrite["notice"]
    assert result.mode == "retrieval-only"  # the answering LLM fails the same way
    assert rewrite["money"]["date_from"] == "2026-08-01"


def test_document_follow_up_searches_the_cited_contract(make_runtime):
    rt = make_runtime()
    first, _, stored = ask_turn(rt, "What is the notice period of the gym membership?",
                                today=TODAY)
    cited = list(dict.fromkeys(c.citable.document_id for c in first.citations))
    gym = first.citations[0].citable
    assert gym.path.endswith("fitlife-gym-membership.pdf")
    second, rewrite, _ = ask_turn(rt, "when does that contract end?",
                                  conversation_id=stored["id"], today=TODAY)
    assert rewrite["documents"] == cited  # retrieval-only: every offered passage is cited
    assert "gym membership" in rewrite["standalone"]
    assert second.citations[0].citable.document_id == gym.document_id
    assert {c.citable.document_id for c in second.citations} <= set(cited)


@pytest.fixture
def conversation(make_runtime) -> tuple[Any, int]:
    rt = make_runtime(public_url="http://homerag.local:8000")
    _, _, stored = ask_turn(rt, TURNS[0], today=TODAY)
    ask_turn(rt, TURNS[1], conversation_id=stored["id"], today=TODAY)
    return rt, stored["id"]


def test_conversations_are_listed_read_exported_and_deleted_through_the_api(
        conversation, serve_app):
    import httpx

    rt, conv = conversation
    base = serve_app(rt)
    listed = httpx.get(f"{base}/api/conversations").json()
    mine = next(c for c in listed if c["id"] == conv)
    assert mine["turns"] == 2 and mine["title"] == TURNS[0] and mine["origin"] == "web"
    full = httpx.get(f"{base}/api/conversations/{conv}").json()
    assert [t["question"] for t in full["turns"]] == list(TURNS[:2])
    link = full["turns"][1]["citations"][0]["url"]
    assert re.fullmatch(r"http://homerag\.local:8000/documents/\d+\?row=\d+#passage", link)
    md = httpx.get(f"{base}/api/conversations/{conv}/markdown").text
    assert md.startswith(f"# {TURNS[0]}\n")
    assert "## 2. and in August?" in md and "> Understood as: How much in total" in md
    assert "- **[1]** [ing-girokonto-2026-08-to-11.csv, row " in md and f"]({link})" in md
    follow = httpx.post(f"{base}/api/conversations/ask", timeout=60,
                        json={"question": TURNS[2], "conversation_id": conv}).json()
    assert follow["conversation"] == {"id": conv, "turn": 3}
    assert follow["rewrite"]["money"]["min_amount"] == "70"
    assert httpx.delete(f"{base}/api/conversations/{conv}").status_code == 204
    gone = httpx.get(f"{base}/api/conversations/{conv}")
    assert gone.status_code == 404 and "does not exist" in gone.json()["detail"]


def test_cli_lists_shows_exports_and_deletes(conversation, settings, tmp_path):
    from app.cli import cli

    _rt, conv = conversation
    run = CliRunner().invoke
    out = run(cli, ["conversations", "list"])
    assert out.exit_code == 0 and f"{conv}" in out.output and TURNS[0] in out.output
    out = run(cli, ["conversations", "show", str(conv)])
    assert out.exit_code == 0 and "## 2. and in August?" in out.output
    target = tmp_path / "conv.md"
    out = run(cli, ["conversations", "export", str(conv), "-o", str(target)])
    assert out.exit_code == 0 and target.read_text().startswith(f"# {TURNS[0]}")
    assert run(cli, ["conversations", "delete", str(conv)]).exit_code == 0
    out = run(cli, ["conversations", "show", str(conv)])
    assert out.exit_code == 1 and f"conversation {conv} does not exist" in out.output
