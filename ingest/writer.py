"""Batched writes of prepared documents: many documents per transaction, each whole or absent.

A batch (about 256 chunks of documents, attachments with their message) is written in one
transaction: ids drawn from the sequences in one query, documents and chunks by `COPY` (text),
vectors by binary `COPY` (halfvec and sparsevec in pgvector's wire format, no float-to-text
round trip), then the hooks, the sync ledger and the run's item rows as multi-row statements.
That is about a dozen round trips for a hundred documents where the per-document path took
seven per document (profile in bench/README.md).

Per-document atomicity: the transaction commits every document of the batch whole, or none.
If anything in it fails (a hook refusing a document, a value PostgreSQL rejects), the batch is
rolled back and written again one document per transaction, so the one bad document fails alone
and the others are stored; a crash mid-batch leaves none of it, and the ledger rows went with
it, so the next run does those items again.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from psycopg.types.json import Jsonb
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from app.core.models import Document, utcnow
from app.core.protocols import DocumentHook
from app.core.types import Embedding
from app.core.vectors import posting_share, posting_terms, prune_sparse
from ingest import store
from ingest.kept_chunks import keep_unchanged
from ingest.ledger import safe_text
from ingest.workers import Prepared

_KINDS = frozenset(("note", "contract", "letter", "email", "statement", "message", "other"))
_DOC_COLUMNS = ("id", "source_id", "parent_id", "origin", "kind", "sha256", "size_bytes",
                "media_type", "title", "occurred_at", "metadata", "content", "page_count",
                "blob_path", "parser")
_CHUNK_COLUMNS = ("id", "document_id", "ordinal", "text", "heading", "page", "page_end",
                  "char_start", "char_end", "token_count", "content_hash", "fts_config",
                  "metadata", "source_id", "kind", "occurred_at")
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_BINARY_TRAILER = struct.pack(">h", -1)


@dataclass(slots=True)
class Written:
    """One top-level document stored: its id and the chunks of it and its attachments."""

    prepared: Prepared
    document_id: int
    chunks: int


def write_batch(session: Session, batch: Sequence[Prepared], *, space: Any, source_id: int,
                run_id: int, hooks: Sequence[DocumentHook],
                check_existing: bool = True) -> list[Written]:
    """Store `batch` (top-level documents with their attachments) in `session`'s transaction.

    A document already stored under the same origin is rewritten in place: it keeps its id
    (and whatever links to it), and the chunks whose text is unchanged (ingest/kept_chunks.py);
    its other chunks and its attachments go (vectors by cascade).
    `check_existing=False` when no origin of the batch was ever stored (none is in the ledger).
    Raises whatever the database or a hook raises; the caller rolls back.
    """
    existing = (find_document_ids(session, source_id, [p.item.origin for p in batch])
                if check_existing else {})
    # Speed: a re-sync rewrites a few documents among many, each once costing ~9 statements
    # (hooks, deletes, its update); set-wise they are a handful per batch.
    old_ids = sorted(existing.values())
    # (document id, ordinal) -> a stored chunk kept, vectors and all (ingest/kept_chunks.py)
    kept: dict[tuple[int, int], int] = {}
    if old_ids:
        run_removed_hooks(session, hooks, old_ids)
        session.execute(delete(Document).where(Document.parent_id.in_(old_ids)))
        kept = keep_unchanged(session, int(space.id),
                              [(existing[p.item.origin], p.chunks) for p in batch
                               if p.item.origin in existing])
    # Every document of the batch gets its id first (parents before their attachments).
    placed: list[tuple[Prepared, int, int | None, datetime | None]] = []
    doc_ids, chunk_ids = allocate_ids(
        session, documents=sum(len(p.all_docs()) for p in batch) - len(existing),
        chunks=sum(p.chunk_total() for p in batch) - len(kept))
    fresh = iter(doc_ids)

    def place(p: Prepared, parent_id: int | None, occurred: datetime | None) -> None:
        doc_id = existing.get(p.item.origin) if parent_id is None else None
        placed.append((p, doc_id if doc_id is not None else next(fresh), parent_id, occurred))
        own = placed[-1][1]
        for child in p.children:
            place(child, own, p.parsed.occurred_at or occurred)

    for prepared in batch:
        place(prepared, None, None)
    rewritten = set(existing.values())
    _copy_documents(session, [(p, i, par, occ) for p, i, par, occ in placed
                              if i not in rewritten], source_id)
    now = utcnow()
    updates = [{"id": doc_id, **_document_values(p, source_id, parent_id, occurred),
                "updated_at": now}
               for p, doc_id, parent_id, occurred in placed if doc_id in rewritten]
    if updates:
        session.execute(update(Document), updates)  # by primary key, one executemany
    fresh_chunks = iter(chunk_ids)
    chunk_rows: list[tuple[Any, ...]] = []
    vector_rows: list[tuple[int, Any]] = []
    for p, doc_id, _, occurred in placed:
        # The document's source, kind and date on each chunk (filtered searches read them there)
        doc_kind, doc_date = _kind(p), _occurred(p, occurred)
        for chunk, emb in zip(p.chunks, p.embeddings, strict=True):
            if (doc_id, chunk.ordinal) in kept:
                continue  # stored already, with its vectors
            cid = next(fresh_chunks)
            chunk_rows.append((cid, doc_id, chunk.ordinal, chunk.text, chunk.heading, chunk.page,
                               chunk.page_end, chunk.char_start, chunk.char_end,
                               chunk.token_count, chunk.content_hash, chunk.language,
                               Jsonb(store.jsonable(chunk.meta)), source_id, doc_kind,
                               doc_date))
            vector_rows.append((cid, emb))
    raw = _psycopg(session)
    with raw.cursor() as cur:
        if chunk_rows:
            with cur.copy(f"COPY chunks ({', '.join(_CHUNK_COLUMNS)}) FROM STDIN") as copy:
                for row in chunk_rows:
                    copy.write_row(row)
        if any(emb is not None for _, emb in vector_rows):
            with cur.copy("COPY chunk_embeddings (space_id, chunk_id, dense, sparse) "
                          "FROM STDIN WITH (FORMAT BINARY)") as copy:
                for block in _vector_blocks(vector_rows, int(space.id), int(space.sparse_dim)):
                    copy.write(block)
            with cur.copy("COPY sparse_postings (space_id, chunk_id, token, weight) "
                          "FROM STDIN WITH (FORMAT BINARY)") as copy:
                for block in _posting_blocks(vector_rows, int(space.id),
                                             posting_share(space.embedder)):
                    copy.write(block)
    for p, doc_id, _, _ in placed:
        for hook in hooks:
            hook.on_stored(session, doc_id, p.parsed)
    return _ledger(session, batch, placed, source_id=source_id, run_id=run_id)


def _ledger(session: Session, batch: Sequence[Prepared],
            placed: list[tuple[Prepared, int, int | None, datetime | None]], *, source_id: int,
            run_id: int) -> list[Written]:
    ids = {id(p): doc_id for p, doc_id, _, _ in placed}
    now = time.perf_counter()
    written, ledger_rows, item_rows = [], [], []
    for p in batch:
        doc_id = ids[id(p)]
        chunks = len(p.chunks)
        duration = (now - p.started) * 1000
        written.append(Written(p, doc_id, p.chunk_total()))
        ledger_rows.append({
            "source_id": source_id, "origin": p.item.origin, "sha256": p.sha256,
            "size_bytes": p.size, "mtime": p.item.mtime, "status": "indexed", "code": None,
            "message": None, "transient": False, "document_id": doc_id, "chunk_count": chunks,
            "duration_ms": duration, "cursor": dict(p.item.hints.get("cursor", {}))})
        item_rows.append(_item_row(run_id, source_id, p.item.origin, "indexed",
                                   document_id=doc_id, chunk_count=chunks, duration_ms=duration))
        for origin, code, message in _child_failures(p):
            item_rows.append(_item_row(run_id, source_id, origin, "failed", code=code,
                                       message=safe_text(message)))
    keys = tuple(sorted(k for k in ledger_rows[0] if k not in ("source_id", "origin")))
    session.execute(store.ledger_upsert_statement(keys), ledger_rows)
    session.execute(store.ingest_items_insert(), item_rows)
    return written


def _child_failures(p: Prepared) -> Iterator[tuple[str, str, str]]:
    for doc in p.all_docs():
        yield from doc.child_failures


def _item_row(run_id: int, source_id: int, origin: str, status: str, *, code: str | None = None,
              message: str | None = None, document_id: int | None = None,
              chunk_count: int | None = None, duration_ms: float | None = None) -> dict[str, Any]:
    return {"run_id": run_id, "source_id": source_id, "origin": origin, "status": status,
            "code": code, "message": message, "document_id": document_id,
            "chunk_count": chunk_count, "duration_ms": duration_ms}


# -- documents ---------------------------------------------------------------------------------
def _document_values(p: Prepared, source_id: int, parent_id: int | None,
                     occurred: datetime | None) -> dict[str, Any]:
    parsed = p.parsed
    return {
        "source_id": source_id, "parent_id": parent_id, "origin": p.item.origin,
        "kind": _kind(p), "sha256": p.sha256,
        "size_bytes": p.size, "media_type": p.media_type, "title": parsed.title or None,
        "occurred_at": _occurred(p, occurred), "meta": store.jsonable(parsed.metadata),
        "content": p.content, "page_count": parsed.page_count, "blob_path": p.blob_path,
        "parser": p.parser,
    }


def _kind(p: Prepared) -> str:
    return p.parsed.kind if p.parsed.kind in _KINDS else "other"


def _occurred(p: Prepared, inherited: datetime | None) -> datetime | None:
    """Its own date, else the message's it came with (an attachment)."""
    return p.parsed.occurred_at or inherited


