"""Writes and reads the index in PostgreSQL: sources, embedding spaces, documents, chunks, ledger.

Every function takes a Session and never commits: the pipeline owns the transaction (see
ingest/writer.py for the batched document writes), so a failure leaves nothing half-written.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from types import MappingProxyType
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from app.core.models import (
    Chunk,
    ChunkEmbedding,
    Document,
    EmbeddingSpace,
    IngestItem,
    IngestRun,
    Source,
    SourceItem,
    utcnow,
)
from app.core.protocols import Embedder, LedgerEntry
from app.core.vectors import posting_share, posting_terms

# Per-space indexes, created at run time (migrations/env.py leaves them out of autogenerate).
RUNTIME_INDEX_PREFIX = "ix_chunk_embeddings_space_"
POSTINGS_INDEX_PREFIX = "ix_sparse_postings_space_"


def _table(model: Any) -> Table:
    """The Core table of an ORM model (bulk paths use Core statements for speed)."""
    return cast(Table, model.__table__)


# -- sources ----------------------------------------------------------------------------------
def ensure_source(session: Session, name: str, kind: str, config: Mapping[str, Any]) -> Source:
    """The source row for `name`, created or updated with the current kind and settings."""
    row = session.scalar(select(Source).where(Source.name == name))
    if row is None:
        row = Source(name=name, kind=kind, config=dict(config))
        session.add(row)
        session.flush()
    elif row.kind != kind or row.config != dict(config):
        row.kind, row.config = kind, dict(config)
    return row


# -- embedding spaces -------------------------------------------------------------------------
def space_name(embedder: Embedder) -> str:
    return f"{embedder.name}:{embedder.model_id}:{embedder.dim}"


def active_space(session: Session) -> EmbeddingSpace | None:
    return session.scalar(select(EmbeddingSpace).where(EmbeddingSpace.status == "active"))


def ensure_space(session: Session, embedder: Embedder) -> EmbeddingSpace:
    """The space for this embedder; created (with its HNSW indexes) on first use.

    The first space becomes active. A space for another model while one is active starts as
    "building": search keeps using the active one until it is switched (model migration).
    """
    name = space_name(embedder)
    space = session.scalar(select(EmbeddingSpace).where(EmbeddingSpace.name == name))
    if space is None:
        # Serialise creation across processes: two first ingests must not both become active.
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('homerag:spaces'))"))
        space = session.scalar(select(EmbeddingSpace).where(EmbeddingSpace.name == name))
    if space is None:
        has_active = active_space(session) is not None
        space = EmbeddingSpace(
            name=name,
            embedder=embedder.name,
            model_id=embedder.model_id,
            dim=embedder.dim,
            sparse_dim=embedder.sparse_dim,
            status="building" if has_active else "active",
            activated_at=None if has_active else utcnow(),
        )
        session.add(space)
        session.flush()
        ensure_space_indexes(session, space)
    return space


def ensure_space_indexes(session: Session | Connection, space: EmbeddingSpace) -> None:
    """The space's search indexes: HNSW on its dense vectors, a B-tree on its sparse postings."""
    for statement in space_index_sql(space):
        session.execute(text(statement))


def space_index_names(space_id: int) -> list[str]:
    """The names of a space's dense and sparse indexes (in that order)."""
    sid = int(space_id)
    return [f"{RUNTIME_INDEX_PREFIX}{sid}_dense", f"{POSTINGS_INDEX_PREFIX}{sid}"]


