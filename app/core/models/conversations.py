"""Conversations of the web form, the API and the MCP `ask` tool: one row per conversation and
one per turn (the question as asked, the standalone query it was rewritten into, the carried
money filters and cited documents, the answer and its citations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models.base import Base


class Conversation(Base):
    """A sequence of questions whose follow-ups are read in the light of the earlier turns."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(20))  # web, api, mcp, cli, openai
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False, index=True)
    turns: Mapped[list[ConversationTurn]] = relationship(
        back_populates="conversation", order_by="ConversationTurn.position",
        cascade="all, delete-orphan", passive_deletes=True)


class ConversationTurn(Base):
    """One question and its answer. `state` is what the next turn carries over:
    {"money": {intent, date_from, date_to, payee, category, account, ...} | null,
     "documents": [document ids cited]}."""

    __tablename__ = "conversation_turns"
    __table_args__ = (UniqueConstraint("conversation_id", "position",
                                       name="uq_conversation_turns_position"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False)
    question: Mapped[str] = mapped_column(Text)
    standalone: Mapped[str] = mapped_column(Text)
    rewrite_mode: Mapped[str] = mapped_column(String(20))  # first, carry-over, llm
    state: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=sql_text("'{}'::jsonb"))
    answer: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(20))  # llm, retrieval-only
    citations: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=sql_text("'[]'::jsonb"))
    notice: Mapped[str | None] = mapped_column(Text)
    conversation: Mapped[Conversation] = relationship(back_populates="turns")