def _psycopg(session: Session) -> Any:
    """The session's psycopg connection (COPY is not in SQLAlchemy's API)."""
    raw = session.connection().connection.driver_connection
    assert raw is not None  # an open session always has its DBAPI connection
    return raw


def _copy_documents(session: Session,
                    rows: list[tuple[Prepared, int, int | None, datetime | None]],
                    source_id: int) -> None:
    if not rows:
        return
    raw = _psycopg(session)
    with raw.cursor() as cur, cur.copy(
            f"COPY documents ({', '.join(_DOC_COLUMNS)}) FROM STDIN") as copy:
        for p, doc_id, parent_id, occurred in rows:
            v = _document_values(p, source_id, parent_id, occurred)
            copy.write_row((doc_id, v["source_id"], v["parent_id"], v["origin"], v["kind"],
                            v["sha256"], v["size_bytes"], v["media_type"], v["title"],
                            v["occurred_at"], Jsonb(v["meta"]), v["content"], v["page_count"],
                            v["blob_path"], v["parser"]))


def find_document_ids(session: Session, source_id: int, origins: Sequence[str]) -> dict[str, int]:
    """Ids of this source's stored top-level documents among `origins`."""
    if not origins:
        return {}
    rows = session.execute(
        select(Document.origin, Document.id).where(
            Document.source_id == source_id, Document.origin.in_(list(origins)),
            Document.parent_id.is_(None)))
    return {origin: int(doc_id) for origin, doc_id in rows}


