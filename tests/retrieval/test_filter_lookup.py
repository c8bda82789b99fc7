"""The vector stages test each candidate against a filter on the chunk's copies of its
document's source, kind and date: index-only, on the chunks' (id) INCLUDE (filter columns)
B-tree (migration 0015), not a primary-key descent and a heap page per candidate."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from app.core.types import ParsedDocument, TextBlock
from app.core.vectors import to_halfvec
from app.retrieval import resolve_space
from app.retrieval.queries import (
    _filtered_walk,
    filter_sql,
    query_tokens,
    sparse_shortlist_statement,
)
from app.retrieval.types import SearchFilters
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources.folder import FolderSource

EMB = LexicalHashEmbedder()


class DatedParser:
    """Files named <n>.txt: letters in even months, contracts in odd ones, of 2025."""

    name, version = "test-dated", "1"

    def score(self, inp):
        return 100

    def parse(self, inp):
        n = int(inp.item.name.removesuffix(".txt"))
        return ParsedDocument(blocks=[TextBlock(inp.data.decode())], title=inp.item.name,
                              kind="letter" if n % 2 else "contract",
                              occurred_at=datetime(2025, 1 + n % 12, 10),
                              metadata={"folder": "INBOX" if n % 3 else "Archive"})


@pytest.fixture
def dated(clean_db, tmp_path: Path):
    for name in ("home", "work"):
        root = tmp_path / name
        root.mkdir()
        for n in range(24):
            (root / f"{n}.txt").write_text(f"Note {n} from {name}: the quokka gate needs oil.")
        Pipeline(clean_db, embedder=EMB, parsers=[DatedParser()], options=IngestOptions()).run(
            FolderSource(name, root))
    # As after a bulk import: the chunks' pages marked all-visible (without that an index-only
    # scan reads the heap too, and the planner, knowing, takes the primary key).
    with clean_db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("VACUUM ANALYZE chunks"))
    return clean_db


FILTERS = {
    "dates": SearchFilters(date_from=date(2025, 3, 1), date_to=date(2025, 6, 30)),
    "source": SearchFilters(sources=("work",)),
    "kind": SearchFilters(kinds=("letter",)),
    "metadata": SearchFilters(metadata={"folder": "inbox"}),
}


def _plan(db, sql: str, params: dict) -> str:
    with db.session() as s:
        # A handful of rows: the planner would hash-join or scan them all. A large index walks
        # its candidates one by one (bench/README.md, "Search at scale"), which these force.
        for setting in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin",
                        "enable_bitmapscan"):
            s.execute(text(f"SET LOCAL {setting} = off"))
        return "\n".join(r[0] for r in s.execute(text("EXPLAIN " + sql), params))


def _chunk_lookups(plan: str) -> list[str]:
    return re.findall(r"(Index(?: Only)? Scan using \w+ on chunks c)", plan)


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_the_sparse_shortlist_tests_its_candidates_index_only(dated, name):
    with dated.session() as s:
        space = resolve_space(s, EMB)
    emb = EMB.embed_query("quokka gate")
    sql, params = sparse_shortlist_statement(space, filters=FILTERS[name], candidates=60)
    plan = _plan(dated, sql, {**params, **query_tokens(emb.sparse)})
    assert _chunk_lookups(plan) == ["Index Only Scan using ix_chunks_id_filters on chunks c"], plan


# A metadata filter, PostgreSQL takes for selective (its estimate of an ILIKE on JSON is a row):
# it goes from the documents to their chunks, a plan of its choosing (queries._fts_branch).
@pytest.mark.parametrize("name", ["dates", "kind", "source"])
def test_the_filtered_dense_walk_tests_its_candidates_index_only(dated, name):
    with dated.session() as s:
        space = resolve_space(s, EMB)
    params: dict = {"qd": to_halfvec(EMB.embed_query("quokka gate").dense).to_text(), "cand": 60}
    joins, where = filter_sql(FILTERS[name], params)
    dist = f"(ce.dense::halfvec({space.dim})) <#> CAST(:qd AS halfvec({space.dim}))"
    plan = _plan(dated, _filtered_walk(dist, space.id, joins, where, walk=1000), params)
    assert _chunk_lookups(plan) == ["Index Only Scan using ix_chunks_id_filters on chunks c"], plan


def test_a_first_import_leaves_the_chunks_all_visible(clean_db, tmp_path):
    """A first import is a bulk load (ingest.bulk), whose end VACUUMs the chunks: until
    autovacuum came by, each filter test would read the chunk's heap page as well."""
    for n in range(30):
        (tmp_path / f"{n}.txt").write_text(f"Note {n}: the quokka gate needs oil. " * 40)
    report = Pipeline(clean_db, embedder=EMB, parsers=[DatedParser()],
                      options=IngestOptions()).run(FolderSource("notes", tmp_path))
    assert report.index_build_s is not None  # it was a bulk load
    with clean_db.engine.connect() as conn:
        pages, visible = conn.execute(text(
            "SELECT relpages, relallvisible FROM pg_class WHERE relname = 'chunks'")).one()
    assert pages > 0 and visible == pages
