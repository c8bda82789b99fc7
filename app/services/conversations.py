"""Use case: conversations. Stored turns (PostgreSQL), listed, reopened, deleted and exported as
Markdown with their citations; the history a follow-up is rewritten against, from a stored
conversation or from the messages a stateless client sends (/v1/chat/completions).

The web form, `/api/conversations`, `homerag conversations`, the MCP `ask` tool and the OpenAI
endpoint all call these; answering a turn is `app.services.ask.ask_turn_stream`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import delete, func, select

from app.core.errors import InvalidInputError, NotFoundError
from app.core.models import Conversation, ConversationTurn, utcnow
from app.services.links import citation_label, citation_path, web_url

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.answer.types import AnswerResult
    from app.money.followup import Rewrite
    from app.money.rewrite import PastTurn
    from app.services.runtime import Runtime

ORIGINS = ("web", "api", "mcp", "cli", "openai")
DEFAULT_LIST_LIMIT = 50
MAX_LIST_LIMIT = 1000
TITLE_CHARS = 80
# Turns read back as history for a follow-up (older ones do not change the rewrite).
HISTORY_TURNS = 12
# Stateless clients: at most this many earlier messages are read.
MAX_HISTORY_MESSAGES = 40
_DOCUMENT_LINK = re.compile(r"/documents/(\d+)")


@dataclass(frozen=True, slots=True)
class TurnEvent:
    """An event of a conversation turn beside the answer's own (`AnswerEvent`):
    `rewrite` (how the question was understood) and `conversation` (where the turn was stored)."""

    type: Literal["rewrite", "conversation"]
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, self.type: dict(self.data)}


# -- history ---------------------------------------------------------------------------------------
def _past_turn(turn: ConversationTurn) -> PastTurn:
    from app.money.followup import TurnState
    from app.money.rewrite import PastTurn

    return PastTurn(question=turn.question, answer=turn.answer,
                    state=TurnState.from_json(turn.state or {}, question=turn.standalone))


def stored_history(session: Session, conversation_id: int) -> list[PastTurn]:
    """The last turns of a stored conversation, oldest first (NotFoundError if it is gone)."""
    if session.get(Conversation, conversation_id) is None:
        raise NotFoundError(f"conversation {conversation_id} does not exist")
    turns = list(session.scalars(
        select(ConversationTurn).where(ConversationTurn.conversation_id == conversation_id)
        .order_by(ConversationTurn.position.desc()).limit(HISTORY_TURNS)))
    return [_past_turn(t) for t in reversed(turns)]


def _text(content: Any) -> str:
    """A message's text (plain string or OpenAI content parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content
                        if isinstance(p, Mapping) and p.get("type", "text") == "text")
    return ""


def history_from_messages(session: Session, messages: Sequence[Mapping[str, Any]], *,
                          today: date) -> list[PastTurn]:
    """Earlier turns rebuilt from a stateless client's messages (all but the last user message):
    each earlier question is read against the ones before it, and the documents an assistant
    reply cited are found in its links (`/documents/<id>`)."""
    from app.money.facts import known_vocabulary
    from app.money.followup import carry_over
    from app.money.rewrite import PastTurn

    earlier = list(messages)[-MAX_HISTORY_MESSAGES - 1:-1]
    if not any(m.get("role") == "user" for m in earlier):
        return []
    categories, merchants = known_vocabulary(session)
    turns: list[PastTurn] = []
    question: str | None = None

    def close(answer: str) -> None:
        if question is None:
            return
        rewrite = carry_over(question, [t.state for t in turns], today=today,
                             categories=categories, merchants=merchants)
        cited = [int(d) for d in _DOCUMENT_LINK.findall(answer)]
        turns.append(PastTurn(question=question, answer=answer, state=rewrite.state(cited)))

    for message in earlier:
        role, text = message.get("role"), _text(message.get("content")).strip()
        if role == "user" and text:
            close("")
            question = text
        elif role == "assistant" and question is not None:
            close(text)
            question = None
    close("")
    return turns[-HISTORY_TURNS:]


# -- storing a turn --------------------------------------------------------------------------------
def cited_documents(result: AnswerResult) -> list[int]:
    """Documents whose passages the answer cites (transactions' statements are not carried)."""
    return [c.citable.document_id for c in result.citations
            if c.citable.kind == "chunk" and c.citable.document_id is not None]


