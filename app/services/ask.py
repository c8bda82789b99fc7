"""Asking a question end to end, shared by the CLI, the API, the web form, MCP and /v1.

retrieve (hybrid search, filters) → answer (LLM with citations, or retrieval-only) → log.
Money questions get the transaction tools (with an LLM) or the deterministic money answerer
(without one) when the bank module is present. Each caller only formats the events.

`ask_turn_stream` answers one turn of a conversation: the follow-up is rewritten into a
standalone question first (the LLM when configured, else the previous turn's filters carried
over), answered like any question, and stored with its conversation.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from app.answer.citations import MARKER_RE, marker_numbers
from app.answer.service import stream_answer
from app.answer.types import AnswerEvent, AnswerResult
from app.retrieval.types import SearchFilters
from app.services.conversations import TurnEvent

__all__ = ["MARKER_RE", "AnswerEvent", "AnswerResult", "TurnEvent", "ask", "ask_stream",
           "ask_turn", "ask_turn_stream", "marker_numbers"]

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.llm.client import ChatClient
    from app.money.followup import Rewrite
    from app.money.nlq import MoneyQuery
    from app.money.rewrite import PastTurn
    from app.services.runtime import Runtime


def _money_routes(session: Session, question: str, *, chat: ChatClient | None,
                  today: date, money_query: MoneyQuery | None = None,
                  ) -> tuple[list[Any], AnswerResult | None]:
    """(tools for the LLM, a deterministic answer) for money questions; empty when unavailable.

    `money_query`: a query already read (a follow-up's carried filters), run as it is."""
    try:
        from app.money import ask as money
    except ImportError:  # the bank module is optional
        return [], None
    if chat is not None:
        return list(money.money_tools(session, today=today)), None
    if money_query is not None:
        from app.money.followup import answer_money_query

        return [], answer_money_query(session, money_query, today=today)
    return [], money.answer_money_question(question, session, today=today)


def _retriever(rt: Runtime, question: str, *, filters: SearchFilters | None,
               top_k: int | None, session: Session, documents: Sequence[int]) -> Any:
    """Retrieval for the answer: within `documents` first (a follow-up pointing back at them),
    everywhere when they hold nothing that matches."""
    from app.services.search import search_passages

    def retrieve() -> list[Any]:
        if documents:
            narrowed = replace(filters or SearchFilters(), document_ids=tuple(documents))
            hits = search_passages(rt, question, filters=narrowed, top_k=top_k, session=session)
            if hits:
                return hits
        return search_passages(rt, question, filters=filters, top_k=top_k, session=session)

    return retrieve


def ask_stream(rt: Runtime, question: str, *, filters: SearchFilters | None = None,
               top_k: int | None = None, chat: ChatClient | bool | None = True,
               today: date | None = None, stream: bool = True, documents: Sequence[int] = (),
               money_query: MoneyQuery | None = None) -> Iterator[AnswerEvent]:
    """Events of one answer (`sources`, `reasoning`, `answer`, `reset`, `tool`, `done`).

    `chat=True` uses the configured answering endpoint; None forces retrieval-only; a client
    object is used as given (tests). `documents`: search these first; `money_query`: without an
    LLM, answer this money query instead of parsing the question.
    """
    from app.answer.log import log_answer

    settings = rt.settings
    client: ChatClient | None = rt.chat_client("answer") if chat is True else (chat or None)
    today = today or date.today()
    with rt.db.session() as session:
        tools, direct = _money_routes(session, question, chat=client, today=today,
                                      money_query=money_query)
        if direct is not None:
            log_answer(session, direct, question)
            yield AnswerEvent("done", result=direct)
            return
        retrieve = _retriever(rt, question, filters=filters, top_k=top_k, session=session,
                              documents=documents)
        for event in stream_answer(question, hits=retrieve, chat=client, tools=tools,
                                   prompts_dir=settings.prompts_dir, today=today,
                                   timeout=settings.llm_timeout, stream=stream):
            if event.type == "done" and event.result is not None:
                log_answer(session, event.result, question)
            yield event


def ask(rt: Runtime, question: str, **kwargs: Any) -> AnswerResult:
    """The final answer (the model is asked without streaming)."""
    kwargs.setdefault("stream", False)
    result = None
    # Run the generator to its end: leaving it at `done` would close it inside its session,
    # rolling back the answer's log row.
    for event in ask_stream(rt, question, **kwargs):
        if event.type == "done" and event.result is not None:
            result = event.result
    if result is None:  # pragma: no cover
        raise AssertionError("ask_stream ended without a done event")
    return result


# -- conversations ---------------------------------------------------------------------------------
def rewrite_followup(rt: Runtime, question: str, turns: Sequence[PastTurn], *,
                     chat: ChatClient | None, today: date, session: Session) -> Rewrite:
    """How `question` is understood after `turns`: the standalone query, carried filters."""
    from app.money.facts import known_vocabulary
    from app.money.rewrite import rewrite_question

    categories, merchants = known_vocabulary(session)
    return rewrite_question(question, turns, chat=chat, today=today, categories=categories,
                            merchants=merchants, prompts_dir=rt.settings.prompts_dir,
                            timeout=rt.settings.llm_timeout)


def ask_turn_stream(rt: Runtime, question: str, *, conversation_id: int | None = None,
                    messages: Sequence[Any] | None = None, store: bool = True,
                    origin: str = "web", filters: SearchFilters | None = None,
                    top_k: int | None = None, chat: ChatClient | bool | None = True,
                    today: date | None = None, stream: bool = True,
                    ) -> Iterator[AnswerEvent | TurnEvent]:
    """One turn of a conversation: a `rewrite` event (how the question was understood), the
    answer's events, then (when stored) a `conversation` event just before `done`.

    The history is the stored conversation `conversation_id`, or the OpenAI-style `messages`
    of a stateless client (all but the last user message), or nothing (a new conversation).
    `store=False` answers without storing (stateless clients).
    """
    from app.core.errors import InvalidInputError
    from app.services.contracts import local_today
    from app.services.conversations import history_from_messages, store_turn, stored_history

    if not (question or "").strip():
        raise InvalidInputError("question: it is empty")
    today = today or local_today(rt)
    client: ChatClient | None = rt.chat_client("answer") if chat is True else (chat or None)
    with rt.db.session() as session:
        if conversation_id is not None:
            turns = stored_history(session, conversation_id)
        elif messages:
            turns = history_from_messages(session, messages, today=today)
        else:
            turns = []
        rewrite = rewrite_followup(rt, question, turns, chat=client, today=today,
                                   session=session)
    yield TurnEvent("rewrite", rewrite.to_json())
    for event in ask_stream(rt, rewrite.standalone, filters=filters, top_k=top_k,
                            chat=client, today=today, stream=stream,
                            documents=rewrite.documents, money_query=rewrite.money):
        if event.type == "done" and event.result is not None and store:
            with rt.db.session() as session:
                conv_id, position = store_turn(session, conversation_id=conversation_id,
                                               origin=origin, rewrite=rewrite,
                                               result=event.result)
            yield TurnEvent("conversation", {"id": conv_id, "turn": position})
        yield event


def ask_turn(rt: Runtime, question: str, **kwargs: Any,
             ) -> tuple[AnswerResult, dict[str, Any], dict[str, Any] | None]:
    """(final answer, rewrite, conversation {id, turn} or None) of one turn, not streamed."""
    kwargs.setdefault("stream", False)
    rewrite: dict[str, Any] = {}
    stored: dict[str, Any] | None = None
    for event in ask_turn_stream(rt, question, **kwargs):
        if isinstance(event, TurnEvent):
            if event.type == "rewrite":
                rewrite = dict(event.data)
            else:
                stored = dict(event.data)
        elif event.type == "done" and event.result is not None:
            return event.result, rewrite, stored
    raise AssertionError("ask_turn_stream ended without a done event")  # pragma: no cover