def allocate_ids(session: Session, *, documents: int, chunks: int) -> tuple[list[int], list[int]]:
    """Fresh ids from the tables' own sequences (so COPY can write the keys), in one query."""
    row = session.execute(text(
        "SELECT ARRAY(SELECT nextval(pg_get_serial_sequence('documents', 'id')) "
        "             FROM generate_series(1, :d)), "
        "       ARRAY(SELECT nextval(pg_get_serial_sequence('chunks', 'id')) "
        "             FROM generate_series(1, :c))"), {"d": documents, "c": chunks}).one()
    return list(row[0]), list(row[1])


def run_removed_hooks(session: Session, hooks: Sequence[DocumentHook],
                      doc_ids: Sequence[int]) -> None:
    """The hooks' removal of these documents and their attachments (attachments first): in one
    call per hook where it takes a batch (`on_removed_many`), else one call per document."""
    ids = list(doc_ids)
    frontier = list(doc_ids)
    while frontier:
        children = list(session.scalars(select(Document.id)
                                        .where(Document.parent_id.in_(frontier))))
        ids.extend(children)
        frontier = children
    ids.reverse()
    for hook in hooks:
        many = getattr(hook, "on_removed_many", None)
        if many is not None:
            many(session, ids)
        else:
            for did in ids:
                hook.on_removed(session, did)