def store_turn(session: Session, *, conversation_id: int | None, origin: str,
               rewrite: Rewrite, result: AnswerResult) -> tuple[int, int]:
    """Append the answered turn (a new conversation when `conversation_id` is None); returns
    (conversation id, turn position). The caller's transaction holds both rows."""
    if origin not in ORIGINS:
        raise InvalidInputError(f"origin must be one of {', '.join(ORIGINS)}, not {origin!r}")
    if conversation_id is None:
        title = " ".join(rewrite.question.split())
        conv = Conversation(title=title[:TITLE_CHARS] + ("…" if len(title) > TITLE_CHARS else ""),
                            origin=origin)
        session.add(conv)
        session.flush()
    else:
        found = session.get(Conversation, conversation_id, with_for_update=True)
        if found is None:
            raise NotFoundError(f"conversation {conversation_id} does not exist")
        conv = found
    position = (session.scalar(select(func.max(ConversationTurn.position))
                               .where(ConversationTurn.conversation_id == conv.id)) or 0) + 1
    state = rewrite.state(cited_documents(result)).to_json()
    state["carried"] = list(rewrite.carried)
    if rewrite.notice:
        state["rewrite_notice"] = rewrite.notice
    session.add(ConversationTurn(
        conversation_id=conv.id, position=position, question=rewrite.question,
        standalone=rewrite.standalone, rewrite_mode=rewrite.mode, state=state,
        answer=result.answer, mode=result.mode,
        citations=[c.to_json() for c in result.citations], notice=result.notice))
    conv.updated_at = utcnow()
    session.flush()
    return conv.id, position


# -- listing, reading, deleting, exporting ---------------------------------------------------------
def _turn_json(rt: Runtime | None, t: ConversationTurn) -> dict[str, Any]:
    state = t.state or {}
    return {
        "position": t.position, "question": t.question, "standalone": t.standalone,
        "rewrite_mode": t.rewrite_mode, "carried": state.get("carried", []),
        "money": state.get("money"), "documents": state.get("documents", []),
        "answer": t.answer, "mode": t.mode, "notice": t.notice,
        "citations": [{**c, "url": web_url(rt, p) if (p := citation_path(c)) else None}
                      for c in t.citations or []],
        "created_at": t.created_at.isoformat() if t.created_at else None,
    }


def _summary(conv: Conversation, turns: int) -> dict[str, Any]:
    return {"id": conv.id, "title": conv.title, "origin": conv.origin, "turns": turns,
            "created_at": conv.created_at.isoformat() if conv.created_at else None,
            "updated_at": conv.updated_at.isoformat() if conv.updated_at else None}


def list_conversations(rt: Runtime, *, limit: int = DEFAULT_LIST_LIMIT) -> list[dict[str, Any]]:
    """Stored conversations, most recently continued first, with their number of turns."""
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidInputError(f"limit must be between 1 and {MAX_LIST_LIMIT}, not {limit}")
    counts = (select(ConversationTurn.conversation_id, func.count().label("n"))
              .group_by(ConversationTurn.conversation_id).subquery())
    with rt.db.session() as s:
        rows = s.execute(
            select(Conversation, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.conversation_id == Conversation.id)
            .order_by(Conversation.updated_at.desc(), Conversation.id.desc()).limit(limit)).all()
        return [_summary(conv, n) for conv, n in rows]


def get_conversation(rt: Runtime, conversation_id: int) -> dict[str, Any]:
    """One conversation with every turn (question, how it was understood, answer, citations
    with links)."""
    with rt.db.session() as s:
        conv = s.get(Conversation, conversation_id)
        if conv is None:
            raise NotFoundError(f"conversation {conversation_id} does not exist")
        turns = [_turn_json(rt, t) for t in conv.turns]
        return {**_summary(conv, len(turns)), "turns": turns}


def delete_conversation(rt: Runtime, conversation_id: int) -> None:
    """Delete a conversation and its turns."""
    with rt.db.session() as s:
        gone = s.execute(delete(Conversation).where(Conversation.id == conversation_id))
        if not gone.rowcount:  # type: ignore[attr-defined]
            raise NotFoundError(f"conversation {conversation_id} does not exist")


def _quote(text: str, limit: int = 300) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rsplit(" ", 1)[0] + " …"


def export_markdown(rt: Runtime, conversation_id: int) -> str:
    """The conversation as Markdown: each question, how it was understood, the answer and its
    numbered sources with links into the web UI and the quoted passage."""
    conv = get_conversation(rt, conversation_id)
    out = [f"# {conv['title']}", "",
           f"_Conversation {conv['id']} ({conv['origin']}), started {conv['created_at']}, "
           f"last turn {conv['updated_at']}._", ""]
    for turn in conv["turns"]:
        out += [f"## {turn['position']}. {turn['question']}", ""]
        if turn["standalone"] != turn["question"]:
            out += [f"> Understood as: {turn['standalone']}", ""]
        if turn["mode"] == "retrieval-only":
            notice = (turn["notice"] or "no language-model answer").rstrip(".")
            out += [f"_Retrieval-only: {notice}._", ""]
        out += [turn["answer"], ""]
        if turn["citations"]:
            out += ["Sources:", ""]
            for c in turn["citations"]:
                label = citation_label(c).replace("[", "(").replace("]", ")")
                link = f"[{label}]({c['url']})" if c.get("url") else label
                out.append(f"- **[{c['n']}]** {link}: “{_quote(c.get('text') or '')}”")
            out.append("")
    return "\n".join(out).rstrip() + "\n"
