"""The sparse stage's postings must mirror the stored sparse vectors: every chunk_embeddings
row has exactly the postings `posting_terms` gives its vector, and no posting outlives its row.
Checked after each way vectors are written (pipeline, queue worker, space build, migration)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select, text

from app.core.models import ChunkEmbedding, EmbeddingSpace
from app.core.vectors import posting_share, posting_terms


def postings_mismatches(db) -> list[str]:
    """What differs between the stored vectors and their postings (empty: they agree)."""
    with db.session() as s:
        vectors = s.execute(select(ChunkEmbedding.space_id, ChunkEmbedding.chunk_id,
                                   ChunkEmbedding.sparse)).all()
        shares = {sid: posting_share(name) for sid, name in s.execute(select(
            EmbeddingSpace.id, EmbeddingSpace.embedder))}
        got: dict[tuple[int, int], dict[int, float]] = defaultdict(dict)
        for sid, cid, token, weight in s.execute(text(
                "SELECT space_id, chunk_id, token, weight FROM sparse_postings")):
            got[(sid, cid)][token] = weight
    problems = []
    for sid, cid, sparse in vectors:
        want = dict(posting_terms(sparse, shares[sid]))
        have = got.pop((sid, cid), {})
        if set(want) != set(have) or any(abs(want[k] - have[k]) > 1e-6 for k in want):
            problems.append(f"space {sid} chunk {cid}: postings {sorted(have)} != {sorted(want)}")
    problems += [f"space {sid} chunk {cid}: postings without a vector" for sid, cid in got]
    return problems


def postings_count(db) -> int:
    with db.session() as s:
        return int(s.scalar(text("SELECT count(*) FROM sparse_postings")) or 0)
