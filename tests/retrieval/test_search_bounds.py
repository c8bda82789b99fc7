"""The latency bounds of hybrid retrieval keep its answers: full-text matching on selective
words, the ranked-match pool, bounded filtered HNSW scans with the exact fallback."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from app.core.vectors import to_halfvec, to_sparsevec
from app.retrieval import EXACT_FILTERED_MAX_VECTORS, hybrid_search, resolve_space
from app.retrieval.queries import hybrid_sql, query_tokens
from app.retrieval.types import SearchFilters
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources.folder import FolderSource

EMB = LexicalHashEmbedder()
TOPICS = ["boiler service", "bicycle repair", "window cleaning", "garden hedge", "roof gutter",
          "printer toner", "piano lessons", "dog walking", "tax advisor", "chimney sweep"]


def _write_bills(db, root: Path, count: int):
    """`count` bills that all say "EUR"; bill 7 is from Kubeda; the last three are dated
    January 2026 (the others have no date)."""
    root.mkdir()
    for i in range(count):
        who = "Kubeda lamps" if i == 7 else f"{TOPICS[i % 10]} service {i}"
        day = i - (count - 4)
        front = f"---\ndate: 2026-01-0{day}\n---\n" if day >= 1 else ""
        (root / f"bill-{i:03d}.md").write_text(
            f"{front}# Bill {i}\n\nInvoice from {who}: total {10 + i} EUR, due in 14 days.\n",
            encoding="utf-8")
    Pipeline(db, embedder=EMB, options=IngestOptions()).run(FolderSource("bills", root))
    with db.session() as s:
        s.execute(text("ANALYZE chunks"))  # the planner statistics the full-text stage reads
    return db


@pytest.fixture
def bills(clean_db, tmp_path: Path):
    return _write_bills(clean_db, tmp_path / "bills", 30)


@pytest.fixture
def many_bills(clean_db, tmp_path: Path):
    # More chunks than one HNSW search returns (ef_search 60), so a scan can come up short.
    return _write_bills(clean_db, tmp_path / "bills", 200)


def _names(hits) -> list[str]:
    return sorted(Path(h.path).name for h in hits)


def test_fts_matches_on_the_selective_word_when_another_is_everywhere(bills):
    query = "EUR Kubeda"
    with bills.session() as s:
        space = resolve_space(s, EMB)
        q = EMB.embed_query(query)
        # "eur" is in every chunk: with a pool of 5 it alone would overflow, so rows are matched
        # on "kubeda" only (and still ranked with the whole query).
        bounded = hybrid_search(s, space, query, q, stages=("fts",), top_k=50, fts_pool=5)
        unbounded = hybrid_search(s, space, query, q, stages=("fts",), top_k=50)
    assert _names(bounded) == ["bill-007.md"]
    assert len(unbounded) == 30  # with the default pool nothing here is common enough to drop
    assert unbounded[0].chunk_id == bounded[0].chunk_id


def test_fts_ranks_at_most_the_pool_when_every_word_is_common(bills):
    with bills.session() as s:
        space = resolve_space(s, EMB)
        hits = hybrid_search(s, space, "EUR", EMB.embed_query("EUR"), stages=("fts",),
                             top_k=50, fts_pool=5)
    assert len(hits) == 5


def test_exact_scoring_ranks_like_the_hnsw_indexes_on_a_small_index(bills):
    query = "bicycle repair invoice"
    with bills.session() as s:
        space = resolve_space(s, EMB)
        emb = EMB.embed_query(query)
        runs = {}
        for exact in (False, True):
            sql, params = hybrid_sql(space, stages=("dense", "sparse"), filters=SearchFilters(),
                                     candidates=30, top_k=10, rrf_k=60, has_terms=False,
                                     exact=exact)
            params.update(qd=to_halfvec(emb.dense).to_text(),
                          qs=to_sparsevec(emb.sparse, space.sparse_dim).to_text(),
                          **query_tokens(emb.sparse))
            s.execute(text("SET LOCAL hnsw.ef_search = 100"))
            runs[exact] = [r.chunk_id for r in s.execute(text(sql), params)]
    assert runs[True] == runs[False] and len(runs[True]) == 10


def test_filtered_search_whose_bounded_scan_comes_up_short_is_scored_exactly(many_bills):
    """The nearest 60 chunks hold at most one of the three January bills and no more tuples may
    be scanned; the exact fallback still returns all three, best first."""
    january = SearchFilters(date_from=date(2026, 1, 1), date_to=date(2026, 1, 31))
    query = "chimney sweep invoice"
    with many_bills.session() as s:
        space = resolve_space(s, EMB)
        # As on an index too large to score filtered searches exactly at once.
        space = replace(space, vectors=EXACT_FILTERED_MAX_VECTORS + 1)
        emb = EMB.embed_query(query)
        s.execute(text("SET LOCAL enable_sort = off"))  # the index path, even on 200 rows
        hits = hybrid_search(s, space, query, emb, filters=january, stages=("dense", "sparse"),
                             top_k=3, max_scan_tuples=1)
    assert _names(hits) == ["bill-197.md", "bill-198.md", "bill-199.md"]
    assert Path(hits[0].path).name == "bill-199.md"  # "chimney sweep service 199"


def test_a_filtered_walk_searches_the_graph_wider_unless_told():
    """The filtered walk goes 1,000 deep: its default breadth is FILTERED_EF_SEARCH (recall
    at 10^6 chunks 0.94 -> 0.967, bench/README.md); a caller's ef_search still wins."""
    from app.retrieval import FILTERED_EF_SEARCH, search_settings

    dated = SearchFilters(kinds=("letter",))
    assert search_settings(SearchFilters(), candidates=60)["hnsw.ef_search"] == "60"
    assert search_settings(dated, candidates=60)["hnsw.ef_search"] == str(FILTERED_EF_SEARCH)
    assert search_settings(dated, candidates=300)["hnsw.ef_search"] == "300"
    assert search_settings(dated, candidates=60, ef_search=80)["hnsw.ef_search"] == "80"
