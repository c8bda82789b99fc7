"""Use case: storage upkeep of the vectors. `homerag db repack-vectors` rewrites chunk_embeddings
so that every stored row is whole in its heap page (migration 0016): vectors written before that
upgrade stay in the TOAST table, where each candidate of a search's HNSW walk costs three more
page reads, until they are rewritten."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from app.services.runtime import Runtime

_SIZES = text(
    "SELECT pg_relation_size(c.oid), pg_relation_size(c.reltoastrelid), "
    "(SELECT count(*) FROM chunk_embeddings) FROM pg_class c "
    "WHERE c.oid = 'chunk_embeddings'::regclass")


def vector_storage(conn: Connection) -> dict[str, int]:
    """The vectors' table: rows, heap bytes and TOAST bytes."""
    heap, toast, rows = conn.execute(_SIZES).one()
    return {"rows": int(rows), "heap_bytes": int(heap), "toast_bytes": int(toast or 0)}


def repack_vectors(rt: Runtime) -> dict[str, Any]:
    """Rewrite the vectors' table (VACUUM FULL: its indexes, the HNSW graphs among them, are
    built again; searches and ingest wait for it, ~8 min per 10^6 vectors on 2 cores).
    Returns the storage before and after and the seconds it took."""
    from ingest.bulk import BUILD_MEMORY

    with rt.db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        before = vector_storage(conn)
        started = time.perf_counter()
        # The graphs are rebuilt in memory, or several times slower (ingest.bulk).
        conn.execute(text(f"SET maintenance_work_mem = '{BUILD_MEMORY}'"))
        conn.execute(text("VACUUM FULL chunk_embeddings"))
        conn.execute(text("RESET maintenance_work_mem"))
        seconds = time.perf_counter() - started
        conn.execute(text("ANALYZE chunk_embeddings"))
        after = vector_storage(conn)
    return {"before": before, "after": after, "seconds": round(seconds, 1)}
