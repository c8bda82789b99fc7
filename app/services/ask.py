"""Asking a question end to end, shared by the CLI, the API and the web form.

retrieve (hybrid search, filters) → answer (LLM with citations, or retrieval-only) → log.
Money questions get the transaction tools (with an LLM) or the deterministic money answerer
(without one) when the bank module is present. Each caller only formats the events.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

from app.answer.citations import MARKER_RE, marker_numbers
from app.answer.service import stream_answer
from app.answer.types import AnswerEvent, AnswerResult
from app.retrieval.types import SearchFilters

__all__ = ["MARKER_RE", "AnswerEvent", "AnswerResult", "ask", "ask_stream", "marker_numbers"]

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.llm.client import ChatClient
    from app.services.runtime import Runtime


def _money_routes(session: Session, question: str, *, chat: ChatClient | None,
                  today: date) -> tuple[list[Any], AnswerResult | None]:
    """(tools for the LLM, a deterministic answer) for money questions; empty when unavailable."""
    try:
        from app.money import ask as money
    except ImportError:  # the bank module is optional
        return [], None
    if chat is not None:
        return list(money.money_tools(session, today=today)), None
    return [], money.answer_money_question(question, session, today=today)


def ask_stream(rt: Runtime, question: str, *, filters: SearchFilters | None = None,
               top_k: int | None = None, chat: ChatClient | bool | None = True,
               today: date | None = None, stream: bool = True) -> Iterator[AnswerEvent]:
    """Events of one answer (`sources`, `reasoning`, `answer`, `reset`, `tool`, `done`).

    `chat=True` uses the configured answering endpoint; None forces retrieval-only; a client
    object is used as given (tests).
    """
    from app.answer.log import log_answer
    from app.services.search import search_passages

    settings = rt.settings
    client: ChatClient | None = rt.chat_client("answer") if chat is True else (chat or None)
    today = today or date.today()
    with rt.db.session() as session:
        tools, direct = _money_routes(session, question, chat=client, today=today)
        if direct is not None:
            log_answer(session, direct, question)
            yield AnswerEvent("done", result=direct)
            return

        def retrieve() -> list[Any]:
            return search_passages(rt, question, filters=filters, top_k=top_k, session=session)

        for event in stream_answer(question, hits=retrieve, chat=client, tools=tools,
                                   prompts_dir=settings.prompts_dir, today=today,
                                   timeout=settings.llm_timeout, stream=stream):
            if event.type == "done" and event.result is not None:
                log_answer(session, event.result, question)
            yield event


def ask(rt: Runtime, question: str, **kwargs: Any) -> AnswerResult:
    """The final answer (the model is asked without streaming)."""
    kwargs.setdefault("stream", False)
    for event in ask_stream(rt, question, **kwargs):
        if event.type == "done" and event.result is not None:
            return event.result
    raise AssertionError("ask_stream ended without a done event")  # pragma: no cover
