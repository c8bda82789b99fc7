"""Embedding-model migration without downtime: build a new embedding space beside the active one.

    start_space()  the target space for an embedder, status "building" (indexes created)
    build_space()  embeds every chunk that has no vector in it, batch by batch, one transaction
                   per batch: interrupt it any time, run it again and it carries on
    switch_space() under a lock that holds chunk writes back, embeds the last stragglers and
                   swaps: old active -> retired, target -> active, in one transaction
    drop_space()   removes a retired (or abandoned building) space, its vectors and indexes

Search keeps using the active space throughout; ingest keeps writing the configured embedder's
space, and whatever it adds meanwhile is caught up by the next batch or by the switch itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import OperationalError

from app.core.errors import BusyError, InvalidInputError, NotFoundError
from app.core.models import Chunk, ChunkEmbedding, EmbeddingSpace, utcnow
from app.core.types import Embedding
from app.core.vectors import to_halfvec, to_sparsevec
from ingest import store

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.core.config import Settings
    from app.core.db import Database
    from app.core.protocols import Embedder

_SPACES_LOCK = "SELECT pg_advisory_xact_lock(hashtext('homerag:spaces'))"
# Chunks the switch embeds itself while writes wait; more means the build is not finished.
MAX_STRAGGLERS = 1000


@dataclass(frozen=True, slots=True)
class SpaceInfo:
    id: int
    name: str
    embedder: str
    model_id: str
    dim: int
    status: str
    vectors: int
    chunks: int
    activated_at: str | None

    @property
    def complete(self) -> bool:
        return self.vectors >= self.chunks

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "embedder": self.embedder,
            "model_id": self.model_id,
            "dim": self.dim,
            "status": self.status,
            "vectors": self.vectors,
            "chunks": self.chunks,
            "complete": self.complete,
            "activated_at": self.activated_at,
        }


def space_status(session: Session) -> list[SpaceInfo]:
    """Every space with its coverage (vectors stored / chunks in the index)."""
    chunks = session.scalar(select(func.count()).select_from(Chunk)) or 0
    counts: dict[int, int] = dict(
        session.execute(
            select(ChunkEmbedding.space_id, func.count()).group_by(ChunkEmbedding.space_id)
        ).all()
    )
    rows = session.scalars(select(EmbeddingSpace).order_by(EmbeddingSpace.id)).all()
    return [
        SpaceInfo(
            s.id,
            s.name,
            s.embedder,
            s.model_id,
            s.dim,
            s.status,
            int(counts.get(s.id, 0)),
            int(chunks),
            s.activated_at.isoformat() if s.activated_at else None,
        )
        for s in rows
    ]


def find_space(session: Session, ref: str | int) -> EmbeddingSpace:
    """A space by id or name; NotFoundError lists what exists."""
    ref_s = str(ref).strip()
    cond = EmbeddingSpace.id == int(ref_s) if ref_s.isdigit() else EmbeddingSpace.name == ref_s
    space = session.scalar(select(EmbeddingSpace).where(cond))
    if space is None:
        names = ", ".join(f"{s.id} ({s.name})" for s in session.scalars(select(EmbeddingSpace)))
        raise NotFoundError(f"no embedding space {ref_s!r}; spaces: {names or 'none'}")
    return space


def start_space(
    session: Session, embedder: Embedder, *, model: str | None = None
) -> EmbeddingSpace:
    """The space to build for `embedder`: created as "building", or a retired one reopened."""
    session.execute(text(_SPACES_LOCK))
    space = store.ensure_space(session, embedder)
    if space.status == "active":
        return space  # nothing to build (the first space of an empty index is active at once)
    if space.status == "retired":
        space.status = "building"
    space.meta = {
        **(space.meta or {}),
        "model": model or embedder.model_id,
        "build_started_at": utcnow().isoformat(),
    }
    session.flush()
    return space


def missing_chunks(
    session: Session, space_id: int, *, after: int = 0, limit: int = 256
) -> list[tuple[int, str, str]]:
    """(chunk id, text to embed, content hash) of chunks without a vector in the space."""
    has_vector = (
        select(ChunkEmbedding.chunk_id)
        .where(ChunkEmbedding.space_id == space_id, ChunkEmbedding.chunk_id == Chunk.id)
        .exists()
    )
    # KEY SHARE: a chunk cannot be deleted under us while we embed it; SKIP LOCKED: chunks an
    # ingest is rewriting right now are left for a later pass.
    rows = session.execute(
        select(Chunk.id, Chunk.heading, Chunk.text, Chunk.content_hash)
        .where(Chunk.id > after, ~has_vector)
        .order_by(Chunk.id)
        .limit(limit)
        .with_for_update(key_share=True, skip_locked=True)
    ).all()
    # The same text the pipeline embeds: heading line, then the passage.
    return [(cid, f"{h}\n{t}" if h else t, ch) for cid, h, t, ch in rows]


def fill(
    session: Session,
    space: EmbeddingSpace,
    embedder: Embedder,
    chunks: Sequence[tuple[int, str, str]],
) -> int:
    """Embed these chunks into the space (identical texts once; vectors of equal content reused)."""
    if not chunks:
        return 0
    reuse = store.reusable_embeddings(session, space.id, [c[2] for c in chunks])
    todo: dict[str, str] = {}
    for _, body, h in chunks:
        if h not in reuse:
            todo.setdefault(h, body)
    fresh = dict(zip(todo, embedder.embed_documents(list(todo.values())), strict=True))
    rows = []
    for cid, _, h in chunks:
        if h in reuse:
            dense, sparse = reuse[h]
        else:
            emb: Embedding = fresh[h]
            dense, sparse = (
                to_halfvec(emb.dense),
                to_sparsevec(emb.sparse, space.sparse_dim),
            )
        rows.append({"space_id": space.id, "chunk_id": cid, "dense": dense, "sparse": sparse})
    # The pipeline may have written some of them meanwhile (it embeds into its own space):
    # postings only for the rows inserted here.
    inserted = set(session.scalars(
        pg_insert(ChunkEmbedding).values(rows).on_conflict_do_nothing()
        .returning(ChunkEmbedding.chunk_id)))
    store.write_postings(session, space,
                         [(r["chunk_id"], r["sparse"]) for r in rows if r["chunk_id"] in inserted])
    return len(rows)


@dataclass
class BuildReport:
    space: str
    embedded: int = 0
    batches: int = 0
    switched: bool = False
    status: str = "building"

    def to_json(self) -> dict[str, Any]:
        return {
            "space": self.space,
            "embedded": self.embedded,
            "batches": self.batches,
            "switched": self.switched,
            "status": self.status,
        }


def build_space(
    db: Database,
    space_id: int,
    embedder: Embedder,
    *,
    batch: int = 256,
    progress: Callable[[int], None] | None = None,
) -> BuildReport:
    """Embed every chunk missing from the space, one committed transaction per batch."""
    with db.session() as s:
        space = s.get(EmbeddingSpace, space_id)
        if space is None:
            raise NotFoundError(f"no embedding space with id {space_id}")
        _check_matches(space, embedder)
        s.expunge(space)
    report = BuildReport(space.name, status=space.status)
    after = 0
    while True:
        with db.session() as s:
            chunks = missing_chunks(s, space_id, after=after, limit=batch)
            if not chunks:
                if after == 0:
                    return report
                after = 0  # a pass from the start catches ids committed out of order
                continue
            report.embedded += fill(s, space, embedder, chunks)
        report.batches += 1
        after = chunks[-1][0]
        if progress is not None:
            progress(len(chunks))


def switch_space(
    session: Session,
    space_id: int,
    embedder: Embedder | None = None,
    *,
    lock_timeout_s: float = 30.0,
) -> SpaceInfo:
    """Make a complete space the active one, atomically (the old active becomes retired).

    Chunk writes wait while this runs; stragglers are embedded here when `embedder` is given.

    Raises:
        InvalidInputError: chunks still lack vectors in the space (and no embedder was given).
        BusyError: the chunk table stayed locked by an ingest for `lock_timeout_s`.
    """
    session.execute(text(f"SET LOCAL lock_timeout = '{int(lock_timeout_s * 1000)}ms'"))
    session.execute(text(_SPACES_LOCK))
    try:
        # SHARE mode: reads go on, chunk inserts/deletes wait until we commit.
        session.execute(text("LOCK TABLE chunks IN SHARE MODE"))
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
            raise BusyError(
                "the index is being written (an ingest is running); "
                "try the switch again when it has finished"
            ) from exc
        raise
    space = session.get(EmbeddingSpace, space_id, populate_existing=True)
    if space is None:
        raise NotFoundError(f"no embedding space with id {space_id}")
    if space.status == "active":
        return _info(session, space)
    missing = missing_chunks(session, space_id, limit=MAX_STRAGGLERS + 1)
    if missing and embedder is not None and len(missing) <= MAX_STRAGGLERS:
        _check_matches(space, embedder)
        fill(session, space, embedder, missing)
        missing = missing_chunks(session, space_id, limit=1)
    if missing:
        raise InvalidInputError(
            f"embedding space {space.name} is incomplete ({min(len(missing), MAX_STRAGGLERS)}"
            f"{'+' if len(missing) > MAX_STRAGGLERS else ''} chunks without vectors); "
            "run `homerag embeddings migrate` to finish it"
        )
    now = utcnow()
    for old in session.scalars(select(EmbeddingSpace).where(EmbeddingSpace.status == "active")):
        old.status = "retired"
        old.meta = {**(old.meta or {}), "retired_at": now.isoformat()}
    session.flush()  # the unique index allows one active space: retire first
    space.status, space.activated_at = "active", now
    session.flush()
    return _info(session, space)


def drop_space(session: Session, ref: str | int) -> SpaceInfo:
    """Delete a non-active space with its vectors and indexes."""
    session.execute(text(_SPACES_LOCK))
    space = find_space(session, ref)
    if space.status == "active":
        raise InvalidInputError(
            f"embedding space {space.name} is the active one; switch to another before dropping it"
        )
    info = _info(session, space)
    store.drop_space_indexes(session, space.id)
    session.delete(space)  # chunk_embeddings rows go by ON DELETE CASCADE
    session.flush()
    return info


def _info(session: Session, space: EmbeddingSpace) -> SpaceInfo:
    return next(i for i in space_status(session) if i.id == space.id)


def _check_matches(space: EmbeddingSpace, embedder: Embedder) -> None:
    if (space.embedder, space.model_id, space.dim) != (
        embedder.name,
        embedder.model_id,
        embedder.dim,
    ):
        raise InvalidInputError(
            f"embedding space {space.name} was built by {space.embedder} ({space.model_id}, "
            f"dim {space.dim}), not by {embedder.name} ({embedder.model_id}, dim {embedder.dim})"
        )


def embedder_for_space(space: EmbeddingSpace, settings: Settings) -> Embedder:
    """An embedder that produces this space's vectors (to follow the active space after a switch).

    lexical-hash: rebuilt from the parameters in its model id. bge-m3: the model recorded when
    the space was built (else settings.embed_model) on the configured device; its model id must
    match the space's, else the weights changed and InvalidInputError says so.
    """
    from urllib.parse import parse_qs, urlsplit

    if space.embedder == "lexical-hash":
        from ingest.embedders.lexical import LexicalHashEmbedder

        q = {k: int(v[0]) for k, v in parse_qs(urlsplit(space.model_id).query).items()}
        emb: Embedder = LexicalHashEmbedder(
            dim=q.get("dim", 256), sparse_dim=q.get("sparse", 2**18), prefix_len=q.get("prefix", 5)
        )
    elif space.embedder == "bge-m3":
        from ingest.embedders.bge_m3 import BgeM3Embedder

        model = str((space.meta or {}).get("model") or settings.embed_model)
        if "#" in model:  # a model id was recorded: the part before the fingerprint
            model = model.rsplit("#", 1)[0]
        emb = BgeM3Embedder(
            model,
            device=settings.embed_device,
            precision=settings.embed_precision,
            batch_size=settings.embed_batch_size,
            max_length=settings.embed_max_length,
            backend=settings.embed_backend,
        )
    elif space.embedder == "sentence-transformers":
        from ingest.embedders.st import SentenceTransformerEmbedder

        # The model's directory is recorded in the model id (before the fingerprint).
        query = parse_qs(urlsplit(space.model_id).query)
        emb = SentenceTransformerEmbedder(
            space.model_id.split("#", 1)[0], device=settings.embed_device,
            batch_size=settings.embed_batch_size, max_length=settings.embed_max_length,
            sparse="none" if query.get("sparse") == ["none"] else "lexical")
    else:
        raise InvalidInputError(
            f"embedding space {space.name}: unknown embedder {space.embedder!r}"
        )
    _check_matches(space, emb)
    return emb
