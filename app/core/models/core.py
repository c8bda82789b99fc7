"""Core tables: sources, documents, chunks, embedding spaces, the ingest ledger, answer log.

Dense and sparse vectors live in `chunk_embeddings` without a fixed dimension, one row per
(embedding space, chunk). Each space gets its own partial HNSW index on a cast expression,
`(dense::halfvec(D))` WHERE space_id = S, created when the space is created (see
`ingest.store.ensure_space_indexes`); that is how pgvector indexes a column that holds vectors of
several dimensions, and it lets a new model's space build beside the active one. The sparse
vectors are searched through `sparse_postings`, an inverted index (see there).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pgvector.sqlalchemy import HALFVEC, SPARSEVEC
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, REAL, REGCONFIG, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.fts_keys import period_sql, source_key_sql
from app.core.models.base import Base, TimestampMixin

DOCUMENT_KINDS = ("note", "contract", "letter", "email", "statement", "message", "other")
ITEM_STATUSES = ("indexed", "unchanged", "failed", "removed", "skipped")


class Source(TimestampMixin, Base):
    """A configured origin: a folder, an mbox/maildir, an IMAP folder, a chat export ..."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    # Settings of the source without secrets (secrets come from the environment).
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=sql_text("'{}'::jsonb"))
    sync_interval_s: Mapped[int | None] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=sql_text("true"))
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    documents: Mapped[list[Document]] = relationship(back_populates="source", passive_deletes=True)


