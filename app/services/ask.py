"""Asking a question end to end, shared by the CLI, the API, the web form, MCP and /v1.

retrieve (hybrid search, filters) → answer (LLM with citations, or retrieval-only) → log.
Money questions are decided here, not by the model (app/money/ask.py): their filters are read
and run in SQL; without an LLM the computed, cited answer is the answer; with one, the model
only words it (the result and its statement rows are its context, no tools) and any figure in
its text that they do not hold is flagged. Filters that match no transaction fall back to the
documents, saying so. Other questions may use the money tools (holdings, dividends). Each caller
only formats the events.

`ask_turn_stream` answers one turn of a conversation: the follow-up is rewritten into a
standalone question first (the LLM when configured, else the previous turn's filters carried
over), answered like any question, and stored with its conversation.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from app.answer.citations import MARKER_RE, marker_numbers
from app.answer.service import stream_answer
from app.answer.types import AnswerEvent, AnswerResult
from app.core.chat import GatedChatClient
from app.retrieval.types import SearchFilters
from app.services.conversations import TurnEvent

__all__ = ["MARKER_RE", "AnswerEvent", "AnswerResult", "TurnEvent", "ask", "ask_stream",
           "ask_turn", "ask_turn_stream", "marker_numbers"]

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.llm.client import ChatClient
    from app.money.ask import MoneyPlan
    from app.money.followup import Rewrite
    from app.money.nlq import MoneyQuery
    from app.money.rewrite import PastTurn
    from app.services.runtime import Runtime


def _money_plan(session: Session, question: str, *, today: date,
                money_query: MoneyQuery | None, llm: bool) -> MoneyPlan | None:
    """How a money question is answered; None when it is not one (or the bank module is absent).

    `money_query`: a query already read (a follow-up's carried filters), run as it is."""
    try:
        from app.money.ask import plan_money_question
    except ImportError:  # the bank module is optional
        return None
    return plan_money_question(question, session, today=today, money_query=money_query,
                               llm=llm)


def _money_tools(rt: Runtime, *, today: date, recorded: list[str]) -> list[Any]:
    """The money tools, each call in a short session of its own (none held while the model
    writes)."""
    try:
        from app.money.ask import money_tools
    except ImportError:
        return []
    return money_tools(rt.db.session, today=today, recorded=recorded)


@contextmanager
def _llm_slot(client: ChatClient | None) -> Iterator[ChatClient | None]:
    """One slot of the model's gate for the whole answer (rewrite, tool rounds, reply), taken
    before any database work: a full queue is LLMBusyError (503 + Retry-After) before the first
    event, and queued answers hold no connection."""
    if not isinstance(client, GatedChatClient):
        yield client
        return
    with client.hold() as held:
        yield held


def _log(rt: Runtime, result: AnswerResult, question: str) -> None:
    """The answer's log row, committed in a short session of its own."""
    from app.answer.log import log_answer

    with rt.db.session() as session:
        log_answer(session, result, question)


def _checked(result: AnswerResult, *, plan: MoneyPlan | None, recorded: Sequence[str],
             computed: bool) -> AnswerResult:
    """The final answer of the money routes: filters, a fallback notice, flagged figures."""
    if plan is None and not result.tool_calls:
        return result
    from app.money.ask import checked_answer

    notice = None
    if plan is not None:
        notice = f"Filters: {'; '.join(plan.filters) or 'none'}" if computed else (
            plan.no_match_notice)
        if not computed and result.mode == "retrieval-only":
            result = replace(result, answer=f"{plan.no_match_notice}. {result.answer}")
    return checked_answer(result, sources=recorded, notice=notice,
                          filters=plan.filters if plan is not None else ())


def _retriever(rt: Runtime, question: str, *, filters: SearchFilters | None,
               top_k: int | None, documents: Sequence[int]) -> Any:
    """Retrieval for the answer (each search in a short session of its own): within
    `documents` first (a follow-up pointing back at them), everywhere when they hold nothing
    that matches."""
    from app.services.search import search_passages

    def retrieve() -> list[Any]:
        if documents:
            narrowed = replace(filters or SearchFilters(), document_ids=tuple(documents))
            hits = search_passages(rt, question, filters=narrowed, top_k=top_k)
            if hits:
                return hits
        return search_passages(rt, question, filters=filters, top_k=top_k)

    return retrieve


def ask_stream(rt: Runtime, question: str, *, filters: SearchFilters | None = None,
               top_k: int | None = None, chat: ChatClient | bool | None = True,
               today: date | None = None, stream: bool = True, documents: Sequence[int] = (),
               money_query: MoneyQuery | None = None) -> Iterator[AnswerEvent]:
    """Events of one answer (`sources`, `reasoning`, `answer`, `reset`, `tool`, `done`).

    `chat=True` uses the configured answering endpoint; None forces retrieval-only; a client
    object is used as given (tests). `documents`: search these first; `money_query`: run this
    money query (a follow-up's carried filters) instead of reading the question.
    """
    from app.answer.log import log_answer

    settings = rt.settings
    client: ChatClient | None = rt.chat_client("answer") if chat is True else (chat or None)
    today = today or date.today()
    recorded: list[str] = []
    options: dict[str, Any] = {}
    # No database connection is held while the model writes: the plan, the computed rows and
    # each retrieval, tool call and log row use short sessions of their own (issue 12).
    with _llm_slot(client) as client:
        with rt.db.session() as session:
            plan = _money_plan(session, question, today=today, money_query=money_query,
                               llm=client is not None)
            computed = plan is not None and plan.computed is not None
            direct: AnswerResult | None = None
            if computed:  # the model words the computed result; it may not call tools for it
                direct = plan.answer(session)  # type: ignore[union-attr]
                if client is None:
                    log_answer(session, direct, question)
                else:
                    hits: Any = plan.citables(session)  # type: ignore[union-attr]
                    options["max_context_chars"] = max(24_000,
                                                       sum(len(c.text) + 300 for c in hits))
        if direct is not None and client is None:
            yield AnswerEvent("done", result=direct)
            return
        tools: list[Any] = []
        if not computed:
            hits = _retriever(rt, question, filters=filters, top_k=top_k, documents=documents)
            if plan is None:
                tools = _money_tools(rt, today=today, recorded=recorded)
        for event in stream_answer(question, hits=hits, chat=client, tools=tools,
                                   prompts_dir=settings.prompts_dir, today=today,
                                   timeout=settings.llm_timeout, stream=stream, **options):
            if event.type == "done" and event.result is not None:
                result = event.result
                if direct is not None and result.mode == "retrieval-only":  # the model failed
                    result = replace(direct, notice=f"{result.notice}; {direct.notice}",
                                     error_code=result.error_code, timings=result.timings)
                else:
                    result = _checked(result, plan=plan, recorded=recorded, computed=computed)
                event = replace(event, result=result)
                _log(rt, result, question)
            yield event


def ask(rt: Runtime, question: str, **kwargs: Any) -> AnswerResult:
    """The final answer (the model is asked without streaming)."""
    kwargs.setdefault("stream", False)
    result = None
    # Run the generator to its end (the answer is logged before `done`; the end releases the
    # model's slot at once rather than when the generator is collected).
    for event in ask_stream(rt, question, **kwargs):
        if event.type == "done" and event.result is not None:
            result = event.result
    if result is None:  # pragma: no cover
        raise AssertionError("ask_stream ended without a done event")
    return result


# -- conversations ---------------------------------------------------------------------------------
def rewrite_followup(rt: Runtime, question: str, turns: Sequence[PastTurn], *,
                     chat: ChatClient | None, today: date, vocabulary: tuple[Any, Any],
                     ) -> Rewrite:
    """How `question` is understood after `turns`: the standalone query, carried filters.
    `vocabulary`: (categories, merchants) of `known_vocabulary`, read beforehand (the model
    may be asked here, and no connection is held meanwhile)."""
    from app.money.rewrite import rewrite_question

    categories, merchants = vocabulary
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
    from app.money.facts import known_vocabulary
    from app.money.followup import first_turn, with_money
    from app.services.contracts import local_today
    from app.services.conversations import history_from_messages, store_turn, stored_history

    if not (question or "").strip():
        raise InvalidInputError("question: it is empty")
    today = today or local_today(rt)
    client: ChatClient | None = rt.chat_client("answer") if chat is True else (chat or None)
    with _llm_slot(client) as client:  # one slot for the rewrite and the answer
        with rt.db.session() as session:
            if conversation_id is not None:
                turns = stored_history(session, conversation_id)
            elif messages:
                turns = history_from_messages(session, messages, today=today)
            else:
                turns = []
            # A first question needs no rewrite: the answer reads it as it is.
            vocabulary = known_vocabulary(session) if turns else None
        rewrite = (first_turn(question) if vocabulary is None else
                   rewrite_followup(rt, question, turns, chat=client, today=today,
                                    vocabulary=vocabulary))
        yield TurnEvent("rewrite", rewrite.to_json())
        for event in ask_stream(rt, rewrite.standalone, filters=filters, top_k=top_k,
                                chat=client, today=today, stream=stream,
                                documents=rewrite.documents, money_query=rewrite.money):
            if event.type == "done" and event.result is not None and store:
                with rt.db.session() as session:
                    if rewrite.mode == "first":  # what its follow-ups carry over
                        categories, merchants = known_vocabulary(session)
                        rewrite = with_money(rewrite, today=today, categories=categories,
                                             merchants=merchants)
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
