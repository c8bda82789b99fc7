"""What keeps a search on a small index cheap (bench/small_search.py measures it): one round trip
for the active space and the search settings, a cached generic plan for unfiltered searches, and
custom plans kept for filtered ones (whose plan depends on how selective the filter is)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from app.core.db import make_engine
from app.retrieval import search_detailed
from app.retrieval.types import SearchFilters
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources.folder import FolderSource

EMB = LexicalHashEmbedder()
QUERIES = ["notice period of the gym", "rent increase from March", "household insurance premium",
           "holiday at the lake", "Kündigungsfrist Fitnessstudio", "boiler service invoice",
           "gym membership", "insurance renewal in May"]


@pytest.fixture
def small_index(clean_db, tmp_path: Path):
    root = tmp_path / "notes"
    root.mkdir()
    bodies = ["The gym membership has a notice period of three months.",
              "Household insurance: premium 240 euros per year, renewal in May.",
              "The landlord raises the rent to 950 euros from March.",
              "Holiday photos from the lake; we swam every morning.",
              "Die Kündigungsfrist für das Fitnessstudio beträgt drei Monate.",
              "Boiler service invoice: 180 euros, paid by transfer."]
    for i in range(24):
        front = "---\ndate: 2026-01-15\n---\n" if i % 3 == 0 else ""
        (root / f"note-{i:02d}.md").write_text(f"{front}# Note {i}\n\n{bodies[i % 6]} ({i})\n",
                                               encoding="utf-8")
    Pipeline(clean_db, embedder=EMB, options=IngestOptions()).run(FolderSource("notes", root))
    return clean_db


@pytest.fixture
def one_connection(small_index):
    """A session factory over a single pooled connection (its prepared statements persist)."""
    engine = make_engine(small_index.url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _search(engine, query: str, filters: SearchFilters | None = None):
    with Session(engine) as s, s.begin():
        return search_detailed(s, EMB, query, filters=filters, top_k=3)


def _plans(engine) -> list[tuple[int, int]]:
    """(generic, custom) plan counts of the prepared fused statements on the connection."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE 'WITH %rrf AS%'"))]


def test_a_search_makes_two_statements_and_leaves_no_setting_behind(one_connection):
    sent: list[str] = []
    event.listen(one_connection, "before_cursor_execute",
                 lambda conn, cur, statement, *a: sent.append(statement))
    res = _search(one_connection, "notice period of the gym")
    assert res.hits and "gym" in res.hits[0].text
    assert len(sent) == 2  # the active space with the settings, then the fused statement
    assert "set_config" in sent[0] and "embedding_spaces" in sent[0]
    with one_connection.connect() as conn:  # SET LOCAL: gone with the search's transaction
        assert conn.execute(text("SHOW hnsw.ef_search")).scalar() == "40"
        assert conn.execute(text("SHOW plan_cache_mode")).scalar() == "auto"


def test_unfiltered_searches_reuse_a_generic_plan(one_connection):
    results = {q: [h.chunk_id for h in _search(one_connection, q).hits] for q in QUERIES}
    again = {q: [h.chunk_id for h in _search(one_connection, q).hits] for q in QUERIES}
    assert again == results  # the cached plan ranks exactly as the first, custom-planned runs
    # psycopg prepares a statement on its 6th run; from then on every execution reuses the
    # generic plan (plan_cache_mode force_generic_plan: left to itself, PostgreSQL kept
    # planning custom, as the question's token arrays made each custom plan look cheaper).
    assert _plans(one_connection) == [(2 * len(QUERIES) - 5, 0)]


def test_filtered_searches_keep_custom_plans(one_connection):
    january = SearchFilters(date_from=date(2026, 1, 1), date_to=date(2026, 1, 31))
    for q in QUERIES * 2:
        hits = _search(one_connection, q, january).hits
        assert all(h.occurred_at and h.occurred_at.date() == date(2026, 1, 15) for h in hits)
    assert _plans(one_connection) == [(0, 2 * len(QUERIES) - 5)]
