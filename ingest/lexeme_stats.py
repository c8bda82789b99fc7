"""How many chunks hold each common full-text lexeme, estimated from a sample of the chunks.

The full-text stage (app.retrieval.queries.RARE_FIRST_SQL) matches a question on its rare
lexemes first and reads the others only when those match too few chunks. "Rare" needs each
lexeme's chunk count: PostgreSQL's statistics keep the 1,000 most common lexemes, at 10^6
chunks those in more than ~1.5 % of them, so a word in 5,000 chunks looked rare and the GIN
bitmap of such words was half of the stage's time (bench/README.md, "Search at scale").

`refresh_if_stale` runs after every ingest run and does the work only when PostgreSQL has
analysed `chunks` since the last refresh (ANALYZE after a bulk import, autovacuum after ~10 %
of the rows changed), so the counts follow the index at the same pace as its own statistics.
Below MIN_CHUNKS the table stays empty: PostgreSQL's list then reaches down to words in a few
hundred chunks, and the stage needs nothing more.

    refresh_if_stale(db)  # True if it sampled
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from app.core.db import Database

log = logging.getLogger(__name__)

# An index smaller than this keeps no counts (see the module docstring).
MIN_CHUNKS = 50_000
# Chunks read for the estimate: at 10^6 chunks a 3 % sample, 4 s on a slow 2-core machine
# (ts_stat over 30,000 tsvectors); a lexeme in 500 chunks shows up ~15 times in it.
SAMPLE_CHUNKS = 30_000
# Lexemes seen in fewer sampled chunks are not stored (they count as rare anyway).
MIN_SAMPLED = 3


def refresh_if_stale(db: Database, *, min_chunks: int = MIN_CHUNKS) -> bool:
    """Re-estimate the counts if `chunks` was analysed since they were taken; True if it did."""
    with db.engine.connect() as conn:
        row = conn.execute(text(
            "SELECT c.reltuples, greatest(s.last_analyze, s.last_autoanalyze) AS analysed, "
            "(SELECT refreshed_at FROM lexeme_frequencies LIMIT 1) AS refreshed "
            "FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE c.oid = 'chunks'::regclass")).one()
        if row.reltuples < min_chunks:
            if row.refreshed is not None:  # the index shrank: PostgreSQL's list suffices
                conn.execute(text("DELETE FROM lexeme_frequencies"))
                conn.commit()
            return False
        if row.refreshed is not None and (row.analysed is None or row.analysed <= row.refreshed):
            return False
        refresh(conn, chunks=float(row.reltuples))
        conn.commit()
    return True


def refresh(conn: Connection, *, chunks: float, sample: int = SAMPLE_CHUNKS,
            min_sampled: int = MIN_SAMPLED) -> int:
    """Replace the counts with a fresh estimate (the caller commits); the lexemes stored.

    `chunks`: the table's row count (the planner's estimate does). The sample is of whole
    pages (TABLESAMPLE SYSTEM), as ANALYZE reads them.
    """
    t0 = time.perf_counter()
    percent = min(100.0, 100.0 * sample / max(chunks, 1.0))
    sampled = (f"SELECT tsv FROM chunks TABLESAMPLE SYSTEM ({percent:.6f}) REPEATABLE (1)"
               if percent < 100 else "SELECT tsv FROM chunks")
    conn.execute(text("DELETE FROM lexeme_frequencies"))
    # The time after the sample, not the transaction's start: an ANALYZE earlier in the same
    # transaction must not make the counts look stale. ts_stat's argument is a query text: ours, with a number written in by us.
    stored = conn.execute(text(
        "INSERT INTO lexeme_frequencies (lexeme, chunks, refreshed_at) "
        "SELECT word, round(ndoc * 100.0 / :percent)::bigint, clock_timestamp() "
        "FROM ts_stat(:sampled) "
        "WHERE ndoc >= :min_sampled"),
        {"percent": percent, "sampled": sampled, "min_sampled": min_sampled}).rowcount
    log.info("full-text word counts: %d lexemes from a %.1f %% sample in %.1f s", stored,
             percent, time.perf_counter() - t0)
    return int(stored or 0)