# -- vectors in pgvector's binary format ---------------------------------------------------------
def _vector_blocks(rows: Sequence[tuple[int, Any]], space_id: int, sparse_dim: int,
                   per_block: int = 512) -> Iterator[bytes]:
    """The binary COPY stream of (space_id, chunk_id, dense, sparse) rows, in blocks."""
    head = struct.pack(">hii", 4, 4, space_id)
    parts: list[bytes] = [_BINARY_HEADER]
    for n, (chunk_id, emb) in enumerate(rows, start=1):
        if emb is None:  # queued: a `homerag worker` embeds it (ingest/queue.py)
            continue
        if isinstance(emb, Embedding):
            dense, sparse = halfvec_binary(emb.dense), sparsevec_binary(emb.sparse, sparse_dim)
        else:  # reused (dense, sparse) as stored: pgvector's types or plain lists
            dense = emb[0].to_binary() if hasattr(emb[0], "to_binary") else halfvec_binary(emb[0])
            sparse = emb[1].to_binary()
        parts.append(head + struct.pack(">iqi", 8, chunk_id, len(dense)) + dense
                     + struct.pack(">i", len(sparse)) + sparse)
        if n % per_block == 0:
            yield b"".join(parts)
            parts = []
    parts.append(_BINARY_TRAILER)
    yield b"".join(parts)


_POSTING = np.dtype([("fields", ">i2"), ("l_space", ">i4"), ("space", ">i4"), ("l_chunk", ">i4"),
                     ("chunk", ">i8"), ("l_token", ">i4"), ("token", ">i4"),
                     ("l_weight", ">i4"), ("weight", ">f4")])


def _posting_blocks(rows: Sequence[tuple[int, Any]], space_id: int, share: float,
                    per_block: int = 512) -> Iterator[bytes]:
    """The binary COPY stream of sparse_postings rows for these chunks' sparse vectors (one
    numpy record array per chunk: ~70 rows each, too many for a row-by-row write)."""
    parts: list[bytes] = [_BINARY_HEADER]
    for n, (chunk_id, emb) in enumerate(rows, start=1):
        if emb is None:
            continue
        terms = posting_terms(emb.sparse if isinstance(emb, Embedding) else emb[1], share)
        if terms:
            rec = np.zeros(len(terms), dtype=_POSTING)
            rec["fields"], rec["space"], rec["chunk"] = 4, space_id, chunk_id
            rec["l_space"], rec["l_chunk"], rec["l_token"], rec["l_weight"] = 4, 8, 4, 4
            tokens, weights = zip(*terms, strict=True)
            rec["token"], rec["weight"] = tokens, weights
            parts.append(rec.tobytes())
        if n % per_block == 0:
            yield b"".join(parts)
            parts = []
    parts.append(_BINARY_TRAILER)
    yield b"".join(parts)


def halfvec_binary(dense: Any) -> bytes:
    """pgvector's halfvec_send: int16 dim, int16 unused, dim big-endian float16."""
    values = np.asarray(dense, dtype=">f2")
    return struct.pack(">HH", values.shape[0], 0) + values.tobytes()


def sparsevec_binary(weights: Mapping[int, float], dim: int) -> bytes:
    """pgvector's sparsevec_send: int32 dim, nnz, unused, then sorted 0-based int32 indices and
    float32 values (the largest `SPARSE_HNSW_LIMIT` positive weights, as `to_sparsevec`)."""
    pruned = prune_sparse(weights)
    keys = sorted(pruned)
    nnz = len(keys)
    return (struct.pack(">iii", dim, nnz, 0) + np.asarray(keys, dtype=">i4").tobytes()
            + np.asarray([pruned[k] for k in keys], dtype=">f4").tobytes())
