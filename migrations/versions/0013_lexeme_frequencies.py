"""lexeme_frequencies: how many chunks hold each common full-text lexeme (sampled)

The full-text stage matches a question on its rare lexemes first. PostgreSQL's statistics on
chunks.tsv keep the 1,000 most common lexemes only: at 10^6 chunks those in more than ~1.5 % of
the chunks, so a word in 5,000 chunks passed as rare and its GIN bitmap was most of the stage's
time (bench/README.md, "Search at scale"). ingest.lexeme_stats fills this table from a sample.

Revision ID: 0013_lexeme_frequencies
Revises: 0012_chunk_filter_columns
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_lexeme_frequencies"
down_revision: str | Sequence[str] | None = "0012_chunk_filter_columns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lexeme_frequencies",
        sa.Column("lexeme", sa.Text(), nullable=False),
        sa.Column("chunks", sa.BigInteger(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.PrimaryKeyConstraint("lexeme", name=op.f("pk_lexeme_frequencies")),
    )


def downgrade() -> None:
    op.drop_table("lexeme_frequencies")
