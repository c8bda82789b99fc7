"""The embedding queue (issue 14): chunks waiting for their vectors, the texts to embed with
their leases, and the workers that embed them (logic in ingest/queue.py).

- `embedding_pending`: one row per (space, chunk) stored without its vectors. A document with a
  row here is not searchable in that space yet (document-level consistency).
- `embedding_jobs`: one row per (space, content hash): the unit a worker leases, so the same text
  is embedded once however many chunks (and workers) share it.
- `embedding_workers`: one row per worker process, its heartbeat and running totals.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models.base import Base


class EmbeddingPending(Base):
    """A chunk stored without its vectors in a space (deleted once they are in)."""

    __tablename__ = "embedding_pending"
    __table_args__ = (
        Index("ix_embedding_pending_space_hash", "space_id", "content_hash"),
    )

    space_id: Mapped[int] = mapped_column(
        ForeignKey("embedding_spaces.id", ondelete="CASCADE"), primary_key=True)
    chunk_id: Mapped[int] = mapped_column(
        ForeignKey("chunks.id", ondelete="CASCADE"), primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))


class EmbeddingJob(Base):
    """One text to embed into a space, with the lease of the worker embedding it."""

    __tablename__ = "embedding_jobs"
    __table_args__ = (
        Index("ix_embedding_jobs_ready", "space_id", "enqueued_at",
              postgresql_where=sql_text("failed_at IS NULL")),
    )

    space_id: Mapped[int] = mapped_column(
        ForeignKey("embedding_spaces.id", ondelete="CASCADE"), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    enqueued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                  server_default=func.now())
    leased_by: Mapped[str | None] = mapped_column(String(200))
    # While leased: when the lease ends unless renewed. Released after a failure: not before.
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, server_default=sql_text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EmbeddingWorker(Base):
    """A `homerag worker` process: where it runs, its heartbeat and what it has embedded."""

    __tablename__ = "embedding_workers"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    device: Mapped[str] = mapped_column(String(100))
    space_id: Mapped[int | None] = mapped_column(
        ForeignKey("embedding_spaces.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), server_default=sql_text("'running'"))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                   server_default=func.now())
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    batches: Mapped[int] = mapped_column(BigInteger, server_default=sql_text("0"))
    texts: Mapped[int] = mapped_column(BigInteger, server_default=sql_text("0"))
    reused: Mapped[int] = mapped_column(BigInteger, server_default=sql_text("0"))
    chunks: Mapped[int] = mapped_column(BigInteger, server_default=sql_text("0"))
    tokens: Mapped[int] = mapped_column(BigInteger, server_default=sql_text("0"))
    failures: Mapped[int] = mapped_column(BigInteger, server_default=sql_text("0"))
    embed_seconds: Mapped[float] = mapped_column(Float, server_default=sql_text("0"))