def space_index_sql(space: EmbeddingSpace) -> list[str]:
    """The CREATE INDEX statements of a space's dense and sparse indexes (in that order).

    Sparse: a question's heaviest-weighted postings per token, read in weight order and
    index-only (app.retrieval.queries). It replaced an HNSW graph on the sparsevec column that
    found 0.33-0.6 of the exact top 10, took 34 min per million chunks to build (this B-tree:
    under a minute) and was most of the cost of keeping the indexes current during ingest.
    """
    sid, dim = int(space.id), int(space.dim)
    dense_name, sparse_name = space_index_names(sid)
    return [
        f"CREATE INDEX IF NOT EXISTS {dense_name} ON chunk_embeddings "
        f"USING hnsw ((dense::halfvec({dim})) halfvec_ip_ops) WHERE space_id = {sid}",
        f"CREATE INDEX IF NOT EXISTS {sparse_name} ON sparse_postings "
        f"(token, weight DESC) INCLUDE (chunk_id) WHERE space_id = {sid}",
    ]


def drop_space_indexes(session: Session | Connection, space_id: int) -> None:
    for name in space_index_names(space_id):
        session.execute(text(f"DROP INDEX IF EXISTS {name}"))


def write_postings(session: Session, space: EmbeddingSpace,
                   vectors: Iterable[tuple[int, Any]]) -> None:
    """Insert the postings of these (chunk id, sparse weights or stored SparseVector) pairs
    (app.core.vectors.posting_terms); their chunk_embeddings rows must exist: the postings
    are deleted with them."""
    share = posting_share(space.embedder)
    rows = [{"s": int(space.id), "c": chunk_id, "t": token, "w": weight}
            for chunk_id, sparse in vectors for token, weight in posting_terms(sparse, share)]
    if rows:
        session.execute(text("INSERT INTO sparse_postings (space_id, chunk_id, token, weight) "
                             "VALUES (:s, :c, :t, :w)"), rows)


def reusable_embeddings(
    session: Session, space_id: int, content_hashes: Sequence[str]
) -> dict[str, tuple[Any, Any]]:
    """Embeddings already stored for chunks with these content hashes (skip re-embedding)."""
    if not content_hashes:
        return {}
    rows = session.execute(
        select(Chunk.content_hash, ChunkEmbedding.dense, ChunkEmbedding.sparse)
        .join(ChunkEmbedding, ChunkEmbedding.chunk_id == Chunk.id)
        .where(ChunkEmbedding.space_id == space_id, Chunk.content_hash.in_(set(content_hashes)))
        .ext(distinct_on(Chunk.content_hash))
    ).all()
    return {h: (d, s) for h, d, s in rows}


# -- documents --------------------------------------------------------------------------------
def find_document_id(session: Session, source_id: int, origin: str) -> int | None:
    # A Core select on the table: compiled once and cached (an ORM select per item cost more
    # Python time than the query itself).
    docs = _table(Document)
    return session.execute(
        select(docs.c.id).where(docs.c.source_id == source_id, docs.c.origin == origin)
    ).scalar()


def delete_document(session: Session, document_id: int) -> None:
    """Delete a document; chunks, vectors and attachments go with it (ON DELETE CASCADE)."""
    session.execute(delete(Document).where(Document.id == document_id))


