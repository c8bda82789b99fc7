"""merge the bank branch and the mail/contracts/scheduler branch into one head

Revision ID: 0004_merge
Revises: 0002_bank, 0003_scheduler
Create Date: 2026-11-25
"""

from collections.abc import Sequence

revision: str = "0004_merge"
down_revision: str | Sequence[str] | None = ("0002_bank", "0003_scheduler")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
