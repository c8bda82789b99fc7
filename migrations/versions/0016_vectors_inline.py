"""vectors stay in their heap row: chunk_embeddings keeps rows of up to 4,080 bytes whole

PostgreSQL moves a row's largest values to the TOAST table until the row is under
toast_tuple_target, 2,032 bytes by default. A 1,024-d halfvec alone is 2,052 bytes, so every
BGE-M3 dense vector lived in TOAST: each candidate of an HNSW walk (the walk reads the row to
compute its distance) cost its heap page, a descent of the TOAST index and two TOAST pages. With
rows of up to 4,080 bytes kept whole (a dense vector and a sparse one of up to ~250 tokens), a
date-filtered walk of 1,000 candidates at 10^5 chunks went from 13.5 to 9.3 ms (bench/README.md,
"Search at scale"); the table is the same size (heap + TOAST 431 -> 422 MB).

The setting applies to rows written from now on. Rows already stored are rewritten here when
there are few of them (VACUUM FULL, which also rebuilds the table's indexes: ~30 s per 10^5
vectors on 2 cores); a larger table is left as it is, its rows moving as they are rewritten,
and the upgrade says how to move them all at once in a quiet hour.

Revision ID: 0016_vectors_inline
Revises: 0015_chunk_id_filters
Create Date: 2026-12-08
"""

import logging
from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0016_vectors_inline"
down_revision: str | Sequence[str] | None = "0015_chunk_id_filters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

TARGET = 4080
# Up to this many stored vectors the rewrite runs during the upgrade (under a minute).
REWRITE_MAX_ROWS = 200_000


def upgrade() -> None:
    op.execute(f"ALTER TABLE chunk_embeddings SET (toast_tuple_target = {TARGET})")
    rows = op.get_bind().scalar(text("SELECT count(*) FROM (SELECT 1 FROM chunk_embeddings "
                                     f"LIMIT {REWRITE_MAX_ROWS + 1}) x"))
    if not rows:
        return
    if rows > REWRITE_MAX_ROWS:
        log.warning("chunk_embeddings: vectors stored before this upgrade stay in the TOAST "
                    "table until rewritten; to move them now (faster search; ~8 min per 10^6 "
                    "vectors on 2 cores, the search index rebuilt with them, searches wait "
                    "meanwhile): homerag db repack-vectors")
        return
    with op.get_context().autocommit_block():
        # The rewrite rebuilds the HNSW graphs: in memory, or several times slower.
        op.execute("SET maintenance_work_mem = '1GB'")
        op.execute("VACUUM FULL chunk_embeddings")
        op.execute("RESET maintenance_work_mem")


def downgrade() -> None:
    op.execute("ALTER TABLE chunk_embeddings RESET (toast_tuple_target)")
