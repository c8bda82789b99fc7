"""The embedding queue in PostgreSQL: ingest stores chunks without vectors and `homerag worker`
processes (on any host) embed them. Database I/O; tables in app/core/models/queue.py.

    ingest (queue on)   chunks written, vectors reused by content hash where stored, the rest
                        get an `embedding_pending` row and a job per distinct text
                        (`enqueue_documents`, in the document's own transaction)
    worker              `claim` texts (FOR UPDATE SKIP LOCKED, a lease with an expiry, committed)
                        -> `texts_of` -> embed -> `complete` (vectors for every pending chunk of
                        those texts, pending rows and jobs deleted, one transaction)
    heartbeat           `renew` pushes the worker's leases forward while it lives; a worker that
                        dies stops renewing and its texts are claimed again once the lease ends

Guarantees, and why:
- A text is embedded once: the lease is per (space, content hash), and a vector stored for a
  hash is reused (ingest, and `complete`) instead of embedding it again.
- Nothing is written twice: `complete` writes only for jobs still leased by the caller (a
  worker whose lease was taken over writes nothing) and vectors go in ON CONFLICT DO NOTHING.
- No chunk is stranded: ingest upserts the job row (DO UPDATE takes its row lock) after writing
  the pending rows, and `complete` locks the same rows (in hash order, as ingest does) before it
  reads the pending rows. So either the worker sees ingest's committed rows, or ingest waits and
  then enqueues the text anew (the next claim finds its vector stored and copies it).
- Search sees a document once all its chunks have vectors in the active space: retrieval skips
  documents with a pending row (app/retrieval/queries.py).
- A text whose embedding fails is released with a back-off and tried again by any worker, and
  after `max_attempts` claims it is marked failed with its reason (`status` lists it); its
  document stays unsearchable until `retry_failed`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.core.types import Embedding
from app.core.vectors import posting_terms, to_halfvec, to_sparsevec

NOTIFY_CHANNEL = "homerag_embed"
# After a failed embedding a text waits this long (x attempts) before it is claimed again.
RETRY_BACKOFF_S = 5.0


@dataclass(frozen=True, slots=True)
class Claimed:
    """A text leased to a worker."""

    content_hash: str
    attempts: int


@dataclass(frozen=True, slots=True)
class PendingText:
    """What to embed for one content hash: the text as the pipeline embeds it."""

    content_hash: str
    text: str
    tokens: int
    chunks: int  # pending chunks that share it


@dataclass(slots=True)
class Completed:
    """What one `complete` call stored."""

    chunks: int = 0  # chunks that got their vectors
    texts: int = 0  # hashes completed
    lost: list[str] = field(default_factory=list)  # leases taken over by another worker


# -- ingest side -------------------------------------------------------------------------------
def enqueue_documents(session: Session, space_id: int, document_ids: Sequence[int]) -> int:
    """Pending rows for the chunks of these documents that have no vector in the space, and a job
    per distinct text (in the caller's transaction). Returns the number of pending chunks."""
    if not document_ids:
        return 0
    sid = int(space_id)
    hashes = session.execute(text(
        "INSERT INTO embedding_pending (space_id, chunk_id, document_id, content_hash) "
        "SELECT :sid, c.id, c.document_id, c.content_hash FROM chunks c "
        "WHERE c.document_id = ANY(:docs) AND NOT EXISTS ("
        "  SELECT 1 FROM chunk_embeddings ce WHERE ce.space_id = :sid AND ce.chunk_id = c.id) "
        "ON CONFLICT DO NOTHING RETURNING content_hash"),
        {"sid": sid, "docs": list(document_ids)}).scalars().all()
    if hashes:
        enqueue_texts(session, sid, hashes)
    return len(hashes)


def enqueue_texts(session: Session, space_id: int, hashes: Iterable[str]) -> None:
    """Upsert the jobs of these hashes in hash order (see the module docstring: the DO UPDATE
    takes the row lock that orders ingest against a completing worker) and wake the workers."""
    ordered = sorted(set(hashes))
    if not ordered:
        return
    session.execute(text(
        "INSERT INTO embedding_jobs (space_id, content_hash) "
        "SELECT :sid, h FROM unnest(CAST(:hashes AS text[])) AS h ORDER BY h "
        "ON CONFLICT (space_id, content_hash) DO UPDATE "
        "SET enqueued_at = embedding_jobs.enqueued_at"),
        {"sid": int(space_id), "hashes": ordered})
    session.execute(text("SELECT pg_notify(:channel, :sid)"),
                    {"channel": NOTIFY_CHANNEL, "sid": str(int(space_id))})


# -- worker side -------------------------------------------------------------------------------
def claim(session: Session, space_id: int, worker: str, *, limit: int, lease_s: float,
          max_attempts: int) -> list[Claimed]:
    """Lease up to `limit` texts to `worker` (the caller commits at once). Texts whose lease ran
    out `max_attempts` times are marked failed instead of being claimed again."""
    sid = int(space_id)
    session.execute(text(
        "UPDATE embedding_jobs SET failed_at = now(), leased_by = NULL, "
        "  last_error = coalesce(last_error, 'its worker stopped before finishing ' "
        "                        || attempts || ' times (lease expired)') "
        "WHERE space_id = :sid AND failed_at IS NULL AND attempts >= :max "
        "  AND lease_expires_at < now()"), {"sid": sid, "max": int(max_attempts)})
    rows = session.execute(text(
        "WITH picked AS ("
        "  SELECT content_hash FROM embedding_jobs "
        "  WHERE space_id = :sid AND failed_at IS NULL "
        "    AND (lease_expires_at IS NULL OR lease_expires_at < now()) "
        "  ORDER BY enqueued_at, content_hash LIMIT :n FOR UPDATE SKIP LOCKED) "
        "UPDATE embedding_jobs j SET leased_by = :me, attempts = j.attempts + 1, "
        "  lease_expires_at = now() + make_interval(secs => :lease) "
        "FROM picked p WHERE j.space_id = :sid AND j.content_hash = p.content_hash "
        "RETURNING j.content_hash, j.attempts"),
        {"sid": sid, "n": int(limit), "me": worker, "lease": float(lease_s)}).all()
    return [Claimed(h, int(a)) for h, a in sorted(rows)]


def texts_of(session: Session, space_id: int, hashes: Sequence[str]) -> list[PendingText]:
    """The text behind each hash that still has pending chunks (heading line, then the passage,
    exactly as the pipeline embeds it); hashes without any are left out."""
    if not hashes:
        return []
    rows = session.execute(text(
        "SELECT DISTINCT ON (p.content_hash) p.content_hash, c.heading, c.text, c.token_count, "
        "       count(*) OVER (PARTITION BY p.content_hash) AS n "
        "FROM embedding_pending p JOIN chunks c ON c.id = p.chunk_id "
        "WHERE p.space_id = :sid AND p.content_hash = ANY(:hashes) "
        "ORDER BY p.content_hash, p.chunk_id"),
        {"sid": int(space_id), "hashes": list(hashes)}).all()
    return [PendingText(h, f"{head}\n{body}" if head else body, int(tokens or 0), int(n))
            for h, head, body, tokens, n in rows]


def complete(session: Session, space_id: int, worker: str, *, sparse_dim: int,
             vectors: Mapping[str, Embedding | tuple[Any, Any]],
             done: Sequence[str], posting_share: float) -> Completed:
    """Store `vectors` (by content hash; new ones or stored ones reused) for every pending chunk
    of the hashes still leased by `worker`, and finish those jobs; `done` lists every claimed
    hash this call settles (a hash without pending chunks simply ends); `posting_share`: the
    space's (app.core.vectors.posting_share). One transaction, the caller's."""
    sid = int(space_id)
    result = Completed()
    if not done:
        return result
    owned = session.execute(text(
        "SELECT content_hash FROM embedding_jobs "
        "WHERE space_id = :sid AND content_hash = ANY(:hashes) AND leased_by = :me "
        "ORDER BY content_hash FOR UPDATE"),
        {"sid": sid, "hashes": sorted(set(done)), "me": worker}).scalars().all()
    mine = set(owned)
    result.lost = sorted(set(done) - mine)
    rows = []
    for h in sorted(mine & set(vectors)):
        emb = vectors[h]
        if isinstance(emb, Embedding):
            dense, sparse = to_halfvec(emb.dense), to_sparsevec(emb.sparse, sparse_dim)
        else:
            dense, sparse = emb
        terms = posting_terms(sparse, posting_share)
        rows.append({"sid": sid, "h": h, "d": _text(dense), "s": _text(sparse),
                     "tk": [t for t, _ in terms], "tw": [w for _, w in terms]})
    if rows:
        # The postings go with the rows this statement inserted, none for a chunk that had
        # its vector already (ON CONFLICT).
        session.execute(text(
            "WITH ins AS (INSERT INTO chunk_embeddings (space_id, chunk_id, dense, sparse) "
            "  SELECT :sid, p.chunk_id, CAST(:d AS halfvec), CAST(:s AS sparsevec) "
            "  FROM embedding_pending p WHERE p.space_id = :sid AND p.content_hash = :h "
            "  ON CONFLICT DO NOTHING RETURNING chunk_id) "
            "INSERT INTO sparse_postings (space_id, chunk_id, token, weight) "
            "SELECT :sid, ins.chunk_id, t.token, t.weight FROM ins, "
            "  unnest(CAST(:tk AS int4[]), CAST(:tw AS real[])) AS t(token, weight)"), rows)
    if mine:
        # Only rows whose chunk now has its vector go (never one that arrived unseen).
        result.chunks = _count(session.execute(text(
            "DELETE FROM embedding_pending p USING chunk_embeddings ce "
            "WHERE p.space_id = :sid AND p.content_hash = ANY(:hashes) "
            "  AND ce.space_id = p.space_id AND ce.chunk_id = p.chunk_id"),
            {"sid": sid, "hashes": sorted(mine)}))
        ended = _count(session.execute(text(
            "DELETE FROM embedding_jobs j WHERE j.space_id = :sid "
            "  AND j.content_hash = ANY(:hashes) AND j.leased_by = :me AND NOT EXISTS ("
            "    SELECT 1 FROM embedding_pending p "
            "    WHERE p.space_id = j.space_id AND p.content_hash = j.content_hash)"),
            {"sid": sid, "hashes": sorted(mine), "me": worker}))
        result.texts = ended
        # A hash that still has pending chunks (one without its vector in `vectors`) is
        # released for the next claim, which reuses the stored vector.
        session.execute(text(
            "UPDATE embedding_jobs SET leased_by = NULL, lease_expires_at = NULL "
            "WHERE space_id = :sid AND content_hash = ANY(:hashes) AND leased_by = :me"),
            {"sid": sid, "hashes": sorted(mine), "me": worker})
    return result


def release(session: Session, space_id: int, worker: str, hashes: Sequence[str], *,
            error: str | None, max_attempts: int) -> None:
    """Give leased texts back: after a failure with a back-off and the reason (failed for good
    once `max_attempts` claims are used up); without an error at once (a worker stopping)."""
    if not hashes:
        return
    session.execute(text(
        "UPDATE embedding_jobs SET leased_by = NULL, last_error = coalesce(:err, last_error), "
        "  lease_expires_at = CASE WHEN :err IS NULL THEN NULL "
        "    ELSE now() + make_interval(secs => :backoff * attempts) END, "
        "  attempts = CASE WHEN :err IS NULL THEN greatest(attempts - 1, 0) ELSE attempts END, "
        "  failed_at = CASE WHEN :err IS NOT NULL AND attempts >= :max THEN now() END "
        "WHERE space_id = :sid AND content_hash = ANY(:hashes) AND leased_by = :me"),
        {"sid": int(space_id), "hashes": list(hashes), "me": worker, "err": error,
         "backoff": RETRY_BACKOFF_S, "max": int(max_attempts)})


def renew(session: Session, worker: str, *, lease_s: float) -> int:
    """Push the worker's leases forward (its heartbeat); returns how many it still holds."""
    return _count(session.execute(text(
        "UPDATE embedding_jobs SET lease_expires_at = now() + make_interval(secs => :lease) "
        "WHERE leased_by = :me AND failed_at IS NULL"),
        {"me": worker, "lease": float(lease_s)}))


def retry_failed(session: Session, space_id: int | None = None) -> int:
    """Put failed texts back in the queue (after the cause was fixed)."""
    where = "" if space_id is None else " AND space_id = :sid"
    return _count(session.execute(text(
        "UPDATE embedding_jobs SET failed_at = NULL, attempts = 0, lease_expires_at = NULL, "
        f"leased_by = NULL WHERE failed_at IS NOT NULL{where}"),
        {"sid": space_id}))


def _count(result: Any) -> int:
    """Rows a DML statement touched (CursorResult.rowcount; Result's type does not say it)."""
    return int(getattr(result, "rowcount", 0) or 0)


def _text(value: Any) -> str:
    return value.to_text() if hasattr(value, "to_text") else str(value)


# -- figures -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class QueueDepth:
    """The queue of one space right now."""

    space_id: int
    pending_chunks: int
    pending_documents: int
    pending_tokens: int
    texts_ready: int
    texts_leased: int
    texts_failed: int
    oldest_s: float | None  # age of the oldest waiting text

    def to_json(self) -> dict[str, Any]:
        return {"space_id": self.space_id, "pending_chunks": self.pending_chunks,
                "pending_documents": self.pending_documents,
                "pending_tokens": self.pending_tokens, "texts_ready": self.texts_ready,
                "texts_leased": self.texts_leased, "texts_failed": self.texts_failed,
                "oldest_s": self.oldest_s}


def depth(session: Session) -> list[QueueDepth]:
    """Per space with anything queued: pending chunks, documents and tokens; texts by state."""
    rows = session.execute(text(
        "WITH p AS (SELECT p.space_id, count(*) AS chunks, count(DISTINCT p.document_id) AS docs, "
        "                  coalesce(sum(c.token_count), 0) AS tokens "
        "           FROM embedding_pending p JOIN chunks c ON c.id = p.chunk_id "
        "           GROUP BY p.space_id), "
        "j AS (SELECT space_id, "
        "        count(*) FILTER (WHERE failed_at IS NULL AND (leased_by IS NULL "
        "                         OR lease_expires_at < now())) AS ready, "
        "        count(*) FILTER (WHERE failed_at IS NULL AND leased_by IS NOT NULL "
        "                         AND lease_expires_at >= now()) AS leased, "
        "        count(*) FILTER (WHERE failed_at IS NOT NULL) AS failed, "
        "        extract(epoch FROM now() - min(enqueued_at) FILTER (WHERE failed_at IS NULL)) "
        "          AS oldest "
        "      FROM embedding_jobs GROUP BY space_id) "
        "SELECT coalesce(p.space_id, j.space_id), coalesce(p.chunks, 0), coalesce(p.docs, 0), "
        "       coalesce(p.tokens, 0), coalesce(j.ready, 0), coalesce(j.leased, 0), "
        "       coalesce(j.failed, 0), j.oldest "
        "FROM p FULL JOIN j ON j.space_id = p.space_id ORDER BY 1")).all()
    return [QueueDepth(int(s), int(c), int(d), int(t), int(r), int(le), int(f),
                       None if o is None else float(o)) for s, c, d, t, r, le, f, o in rows]


def failed_texts(session: Session, *, limit: int = 20) -> list[dict[str, Any]]:
    """Texts given up on, newest first, with a document they belong to and the reason."""
    rows = session.execute(text(
        "SELECT j.space_id, j.content_hash, j.attempts, j.last_error, j.failed_at, "
        "       (SELECT d.origin FROM embedding_pending p JOIN documents d ON d.id = p.document_id "
        "        WHERE p.space_id = j.space_id AND p.content_hash = j.content_hash LIMIT 1) "
        "FROM embedding_jobs j WHERE j.failed_at IS NOT NULL "
        "ORDER BY j.failed_at DESC LIMIT :n"), {"n": int(limit)}).all()
    return [{"space_id": s, "content_hash": h, "attempts": a, "reason": e,
             "failed_at": f.isoformat() if f else None, "origin": o}
            for s, h, a, e, f, o in rows]


# -- the ingest side's seams -------------------------------------------------------------------
class DeferredEmbedder:
    """Stands in for the space's model while ingest queues its embedding: the same identity
    (name, model id, dimensions: the same space), and no vector for any text (`None`; the writer
    stores such chunks without vectors and `QueueHook` queues them). Loads no model."""

    def __init__(self, *, name: str, model_id: str, dim: int, sparse_dim: int) -> None:
        self.name, self.model_id, self.dim, self.sparse_dim = name, model_id, dim, sparse_dim

    @classmethod
    def like(cls, embedder: Any) -> DeferredEmbedder:
        return cls(name=embedder.name, model_id=embedder.model_id, dim=int(embedder.dim),
                   sparse_dim=int(embedder.sparse_dim))

    def embed_documents(self, texts: Sequence[str]) -> list[Any]:
        return [None] * len(texts)

    def embed_query(self, text: str) -> Embedding:
        from app.core.errors import EmbedderUnavailableError

        raise EmbedderUnavailableError("queries are embedded by the model itself, not the queue")


class QueueHook:
    """DocumentHook: queues the chunks of each stored document that have no vectors yet, in the
    document's own transaction (so a document is stored with its queue rows or not at all)."""

    def __init__(self, space_name: str) -> None:
        self.space_name = space_name
        self._space_id: int | None = None

    def _space(self, session: Session) -> int:
        if self._space_id is None:
            sid = session.execute(text("SELECT id FROM embedding_spaces WHERE name = :n"),
                                  {"n": self.space_name}).scalar()
            if sid is None:  # the pipeline creates the space before any document is stored
                raise LookupError(f"embedding space {self.space_name} does not exist")
            self._space_id = int(sid)
        return self._space_id

    def on_stored(self, session: Session, document_id: int, parsed: Any) -> None:
        enqueue_documents(session, self._space(session), [document_id])

    def on_removed(self, session: Session, document_id: int) -> None:
        return None  # its pending rows go with its chunks (ON DELETE CASCADE)
