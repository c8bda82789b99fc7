"""Use case: storage upkeep of the vectors. `homerag db repack-vectors` rewrites chunk_embeddings
so that every stored row is whole in its heap page (migration 0016): vectors written before that
upgrade stay in the TOAST table, where each candidate of a search's HNSW walk costs three more
page reads, until they are rewritten."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from app.services.runtime import Runtime

_SIZES = text(
    "SELECT pg_relation_size(c.oid), pg_relation_size(c.reltoastrelid) FROM pg_class c "
    "WHERE c.oid = 'chunk_embeddings'::regclass")


def vector_layout(conn: Connection) -> dict[str, Any]:
    """Heap and TOAST bytes of the vectors' table (no row count: `homerag status` asks), and
    whether a repack is advised: more bytes out of line than in the rows, as when the vectors
    were stored before migration 0016 (after it, only unusually long sparse vectors go out of
    line: 0.4 GB of TOAST beside a 3.8 GB heap at 10^6 BGE-sized chunks)."""
    heap, toast = conn.execute(_SIZES).one()
    heap, toast = int(heap), int(toast or 0)
    return {"heap_bytes": heap, "toast_bytes": toast, "repack_advised": toast > heap}


def vector_storage(conn: Connection) -> dict[str, int]:
    """The vectors' table: rows (counted: a scan of the table), heap bytes and TOAST bytes."""
    layout = vector_layout(conn)
    rows = conn.scalar(text("SELECT count(*) FROM chunk_embeddings"))
    return {"rows": int(rows or 0), "heap_bytes": layout["heap_bytes"],
            "toast_bytes": layout["toast_bytes"]}


# An HNSW graph of 1,024-d halfvecs takes ~2.7 KB a vector to build in memory (docs/scaling.md);
# one that does not fit is built several times slower. Bounded: at most 4 GB, and at most a
# quarter of this machine's memory (the embedded server's; a server elsewhere gets the same).
GRAPH_KB_PER_VECTOR = 3
BUILD_MEMORY_MB = (512, 4096)


def build_memory_mb(vectors: int, machine_mb: int | None) -> int:
    """maintenance_work_mem for rebuilding the graphs of `vectors` stored vectors."""
    low, high = BUILD_MEMORY_MB
    if machine_mb is not None:
        high = max(low, min(high, machine_mb // 4))
    return max(low, min(high, vectors * GRAPH_KB_PER_VECTOR // 1024))


def repack_vectors(rt: Runtime, *, before: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Rewrite the vectors' table (VACUUM FULL: its indexes, the HNSW graphs among them, are
    built again; searches and ingest wait for it, ~8 min per 10^6 vectors on 2 cores).
    `before`: its vector_storage, when the caller took it already (the count scans the table).
    Returns the storage before and after and the seconds it took."""
    from app.core.pgmemory import memory_limit_mb

    with rt.db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        before = dict(before) if before is not None else vector_storage(conn)
        started = time.perf_counter()
        memory = build_memory_mb(before["rows"], memory_limit_mb())
        conn.execute(text(f"SET maintenance_work_mem = '{memory}MB'"))
        conn.execute(text("VACUUM FULL chunk_embeddings"))
        conn.execute(text("RESET maintenance_work_mem"))
        seconds = time.perf_counter() - started
        conn.execute(text("ANALYZE chunk_embeddings"))
        after = vector_storage(conn)
    return {"before": before, "after": after, "seconds": round(seconds, 1),
            "build_memory_mb": memory}
