"""Bulk loading: a large import builds a space's search indexes once, at the end, not row by row.

Keeping an HNSW graph current costs about 1.2 ms per chunk on the 2-core bench machine (measured
when the sparse vectors had a graph of their own, most of that cost); building it over rows
already loaded costs about 0.3 ms per chunk, which is pgvector's own advice ("create the index
after loading your initial data"). Mail: 262 msg/s with live indexes, 371 msg/s with
drop-then-build, build included (bench/README.md). The sparse postings' B-tree is built the
same way (sorted once instead of ~70 inserts per chunk).

When: at the first batch of a run into an empty space (a first import: there is no graph worth
keeping current), or once a run has written `min_items` new documents and the space holds no
more than twice the chunks this run wrote (an import as large as what is there), the space's
two search indexes are dropped and built again when the run ends. A small update to a large index
never takes this path: rebuilding the whole graph would cost more than it saves.

Safety:
- The loading process holds a session-level advisory lock (`homerag:bulk:<space>`) for the
  whole load. A later run that finds the indexes missing rebuilds them only if it can take that
  lock, i.e. when the loader died (SIGKILL, power cut) - `restore_indexes`.
- The rebuild runs in the run's `finally`: an error or Ctrl-C still ends with the indexes built.
- Meanwhile searches are exact scans of the space: correct, slower.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from app.core.db import Database
from ingest import store

log = logging.getLogger(__name__)

# Memory for one index build (a session setting; PostgreSQL's default of 64 MB spills a graph
# of a few ten thousand 1024-d vectors to disk, which is several times slower).
BUILD_MEMORY = "512MB"


def _lock_key(space_id: int) -> dict[str, str]:
    return {"key": f"homerag:bulk:{int(space_id)}"}


def missing_indexes(conn: Connection, space_id: int) -> list[str]:
    """Names of this space's search indexes that do not exist (or are not valid)."""
    names = store.space_index_names(space_id)
    valid = set(conn.scalars(text(
        "SELECT c.relname FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
        "WHERE c.relname = ANY(:names) AND i.indisvalid"), {"names": names}))
    return [n for n in names if n not in valid]


def space_rows(conn: Connection, space_id: int) -> int:
    return int(conn.scalar(text("SELECT count(*) FROM chunk_embeddings WHERE space_id = :s"),
                           {"s": int(space_id)}) or 0)


def space_has_rows(conn: Connection, space_id: int) -> bool:
    return bool(conn.scalar(text(
        "SELECT EXISTS (SELECT 1 FROM chunk_embeddings WHERE space_id = :s)"),
        {"s": int(space_id)}))


def _build(db: Database, conn: Connection, space: store.EmbeddingSpace) -> None:
    """Build the space's two indexes at once, the sparse one on a second connection (speed:
    each build is one backend on one core; together they take the longer of the two, the
    dense HNSW graph's)."""
    dense, sparse = store.space_index_sql(space)
    with ThreadPoolExecutor(max_workers=1) as pool:
        other = pool.submit(_build_postings, db, sparse)
        try:
            conn.execute(text(f"SET maintenance_work_mem = '{BUILD_MEMORY}'"))
            conn.execute(text(dense))
            conn.execute(text("RESET maintenance_work_mem"))
            conn.commit()
        finally:
            other.result()
    # The import's statistics now, not at autovacuum's next pass: search reads them (the
    # full-text stage's selective words, queries.MATCH_QUERY_SQL; the index size that picks
    # the sparse stage's source, app.retrieval), and the ledger's, which the next sync reads
    # whole (planned on an empty table's estimate it was a nested loop: 20,000 items 55 ms).
    conn.execute(text("ANALYZE documents, chunks, chunk_embeddings, source_items"))
    conn.commit()