class Document(TimestampMixin, Base):
    """One ingested item (a file, a message, an attachment), with its extracted text."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("source_id", "origin", name="uq_documents_source_origin"),
        Index("ix_documents_kind_occurred", "kind", "occurred_at"),
        Index("ix_documents_sha256", "sha256"),
        Index("ix_documents_parent_id", "parent_id"),
        CheckConstraint(
            "kind IN ('note','contract','letter','email','statement','message','other')",
            name="kind",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    # The path or URI the owner recognises; attachments: "<parent origin>#attachment=<n>".
    origin: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20), server_default=sql_text("'other'"))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    meta: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=sql_text("'{}'::jsonb")
    )
    # Full extracted text; chunk char offsets index into it.
    content: Mapped[str] = mapped_column(Text, server_default=sql_text("''"))
    page_count: Mapped[int | None] = mapped_column(Integer)
    # Content-addressed copy of the original bytes, relative to the originals directory.
    blob_path: Mapped[str | None] = mapped_column(Text)
    parser: Mapped[str | None] = mapped_column(String(100))

    source: Mapped[Source] = relationship(back_populates="documents")
    chunks: Mapped[list[Chunk]] = relationship(
        back_populates="document", passive_deletes=True, order_by="Chunk.ordinal"
    )


class Chunk(Base):
    """A passage of a document: the unit of retrieval and of citation."""

    __tablename__ = "chunks"
    __table_args__ = (
        UniqueConstraint("document_id", "ordinal", name="uq_chunks_document_ordinal"),
        Index("ix_chunks_content_hash", "content_hash"),
        # With the date's period and the source: a filtered full-text search is one scan
        # (app.core.fts_keys, migration 0014).
        Index("ix_chunks_tsv", "tsv", sql_text(f"({period_sql('occurred_at')})"),
              sql_text(f"({source_key_sql('source_id')})"), postgresql_using="gin"),
        Index("ix_chunks_source_id", "source_id"),
        Index("ix_chunks_occurred_at", "occurred_at"),
        # The filter columns beside the id: the vector stages test each candidate against the
        # filters, index-only (migration 0015).
        Index("ix_chunks_id_filters", "id",
              postgresql_include=["document_id", "source_id", "kind", "occurred_at"]),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    # Copies of the document's source, kind and date, for filtered searches: checked on the
    # chunk (the full-text stage ANDs its GIN bitmap with these B-trees) instead of a lookup of
    # the document per candidate (migration 0012 keeps them equal by triggers).
    source_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str | None] = mapped_column(String(20))
    occurred_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ordinal: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    heading: Mapped[str | None] = mapped_column(Text)
    page: Mapped[int | None] = mapped_column(Integer)
    page_end: Mapped[int | None] = mapped_column(Integer)
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)
    token_count: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    # Text-search configuration chosen per chunk by language ('english', 'german', 'simple').
    fts_config: Mapped[str] = mapped_column(REGCONFIG, server_default=sql_text("'simple'::regconfig"))
    tsv: Mapped[Any] = mapped_column(
        TSVECTOR,
        Computed("to_tsvector(fts_config, coalesce(heading, '') || ' ' || text)", persisted=True),
    )
    # Extra location data, e.g. statement rows {"rows": [12, 40]} (issue 4).
    meta: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=sql_text("'{}'::jsonb")
    )

    document: Mapped[Document] = relationship(back_populates="chunks")


class EmbeddingSpace(TimestampMixin, Base):
    """One embedding model + dimension. Search uses the active space."""

    __tablename__ = "embedding_spaces"
    __table_args__ = (
        CheckConstraint("status IN ('building','active','retired')", name="status"),
        # At most one active space at a time.
        Index(
            "uq_embedding_spaces_active",
            "status",
            unique=True,
            postgresql_where=sql_text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    embedder: Mapped[str] = mapped_column(String(50))  # "bge-m3" | "lexical-hash"
    model_id: Mapped[str] = mapped_column(Text)
    dim: Mapped[int] = mapped_column(Integer)
    sparse_dim: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), server_default=sql_text("'building'"))
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    meta: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=sql_text("'{}'::jsonb")
    )


TOAST_TUPLE_TARGET = 4080


class ChunkEmbedding(Base):
    """Dense + sparse vectors of one chunk in one space (indexes: see module docstring)."""

    __tablename__ = "chunk_embeddings"
    # A row stays whole in its heap page up to 4,080 bytes (PostgreSQL's default: 2,032). A
    # 1,024-d halfvec alone is 2,052 bytes, so by default every dense vector went to the TOAST
    # table, and each candidate of an HNSW walk cost a TOAST index descent and two TOAST pages
    # besides its heap page (migration 0016).
    __table_args__ = ({"postgresql_with": {"toast_tuple_target": TOAST_TUPLE_TARGET}},)

    space_id: Mapped[int] = mapped_column(
        ForeignKey("embedding_spaces.id", ondelete="CASCADE"), primary_key=True
    )
    chunk_id: Mapped[int] = mapped_column(
        ForeignKey("chunks.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    dense: Mapped[Any] = mapped_column(HALFVEC())
    sparse: Mapped[Any] = mapped_column(SPARSEVEC())


# The sparse stage's inverted index: one row per (chunk, token) of a chunk's heavier lexical
# weights (app.core.vectors.posting_terms), written beside its chunk_embeddings row. Each space
# gets a partial B-tree on (token, weight DESC) INCLUDE (chunk_id) at run time
# (ingest.store.space_index_sql): a query token's heaviest postings come off it in order,
# index-only. A Core table without a primary key (nothing addresses one posting; a key index
# would be as large as the search index) and without a foreign key: a row-by-row key check on
# ~70 postings per chunk cost more than writing them. A statement-level trigger on
# chunk_embeddings (migration 0011) deletes a vector's postings with it, by chunk_id.
sparse_postings = Table(
    "sparse_postings",
    Base.metadata,
    Column("space_id", Integer, nullable=False),
    Column("chunk_id", BigInteger, nullable=False),
    Column("token", Integer, nullable=False),
    Column("weight", REAL, nullable=False),
    Index("ix_sparse_postings_chunk_id", "chunk_id"),
)


class LexemeFrequency(Base):
    """How many chunks hold a full-text lexeme, estimated from a sample of `chunks.tsv`
    (ingest.lexeme_stats), for the lexemes common enough to matter. The full-text stage
    matches a question on its rare lexemes first (app.retrieval.queries.RARE_FIRST_SQL):
    PostgreSQL's own statistics keep the 1,000 most common lexemes, which at 10^6 chunks are
    those in more than ~1.5 % of them, so a word in 5,000 chunks looked rare."""

    __tablename__ = "lexeme_frequencies"

    lexeme: Mapped[str] = mapped_column(Text, primary_key=True)
    chunks: Mapped[int] = mapped_column(BigInteger, nullable=False)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                   server_default=func.now())


class IngestRun(Base):
    """One ingest run (CLI, scheduler, API) with its counts."""

    __tablename__ = "ingest_runs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('running','completed','failed','interrupted')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="SET NULL"), index=True
    )
    trigger: Mapped[str] = mapped_column(String(20), server_default=sql_text("'cli'"))
    status: Mapped[str] = mapped_column(String(20), server_default=sql_text("'running'"))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=sql_text("'{}'::jsonb"))
    embedder: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)

    items: Mapped[list[IngestItem]] = relationship(back_populates="run", passive_deletes=True)


class IngestItem(Base):
    """What happened to one item in one run. Unchanged items are only counted, not listed."""

    __tablename__ = "ingest_items"
    __table_args__ = (
        CheckConstraint(
            "status IN ('indexed','unchanged','failed','removed','skipped')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("ingest_runs.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    origin: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    code: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(Text)
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), index=True
    )
    chunk_count: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    run: Mapped[IngestRun] = relationship(back_populates="items")


class SourceItem(Base):
    """The sync ledger: the current state of every item a source has offered."""

    __tablename__ = "source_items"
    __table_args__ = (
        UniqueConstraint("source_id", "origin", name="uq_source_items_source_origin"),
        CheckConstraint("status IN ('indexed','failed','skipped')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    origin: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    mtime: Mapped[float | None] = mapped_column(Float)  # stat shortcut: same size+mtime, no hash
    status: Mapped[str] = mapped_column(String(20))
    code: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(Text)
    transient: Mapped[bool] = mapped_column(Boolean, server_default=sql_text("false"))
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), index=True
    )
    chunk_count: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    # Source-specific position, e.g. IMAP {"uidvalidity": ..., "uid": ...}.
    cursor: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=sql_text("'{}'::jsonb"))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Answer(Base):
    """Log of every answer: what was asked, which prompt and model, what was offered and cited."""

    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    question: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(20))  # "llm" | "retrieval-only"
    answer: Mapped[str] = mapped_column(Text)
    prompt_name: Mapped[str | None] = mapped_column(String(100))
    prompt_sha256: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(Text)
    offered_chunk_ids: Mapped[list[int]] = mapped_column(
        ARRAY(BigInteger), server_default=sql_text("'{}'")
    )
    cited_chunk_ids: Mapped[list[int]] = mapped_column(
        ARRAY(BigInteger), server_default=sql_text("'{}'")
    )
    latency_ms: Mapped[float | None] = mapped_column(Float)
    llm_ms: Mapped[float | None] = mapped_column(Float)
    # What the model reported (the OpenAI usage block, summed over tool rounds) and how long
    # the first answer token took: cost per model and month, prefill/generation speed.
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    first_token_ms: Mapped[float | None] = mapped_column(Float)
    error_code: Mapped[str | None] = mapped_column(String(40))
    meta: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=sql_text("'{}'::jsonb")
    )
