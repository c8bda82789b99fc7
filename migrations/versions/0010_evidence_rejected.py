"""evidence: the owner may reject a link (kept, so the matcher never proposes it again)

Revision ID: 0010_evidence_rejected
Revises: 0009_embed_queue
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_evidence_rejected"
down_revision: str | Sequence[str] | None = "0009_embed_queue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("evidence", sa.Column("rejected", sa.Boolean(),
                                        server_default=sa.text("false"), nullable=False))


def downgrade() -> None:
    op.drop_column("evidence", "rejected")
