"""mail: Message-ID registry of every copy a mail source offered (dedup across sources)

Revision ID: 0003_mail
Revises: 0003_contracts
Create Date: 2026-11-25 04:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_mail"
down_revision: str | Sequence[str] | None = "0003_contracts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_messages",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("document_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"],
                                name=op.f("fk_mail_messages_document_id_documents"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"],
                                name=op.f("fk_mail_messages_source_id_sources"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_messages")),
        sa.UniqueConstraint("source_id", "origin", name="uq_mail_messages_source_origin"),
    )
    op.create_index("ix_mail_messages_message_id", "mail_messages", ["message_id"], unique=False)
    op.create_index(op.f("ix_mail_messages_document_id"), "mail_messages", ["document_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_mail_messages_document_id"), table_name="mail_messages")
    op.drop_index("ix_mail_messages_message_id", table_name="mail_messages")
    op.drop_table("mail_messages")
