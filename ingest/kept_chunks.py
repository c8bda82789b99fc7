"""A rewritten document keeps its unchanged passages, with their vectors and postings.

Why: a changed file is stored again, and every chunk written anew costs the space's index
upkeep, most of a re-sync's time (at 10^5 documents: the dense HNSW insert ~1.5 ms a chunk, the
postings ~0.9 ms; bench/README.md "Re-sync"). The common real edit - a paragraph appended to
notes, one clause changed in a contract, a page added to a scan - leaves most passages as they
were. So a stored chunk of the same document with the same content hash (heading and text)
that has its vector in the run's space stays: same id, same vectors, no index work, and a
citation of it still resolves. Its place (ordinal, pages, offsets), language and metadata are
updated where they moved; the document's other chunks are deleted (vectors and postings go with
them). Database I/O, in the caller's transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.core.types import TextChunk
from ingest import store

_STORED = text(
    "SELECT c.id, c.document_id, c.content_hash, c.ordinal, c.page, c.page_end, c.char_start, "
    "       c.char_end, c.token_count, c.fts_config::text, c.metadata "
    "FROM chunks c WHERE c.document_id = ANY(:docs) AND EXISTS ("
    "  SELECT 1 FROM chunk_embeddings ce WHERE ce.space_id = :sid AND ce.chunk_id = c.id) "
    "ORDER BY c.document_id, c.ordinal")


def _place(chunk: TextChunk) -> tuple[Any, ...]:
    """What a kept chunk takes from its new version (the columns after id and document)."""
    return (chunk.ordinal, chunk.page, chunk.page_end, chunk.char_start, chunk.char_end,
            chunk.token_count, chunk.language, store.jsonable(chunk.meta))


def keep_unchanged(session: Session, space_id: int,
                   rewritten: Sequence[tuple[int, Sequence[TextChunk]]]) -> dict[tuple[int, int], int]:
    """For rewritten documents, (document id, their new chunks): {(document id, new ordinal):
    id of the stored chunk kept for it}. Every other stored chunk of those documents is deleted.
    Call after the documents' attachments are gone and before their new chunks are written.
    """
    doc_ids = [doc_id for doc_id, _ in rewritten]
    if not doc_ids:
        return {}
    stored: dict[tuple[int, str], list[tuple[Any, ...]]] = defaultdict(list)
    for row in session.execute(_STORED, {"docs": doc_ids, "sid": int(space_id)}):
        stored[(row[1], row[2])].append(tuple(row))
    kept: dict[tuple[int, int], int] = {}
    moved: list[tuple[int, tuple[Any, ...]]] = []
    for doc_id, chunks in rewritten:
        for chunk in chunks:
            same = stored.get((doc_id, chunk.content_hash))
            if not same:
                continue
            old = same.pop(0)  # the first of equal passages for the first new one
            kept[(doc_id, chunk.ordinal)] = old[0]
            place = _place(chunk)
            if old[3:] != place:
                moved.append((old[0], place))
    session.execute(text("DELETE FROM chunks WHERE document_id = ANY(:docs) "
                         "AND NOT id = ANY(:kept)"),
                    {"docs": doc_ids, "kept": list(kept.values())})
    if moved:
        # Ordinals are unique per document and checked row by row, so passages that swap or
        # shift places step aside to negative ordinals first.
        session.execute(text("UPDATE chunks SET ordinal = -1 - ordinal WHERE id = ANY(:ids)"),
                        {"ids": [cid for cid, _ in moved]})
        session.execute(text(
            "UPDATE chunks SET ordinal = :o, page = :p, page_end = :pe, char_start = :cs, "
            "char_end = :ce, token_count = :tc, fts_config = CAST(:fc AS regconfig), "
            "metadata = :m WHERE id = :id"),
            [{"id": cid, "o": o, "p": p, "pe": pe, "cs": cs, "ce": ce, "tc": tc, "fc": fc,
              "m": Jsonb(m)} for cid, (o, p, pe, cs, ce, tc, fc, m) in moved])
    return kept
