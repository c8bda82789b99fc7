"""A full-text search within dates or sources finds its matches through the date periods and
source keys in the full-text index (app.core.fts_keys, migration 0014) and tests the exact
filter on each row: the same chunks as the filter itself, a date range in any session time
zone, at the edges of days and of periods."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from app.core.fts_keys import EPOCH, MAX_PERIODS, PERIOD_DAYS, period_sql, periods
from app.core.types import ParsedDocument, TextBlock
from app.core.vectors import to_halfvec, to_sparsevec
from app.retrieval import resolve_space, search
from app.retrieval.queries import hybrid_sql, sparse_shortlist_statement
from app.retrieval.types import SearchFilters
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources.folder import FolderSource

EMB = LexicalHashEmbedder()
# The first day of a period in March 2026, so that the corpus straddles two periods.
BOUNDARY = EPOCH + timedelta(days=PERIOD_DAYS * ((date(2026, 3, 15) - EPOCH).days // PERIOD_DAYS))
# Around the boundary, each day at 00:30 and 23:30 UTC: next to midnight in every time zone
# PostgreSQL knows (UTC-12 to UTC+14), so a range's first and last day differ by zone.
STAMPS = [datetime.combine(BOUNDARY + timedelta(days=d), datetime.min.time(), UTC)
          + timedelta(minutes=m) for d in range(-4, 5) for m in (30, 23 * 60 + 30)]
ZONES = ("UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Europe/Berlin")


class StampParser:
    """Files named <n>.txt: dated STAMPS[n]."""

    name, version = "test-stamped", "1"

    def score(self, inp):
        return 100

    def parse(self, inp):
        n = int(inp.item.name.removesuffix(".txt"))
        return ParsedDocument(blocks=[TextBlock(inp.data.decode())], title=inp.item.name,
                              kind="letter", occurred_at=STAMPS[n])


@pytest.fixture
def stamped(clean_db, tmp_path: Path):
    """The STAMPS letters, even ones in source "even", odd ones in "odd"."""
    for parity in ("even", "odd"):
        root = tmp_path / parity
        root.mkdir()
        for n in range(parity == "odd", len(STAMPS), 2):
            (root / f"{n}.txt").write_text(f"Letter {n}: the quokka enclosure needs a new gate.")
        Pipeline(clean_db, embedder=EMB, parsers=[StampParser()], options=IngestOptions()).run(
            FolderSource(parity, root))
    return clean_db


def _in_range(zone: str, first: date, last: date) -> list[int]:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    return [n for n, ts in enumerate(STAMPS) if first <= ts.astimezone(tz).date() <= last]


def test_periods_cover_a_closed_range_with_a_day_to_spare_and_leave_the_rest_to_the_planner():
    first, last = date(2026, 1, 10), date(2026, 12, 20)
    got = periods(first, last)
    assert got == list(range(got[0], got[-1] + 1))
    assert got[0] == (first - timedelta(days=1) - EPOCH).days // PERIOD_DAYS
    assert got[-1] == (last + timedelta(days=1) - EPOCH).days // PERIOD_DAYS
    assert periods(first, None) == [] and periods(None, last) == []
    assert periods(date(2000, 1, 1), date(2000, 1, 1) + timedelta(days=PERIOD_DAYS * MAX_PERIODS)) == []


def test_the_period_sql_puts_a_timestamp_in_the_period_of_its_utc_date(db):
    with db.session() as s:
        for ts in (STAMPS[0], STAMPS[-1], datetime(1999, 12, 31, 23, 59, tzinfo=UTC)):
            got = s.scalar(text(f"SELECT ({period_sql('t')})[1] FROM (SELECT CAST(:ts AS "
                                "timestamptz) AS t) x"), {"ts": ts})
            assert got == (ts.date() - EPOCH).days // PERIOD_DAYS


@pytest.mark.parametrize("counted", [False, True], ids=["plain", "rare-first"])
def test_a_date_filtered_full_text_search_returns_the_ranges_chunks_in_any_time_zone(
        stamped, counted):
    if counted:  # lexeme counts: the rare-first statement (queries.RARE_FIRST_SQL) runs
        with stamped.engine.begin() as conn:
            conn.execute(text("INSERT INTO lexeme_frequencies (lexeme, chunks) "
                              "VALUES ('enclosur', 5000), ('enclosure', 5000)"))
    ranges = [(BOUNDARY, BOUNDARY), (BOUNDARY - timedelta(days=2), BOUNDARY - timedelta(days=1)),
              (BOUNDARY - timedelta(days=1), BOUNDARY + timedelta(days=3))]
    for zone in ZONES:
        for first, last in ranges:
            with stamped.session() as s:
                s.execute(text("SELECT set_config('TimeZone', :z, true)"), {"z": zone})
                assert resolve_space(s, EMB).lexeme_counts is counted
                hits = search(s, EMB, "quokka enclosure", top_k=50, stages=("fts",),
                              filters=SearchFilters(date_from=first, date_to=last))
                got = sorted(int(Path(h.path).stem) for h in hits)
            assert got == _in_range(zone, first, last), (zone, first, last)


@pytest.mark.parametrize("counted", [False, True], ids=["plain", "rare-first"])
def test_a_source_filtered_full_text_search_returns_the_sources_chunks(stamped, counted):
    if counted:
        with stamped.engine.begin() as conn:
            conn.execute(text("INSERT INTO lexeme_frequencies (lexeme, chunks) "
                              "VALUES ('enclosur', 5000), ('enclosure', 5000)"))
    first, last = BOUNDARY - timedelta(days=1), BOUNDARY + timedelta(days=1)
    with stamped.session() as s:
        s.execute(text("SET LOCAL TimeZone = 'UTC'"))
        got = {}
        for name, filters in {
                "odd": SearchFilters(sources=("odd",)),
                "folders": SearchFilters(source_kinds=("folder",)),
                "odd, in days": SearchFilters(sources=("odd",), date_from=first, date_to=last),
                "none": SearchFilters(sources=("nowhere",))}.items():
            hits = search(s, EMB, "quokka enclosure", top_k=50, stages=("fts",), filters=filters)
            got[name] = sorted(int(Path(h.path).stem) for h in hits)
    assert got["odd"] == list(range(1, len(STAMPS), 2))
    assert got["folders"] == list(range(len(STAMPS)))
    assert got["odd, in days"] == [n for n in _in_range("UTC", first, last) if n % 2]
    assert got["none"] == []


@pytest.mark.parametrize("filters", [
    SearchFilters(date_from=BOUNDARY, date_to=BOUNDARY + timedelta(days=2)),
    SearchFilters(sources=("odd",)),
], ids=["dates", "source"])
def test_the_full_text_index_answers_the_filter_itself(stamped, filters):
    """The query's period and source expressions are the index's (else the planner cannot use
    them, and the search silently goes back to the B-trees' bitmaps or to the heap)."""
    with stamped.session() as s:
        space = resolve_space(s, EMB)
        sql, params = hybrid_sql(space, stages=("fts",), filters=filters, candidates=60,
                                 top_k=10, rrf_k=60, has_terms=True)
        emb = EMB.embed_query("quokka")
        params |= {"qd": to_halfvec(emb.dense).to_text(),
                   "qs": to_sparsevec(emb.sparse, space.sparse_dim).to_text(),
                   "terms": "'quokka'", "terms_simple": "'quokka'"}
        s.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(r[0] for r in s.execute(text("EXPLAIN " + sql), params))
    column = "occurred_at" if filters.date_from else "source_id"
    conds = [line for line in plan.splitlines() if "Index Cond" in line and "tsv @@" in line]
    assert conds and all(column in line and "&&" in line for line in conds), plan
    assert "ix_chunks_occurred_at" not in plan and "ix_chunks_source_id" not in plan


def test_the_vector_stages_test_the_filter_on_their_candidates_without_the_index_keys(stamped):
    """The keys are the full-text index's: in the dense walk or the sparse shortlist they let
    the planner hash-join the walk with every chunk of the source (at 10^5 chunks the dense
    stage went from 6 to 23 ms), where it stopped at the first candidates that pass."""
    filters = SearchFilters(sources=("odd",), date_from=BOUNDARY, date_to=BOUNDARY)
    with stamped.session() as s:
        space = resolve_space(s, EMB)
    vectors, _ = hybrid_sql(space, stages=("dense", "sparse"), filters=filters, candidates=60,
                            top_k=10, rrf_k=60, has_terms=True)
    shortlist, _ = sparse_shortlist_statement(space, filters=filters, candidates=60)
    full_text, _ = hybrid_sql(space, stages=("fts",), filters=filters, candidates=60, top_k=10,
                              rrf_k=60, has_terms=True)
    for sql in (vectors, shortlist):
        assert "&&" not in sql and "c.source_id = ANY(" in sql and "c.occurred_at >=" in sql
    assert full_text.count("&&") >= 2
