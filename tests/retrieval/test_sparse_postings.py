"""The sparse stage through its inverted index (sparse_postings, queries.sparse_sql): written
and deleted with the vectors, read through the space's B-tree, and ranking as exact scoring
does where no posting list is cut (bench/search_scale.py measures recall at 10^4-10^6 chunks)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import event, text

from app.retrieval import EXACT_FILTERED_MAX_VECTORS, hybrid_search, resolve_space
from app.retrieval.queries import SpaceRef, hybrid_sql, query_tokens
from app.retrieval.types import SearchFilters
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources.folder import FolderSource
from tests.support.postings import postings_count, postings_mismatches

EMB = LexicalHashEmbedder()
WORDS = ("gym membership notice period insurance premium renewal landlord rent boiler invoice "
         "holiday lake contract deadline mortgage interest pension statement salary dentist "
         "electricity meter tariff broadband router car repair garage tyres school fees "
         "kündigung vertrag rechnung versicherung strom miete zahnarzt").split()
QUERIES = ["gym notice period", "rent landlord deadline", "strom tarif rechnung",
           "car repair garage invoice", "pension statement salary", "dentist zahnarzt"]


def _write_notes(root: Path, seed: int, count: int = 300) -> None:
    rng = random.Random(seed)
    root.mkdir(exist_ok=True)
    for i in range(count):
        words = [*rng.sample(WORDS, 6), f"ref{i}"]
        (root / f"n{i:03d}.txt").write_text(" ".join(words) + ".", encoding="utf-8")


def _ingest(db, root: Path) -> None:
    Pipeline(db, embedder=EMB, options=IngestOptions(workers=0)).run(FolderSource("notes", root))
    with db.session() as s:
        s.execute(text("ANALYZE chunk_embeddings, sparse_postings"))


@pytest.fixture
def notes(clean_db, tmp_path: Path):
    """300 short notes of random household words (seeded)."""
    _write_notes(tmp_path / "notes", seed=7)
    _ingest(clean_db, tmp_path / "notes")
    return clean_db


def _ids(db, query: str, *, space: SpaceRef | None = None, **kw) -> list[int]:
    with db.session() as s:
        space = space or resolve_space(s, EMB)
        hits = hybrid_search(s, space, query, EMB.embed_query(query), top_k=10, **kw)
    return [h.chunk_id for h in hits]


def test_ingest_writes_the_postings_of_every_vector_and_a_rewrite_replaces_them(notes, tmp_path):
    assert postings_count(notes) > 300 and postings_mismatches(notes) == []
    before = _posted_chunks(notes)
    _write_notes(tmp_path / "notes", seed=8, count=150)  # half the notes change
    _ingest(notes, tmp_path / "notes")
    assert postings_mismatches(notes) == []  # none left behind by the replaced chunks
    after = _posted_chunks(notes)
    assert len(before - after) == len(after - before) == 150
    for f in list((tmp_path / "notes").glob("n1*.txt")):
        f.unlink()
    _ingest(notes, tmp_path / "notes")
    assert postings_mismatches(notes) == []
    assert len(_posted_chunks(notes)) == 200


def _posted_chunks(db) -> set[int]:
    with db.session() as s:
        return set(s.scalars(text("SELECT DISTINCT chunk_id FROM sparse_postings")))


@pytest.mark.parametrize("query", QUERIES)
def test_sparse_stage_ranks_as_exact_sparse_scoring(notes, query):
    exact = _ids(notes, query, stages=("sparse",), exact=True)
    found = _ids(notes, query, stages=("sparse",))
    assert len(exact) == 10
    assert found == exact


@pytest.mark.parametrize("query", QUERIES)
def test_fused_search_ranks_as_exact_scoring(notes, query):
    exact = _ids(notes, query, exact=True)
    assert len(exact) == 10
    assert len(set(_ids(notes, query)) & set(exact)) >= 9


def test_filtered_search_past_the_exact_size_ranks_as_exact(notes):
    """Past EXACT_FILTERED_MAX_VECTORS a filtered search runs the postings shortlist (taken
    before the filter) with the filtered dense and full-text candidates."""
    query = "gym notice period"
    with notes.session() as s:
        some = tuple(s.scalars(text("SELECT id FROM documents ORDER BY id LIMIT 120")))
        space = resolve_space(s, EMB)
    big = SpaceRef(space.id, space.dim, space.sparse_dim, vectors=EXACT_FILTERED_MAX_VECTORS + 1)
    filters = SearchFilters(document_ids=some)
    statements: list[str] = []

    def seen(conn, cursor, statement, *a):
        statements.append(statement)

    event.listen(notes.engine, "before_cursor_execute", seen)
    try:
        hits = _ids(notes, query, space=big, filters=filters)
    finally:
        event.remove(notes.engine, "before_cursor_execute", seen)
    exact = _ids(notes, query, filters=filters, exact=True)
    assert len(exact) == 10
    assert len(set(hits) & set(exact)) >= 9
    assert any("sparse_postings" in st and "scored AS" not in st for st in statements)


def test_the_stage_reads_the_spaces_postings_index(notes):
    """The plan can find each token's postings through the space's partial B-tree (the
    literal space id must match the index's predicate; with more rows than this test has the
    planner picks it by itself, bench/search_scale.py)."""
    with notes.session() as s:
        space = resolve_space(s, EMB)
        emb = EMB.embed_query("gym notice")
        sql, params = hybrid_sql(space, stages=("sparse",), filters=SearchFilters(),
                                 candidates=10, top_k=5, rrf_k=60, has_terms=True)
        from app.core.vectors import to_halfvec, to_sparsevec

        params.update(qd=to_halfvec(emb.dense).to_text(),
                      qs=to_sparsevec(emb.sparse, space.sparse_dim).to_text(),
                      terms="'gym' | 'notice'", terms_simple="'gym' | 'notice'",
                      **query_tokens(emb.sparse))
        s.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(s.execute(text("EXPLAIN " + sql), params).scalars())
    assert f" on ix_sparse_postings_space_{space.id}" in plan or (
        f" using ix_sparse_postings_space_{space.id}" in plan), plan


def test_query_tokens_are_the_heaviest_few():
    weights = {i: 1.0 / (i + 1) for i in range(40)}
    weights.update({100: 0.0, 101: -1.0, 102: float("nan")})
    got = query_tokens(weights)
    assert sorted(got["qt"]) == list(range(16))
    assert all(w > 0 for w in got["qw"])