def _build_postings(db: Database, statement: str) -> None:
    """The postings' B-tree, a VACUUM (ANALYZE) of the postings, a VACUUM of the chunks and the
    full-text index's pending entries merged, on a connection of their own while the dense
    graph builds (it takes longer, so this costs the import no wall time). Left to autovacuum,
    a fresh import was searched slowly until it came by (bench/small_search.py, 4,430 chunks):

    - The sparse stage reads its postings index-only, which skips the table only for pages the
      visibility map marks all-visible, and only VACUUM marks them: before, a heap fetch per
      posting or a bitmap scan (p50 4.4 / p95 6.7 ms -> 3.6 / 5.3 ms with the VACUUM).
    - The chunks' GIN index takes new rows into a pending list (fastupdate) that every
      full-text search reads whole, so the planner scanned the table instead: 9 ms of a 12 ms
      search on a fresh import: it is merged here.
    - The vector stages test their candidates against a filter index-only
      (ix_chunks_id_filters, migration 0015): the VACUUM of the chunks marks their pages.
    """
    with db.engine.connect() as conn:
        conn.execute(text(f"SET maintenance_work_mem = '{BUILD_MEMORY}'"))
        conn.execute(text(statement))
        conn.execute(text("RESET maintenance_work_mem"))
        conn.commit()
        conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("VACUUM (ANALYZE) sparse_postings"))
        conn.execute(text("VACUUM chunks"))  # merges the GIN index's pending list too


def restore_indexes(db: Database, space: store.EmbeddingSpace) -> bool:
    """Build the space's indexes if a bulk load died without building them; True if it did.

    A bulk load still running elsewhere holds the lock: its indexes are left for it to build.
    """
    with db.engine.connect() as conn:
        if not missing_indexes(conn, space.id):
            return False
        conn.commit()
        key = _lock_key(space.id)
        if not conn.execute(text("SELECT pg_try_advisory_lock(hashtext(:key))"), key).scalar():
            conn.commit()
            return False
        try:
            conn.commit()
            log.warning("search indexes of space %s were missing (an import was interrupted); "
                        "building them", space.name)
            _build(db, conn, space)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(hashtext(:key))"), key)
            conn.commit()
    return True


class BulkLoad:
    """Decides when a run switches to bulk loading, and builds the indexes when it ends."""

    def __init__(self, db: Database, space: store.EmbeddingSpace, min_items: int) -> None:
        self.db = db
        self.space = space
        self.min_items = min_items
        self.active = False
        self._next_check = min_items
        self._asked = False
        self._conn: Connection | None = None

    def consider(self, written_items: int, written_chunks: int) -> bool:
        """Called before each batch is written, with the run's documents and chunks including
        that batch; True once bulk loading has started (then it stays on)."""
        if self.active or self.min_items <= 0:
            return self.active
        first, self._asked = not self._asked, True
        if not first and written_items < self._next_check:
            return False
        conn = self.db.engine.connect()
        try:
            if written_items >= self._next_check:
                # Checks at min, 2*min, 4*min ... written items: a count(*) per batch would
                # cost more than it could save on a large index.
                self._next_check = max(self._next_check * 2, written_items + 1)
                wanted = space_rows(conn, self.space.id) <= 2 * written_chunks
            else:
                # A first import: there is no graph worth keeping current. Asked as "any row?",
                # not counted: every sync asks, and count(*) read the whole space (30 ms at
                # 28,000 chunks, growing with the index).
                wanted = not space_has_rows(conn, self.space.id)
            if not wanted:
                conn.close()
                return False
            conn.commit()
            got = conn.execute(text("SELECT pg_try_advisory_lock(hashtext(:key))"),
                               _lock_key(self.space.id)).scalar()
            conn.commit()
            if not got:  # another process is bulk loading this space: its indexes are gone
                conn.close()
                return False
            store.drop_space_indexes(conn, self.space.id)
            conn.commit()
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        self.active = True
        log.info("bulk import into space %s: search indexes are built when the import ends",
                 self.space.name)
        return True

    def finish(self) -> None:
        """Build the indexes again (after success, failure or Ctrl-C alike) and let go."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            _build(self.db, conn, self.space)
        finally:
            try:
                conn.execute(text("SELECT pg_advisory_unlock(hashtext(:key))"),
                             _lock_key(self.space.id))
                conn.commit()
            except SQLAlchemyError:
                conn.invalidate()  # the server is gone, and the lock with its session
            finally:
                conn.close()
