"""The sparse stage over the other stages' candidates (queries._pool_nearest): chosen by the
index's size for unfiltered searches, and as right as exact scoring where the matches fit the
pool (bench/search_scale.py measures recall at 10^4-10^6 chunks)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import event, text

from app.retrieval import (
    EXACT_FILTERED_MAX_VECTORS,
    SPARSE_POOL_MAX_VECTORS,
    hybrid_search,
    resolve_space,
)
from app.retrieval.queries import SpaceRef, hybrid_sql
from app.retrieval.types import SearchFilters
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources.folder import FolderSource

EMB = LexicalHashEmbedder()
WORDS = ("gym membership notice period insurance premium renewal landlord rent boiler invoice "
         "holiday lake contract deadline mortgage interest pension statement salary dentist "
         "electricity meter tariff broadband router car repair garage tyres school fees "
         "kündigung vertrag rechnung versicherung strom miete zahnarzt").split()


@pytest.fixture
def notes(clean_db, tmp_path: Path):
    """300 short notes of random household words (seeded)."""
    rng = random.Random(7)
    root = tmp_path / "notes"
    root.mkdir()
    for i in range(300):
        words = [*rng.sample(WORDS, 6), f"ref{i}"]
        (root / f"n{i:03d}.txt").write_text(" ".join(words) + ".", encoding="utf-8")
    Pipeline(clean_db, embedder=EMB, options=IngestOptions(workers=0)).run(
        FolderSource("notes", root))
    with clean_db.session() as s:
        s.execute(text("ANALYZE chunk_embeddings"))
    return clean_db


def _ids(db, query: str, **kw) -> list[int]:
    with db.session() as s:
        space = resolve_space(s, EMB)
        hits = hybrid_search(s, space, query, EMB.embed_query(query), top_k=10, **kw)
    return [h.chunk_id for h in hits]


QUERIES = ["gym notice period", "rent landlord deadline", "strom tarif rechnung",
           "car repair garage invoice", "pension statement salary", "dentist zahnarzt"]


@pytest.mark.parametrize("query", QUERIES)
def test_pool_scoring_ranks_as_exact_scoring_when_the_matches_fit(notes, query):
    exact = _ids(notes, query, exact=True)
    pool = _ids(notes, query, sparse_from_pool=True)
    assert len(exact) == 10
    assert len(set(pool) & set(exact)) >= 9, (pool, exact)


def test_the_index_size_chooses_the_sparse_source(notes):
    """Unfiltered: the pool on a small index, the graph past SPARSE_POOL_MAX_VECTORS.
    Filtered: exact scoring on a small index, the pool past EXACT_FILTERED_MAX_VECTORS."""
    statements: list[str] = []

    def seen(conn, cursor, statement, *a):
        statements.append(statement)

    event.listen(notes.engine, "before_cursor_execute", seen)
    try:
        _ids(notes, "gym notice period")
        assert any("sparse_pool" in st for st in statements)
        statements.clear()
        _ids(notes, "gym notice period", filters=SearchFilters(kinds=("note",)))
        # filtered, small index: scored exactly at once
        assert [("scored AS MATERIALIZED" in st) for st in statements if "rrf AS" in st] == [True]
        with notes.session() as s:
            space = resolve_space(s, EMB)
            assert 0 < space.vectors <= SPARSE_POOL_MAX_VECTORS
            big = SpaceRef(space.id, space.dim, space.sparse_dim,
                           vectors=SPARSE_POOL_MAX_VECTORS + 1)
            statements.clear()
            hits = hybrid_search(s, big, "gym", EMB.embed_query("gym"), top_k=5)
            assert hits and not any("sparse_pool" in st for st in statements)
            statements.clear()
            hybrid_search(s, big, "gym", EMB.embed_query("gym"), top_k=5,
                          filters=SearchFilters(kinds=("note",)))
            assert any("sparse_pool" in st for st in statements)
    finally:
        event.remove(notes.engine, "before_cursor_execute", seen)


def test_pool_statement_scores_by_primary_key_not_the_graph(notes):
    with notes.session() as s:
        space = resolve_space(s, EMB)
        emb = EMB.embed_query("gym notice")
        sql, params = hybrid_sql(space, stages=("dense", "sparse", "fts"),
                                 filters=SearchFilters(), candidates=10, top_k=5, rrf_k=60,
                                 has_terms=True, sparse_from_pool=True)
        from app.core.vectors import to_halfvec, to_sparsevec

        params.update(qd=to_halfvec(emb.dense).to_text(),
                      qs=to_sparsevec(emb.sparse, space.sparse_dim).to_text(),
                      terms="'gym' | 'notice'", terms_simple="'gym' | 'notice'")
        plan = "\n".join(s.execute(text("EXPLAIN " + sql), params).scalars())
    assert f"ix_chunk_embeddings_space_{space.id}_sparse" not in plan


def test_filtered_searches_past_the_exact_size_use_the_pool_and_rank_as_exact(notes):
    """On an index past EXACT_FILTERED_MAX_VECTORS a filtered search takes the pool; where the
    filtered matches fit it, it ranks as exact scoring does."""
    query = "gym notice period"
    with notes.session() as s:
        some = tuple(s.scalars(text("SELECT id FROM documents ORDER BY id LIMIT 120")))
        space = resolve_space(s, EMB)
    big = SpaceRef(space.id, space.dim, space.sparse_dim, vectors=EXACT_FILTERED_MAX_VECTORS + 1)
    filters = SearchFilters(document_ids=some)
    with notes.session() as s:
        hits = hybrid_search(s, big, query, EMB.embed_query(query), filters=filters, top_k=10)
    exact = _ids(notes, query, filters=filters, exact=True)
    assert len(exact) == 10
    assert len({h.chunk_id for h in hits} & set(exact)) >= 9