# Documents, chunks and vectors are written in batches by ingest/writer.py (COPY).
def jsonable(value: Any) -> Any:
    """Metadata as JSON: datetimes to ISO strings, sets/tuples to lists, other objects to str."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


# -- ledger and runs --------------------------------------------------------------------------
def load_ledger(session: Session, source_id: int) -> dict[str, LedgerEntry]:
    # Plain rows on the session's connection, not ORM rows, and the empty cursor of most items
    # not decoded as JSON row by row (speed: a sync reads its source's whole ledger; 20,000
    # items took 0.33 s through the ORM, 0.17 s so; see bench/resync.py).
    # Memory: the whole ledger is held for the run. The driver hands out a new string for
    # every row's status and parser, and each item had its own empty cursor dict; interned and
    # shared, an entry is 425 bytes instead of 601 (100-character paths, tracemalloc), ~180 MB
    # less for a source of 10^6 items.
    rows = session.connection().execute(_LEDGER_SQL, {"source": source_id})
    intern = sys.intern
    return {
        origin: LedgerEntry(origin, intern(status), sha256, size, mtime, transient,
                            cursor or _NO_CURSOR, intern(parser) if parser else None)
        for origin, status, sha256, size, mtime, transient, cursor, parser in rows
    }


_NO_CURSOR: Mapping[str, Any] = MappingProxyType({})


_LEDGER_SQL = text(
    "SELECT si.origin, si.status, si.sha256, si.size_bytes, si.mtime, si.transient, "
    "NULLIF(si.cursor, '{}'::jsonb), d.parser FROM source_items si "
    "LEFT JOIN documents d ON d.id = si.document_id WHERE si.source_id = :source"
)


def upsert_ledger(session: Session, source_id: int, origin: str, **values: Any) -> None:
    session.execute(ledger_upsert_statement(tuple(sorted(values))),
                    {"source_id": source_id, "origin": origin, **values})


@lru_cache(maxsize=16)
def ledger_upsert_statement(keys: tuple[str, ...]) -> Any:
    """One Core upsert statement per set of columns, built once (speed: building an ORM
    insert().values() per item coerced every value and missed the compiled-statement cache)."""
    table = _table(SourceItem)
    stmt = pg_insert(table)
    return stmt.on_conflict_do_update(
        constraint="uq_source_items_source_origin",
        set_={**{k: stmt.excluded[k] for k in keys}, "updated_at": func.now()},
    )


def touch_ledger_stat(session: Session, source_id: int, origin: str, size: int | None,
                      mtime: float | None) -> None:
    """Same content, new mtime (a `touch`, a copy): remember the stat for the next shortcut."""
    touch_ledger_stats(session, source_id, [(origin, size, mtime)])


def touch_ledger_stats(session: Session, source_id: int,
                       stats: Sequence[tuple[str, int | None, float | None]]) -> None:
    """`touch_ledger_stat` for many items in one executemany (a copied folder: thousands)."""
    if not stats:
        return
    items = _table(SourceItem)
    session.execute(
        update(items)
        .where(items.c.source_id == bindparam("b_source"), items.c.origin == bindparam("b_origin"))
        .values(size_bytes=bindparam("b_size"), mtime=bindparam("b_mtime")),
        [{"b_source": source_id, "b_origin": o, "b_size": size, "b_mtime": mtime}
         for o, size, mtime in stats],
    )


def delete_ledger(session: Session, source_id: int, origin: str) -> None:
    session.execute(
        delete(SourceItem).where(SourceItem.source_id == source_id, SourceItem.origin == origin)
    )


def start_run(session: Session, source_id: int | None, trigger: str, embedder: str) -> int:
    run_id = session.scalar(
        insert(IngestRun)
        .values(source_id=source_id, trigger=trigger, status="running", embedder=embedder)
        .returning(IngestRun.id)
    )
    assert run_id is not None
    return int(run_id)


def finish_run(session: Session, run_id: int, status: str, counts: Mapping[str, int],
               error: str | None = None) -> None:
    session.execute(
        update(IngestRun)
        .where(IngestRun.id == run_id)
        .values(status=status, counts=dict(counts), finished_at=func.now(), error=error)
    )


def ingest_items_insert() -> Any:
    """The Core insert of `ingest_items` rows (one statement for a batch's rows)."""
    return insert(_table(IngestItem))


def record_item(session: Session, run_id: int, source_id: int | None, origin: str, status: str,
                *, code: str | None = None, message: str | None = None,
                document_id: int | None = None, chunk_count: int | None = None,
                duration_ms: float | None = None) -> None:
    # A Core insert of the table with parameters (cached compiled statement), see _ledger_upsert.
    session.execute(
        insert(_table(IngestItem)),
        {"run_id": run_id, "source_id": source_id, "origin": origin, "status": status,
         "code": code, "message": message, "document_id": document_id,
         "chunk_count": chunk_count, "duration_ms": duration_ms},
    )
