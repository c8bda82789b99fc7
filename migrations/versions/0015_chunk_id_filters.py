"""the chunks' filter columns beside their id: the vector stages test candidates index-only

A filtered search tests each of its vector candidates against the filter on the chunk row: the
sparse shortlist 2,000 chunks, the dense walk up to 1,000. Through the primary key that is an
index descent and a heap page per chunk. This B-tree on the id carries the document, source,
kind and date as well, so the test reads the index alone (the chunks' heap pages hold the text
and its tsvector). At 10^6 chunks, 30 queries x 2 rounds, mean ms without -> with: date filter,
shortlist 16.3 -> 13.3 and dense + full text 19.3 -> 17.9; source filter, shortlist
15.5 -> 12.5 (bench/README.md, "Search at scale"). It takes ~55 MB and ~1.5 s to build per
10^6 chunks; ids only grow, so each insert lands at its right edge.

Revision ID: 0015_chunk_id_filters
Revises: 0014_fts_filter_keys
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015_chunk_id_filters"
down_revision: str | Sequence[str] | None = "0014_fts_filter_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_chunks_id_filters", "chunks", ["id"], unique=False,
                    postgresql_include=["document_id", "source_id", "kind", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_chunks_id_filters", table_name="chunks")
