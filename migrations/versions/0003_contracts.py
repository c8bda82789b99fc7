"""contracts: key terms of contract documents (parties, dates, term, renewal, notice, amounts)

Revision ID: 0003_contracts
Revises: 0001
Create Date: 2026-11-25 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_contracts"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contracts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("document_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("parties", postgresql.JSONB(astext_type=sa.Text()),
                  server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("term_months", sa.Integer(), nullable=True),
        sa.Column("renewal_months", sa.Integer(), nullable=True),
        sa.Column("after_term", sa.String(length=12), nullable=True),
        sa.Column("notice_value", sa.Integer(), nullable=True),
        sa.Column("notice_unit", sa.String(length=10), nullable=True),
        sa.Column("notice_to_month_end", sa.Boolean(), server_default=sa.text("false"),
                  nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("amounts", postgresql.JSONB(astext_type=sa.Text()),
                  server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.Column("payment_rhythm", sa.String(length=20), nullable=True),
        sa.Column("terms", postgresql.JSONB(astext_type=sa.Text()),
                  server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("warnings", postgresql.JSONB(astext_type=sa.Text()),
                  server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.Column("extracted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.CheckConstraint("method IN ('llm','rules')", name=op.f("ck_contracts_method")),
        sa.CheckConstraint(
            "notice_unit IS NULL OR notice_unit IN ('days','weeks','months','years')",
            name=op.f("ck_contracts_notice_unit"),
        ),
        sa.CheckConstraint("term_months IS NULL OR term_months > 0",
                           name=op.f("ck_contracts_term_months")),
        sa.CheckConstraint("renewal_months IS NULL OR renewal_months > 0",
                           name=op.f("ck_contracts_renewal_months")),
        sa.CheckConstraint("after_term IS NULL OR after_term IN ('renews','ends','open_ended')",
                           name=op.f("ck_contracts_after_term")),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"],
                                name=op.f("fk_contracts_document_id_documents"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        sa.UniqueConstraint("document_id", name=op.f("uq_contracts_document_id")),
    )


def downgrade() -> None:
    op.drop_table("contracts")
