"""the full-text index holds each chunk's date period and source: a filtered full-text search is one scan

A full-text search within dates or one source ANDed the GIN bitmap of the question's words with
a bitmap of every chunk in the range or the source, from their B-trees: at 10^6 chunks one year
or one source of twenty is ~50,000 rows, and that bitmap alone 3-5 ms of each such search
(bench/README.md, "Search at scale"). The GIN index now has two more columns, the chunk's
32-day date period and its source (app.core.fts_keys); the search asks for the words AND the
periods or sources in one index scan and tests the exact filter on the rows it returns.

The index is built again: ~110-160 s at 10^6 chunks on 2 cores; searches meanwhile scan the
table.

Revision ID: 0014_fts_filter_keys
Revises: 0013_lexeme_frequencies
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014_fts_filter_keys"
down_revision: str | Sequence[str] | None = "0013_lexeme_frequencies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported: a migration keeps meaning what it meant when it was written.
PERIOD = "ARRAY[((occurred_at AT TIME ZONE 'UTC')::date - DATE '1900-01-01') / 32]"
SOURCE = "ARRAY[source_id]"


def upgrade() -> None:
    op.execute("SET LOCAL maintenance_work_mem = '512MB'")
    op.drop_index("ix_chunks_tsv", table_name="chunks", postgresql_using="gin")
    op.execute(f"CREATE INDEX ix_chunks_tsv ON chunks USING gin (tsv, ({PERIOD}), ({SOURCE}))")


def downgrade() -> None:
    op.drop_index("ix_chunks_tsv", table_name="chunks", postgresql_using="gin")
    op.create_index("ix_chunks_tsv", "chunks", ["tsv"], unique=False, postgresql_using="gin")
