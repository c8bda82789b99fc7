"""embedding queue (pending chunks, jobs with leases, workers) and token usage per answer

Revision ID: 0009_embed_queue
Revises: 0007_investments
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_embed_queue"
down_revision: str | Sequence[str] | None = "0007_investments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table("embedding_jobs",
    sa.Column("space_id", sa.Integer(), nullable=False),
    sa.Column("content_hash", sa.String(length=64), nullable=False),
    sa.Column("enqueued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    sa.Column("leased_by", sa.String(length=200), nullable=True),
    sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(["space_id"], ["embedding_spaces.id"], name=op.f("fk_embedding_jobs_space_id_embedding_spaces"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("space_id", "content_hash", name=op.f("pk_embedding_jobs"))
    )
    op.create_index("ix_embedding_jobs_ready", "embedding_jobs", ["space_id", "enqueued_at"], unique=False, postgresql_where=sa.text("failed_at IS NULL"))
    op.create_table("embedding_workers",
    sa.Column("id", sa.String(length=200), nullable=False),
    sa.Column("host", sa.String(length=200), nullable=False),
    sa.Column("pid", sa.Integer(), nullable=False),
    sa.Column("device", sa.String(length=100), nullable=False),
    sa.Column("space_id", sa.Integer(), nullable=True),
    sa.Column("status", sa.String(length=20), server_default=sa.text("'running'"), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("batches", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    sa.Column("texts", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    sa.Column("reused", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    sa.Column("chunks", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    sa.Column("tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    sa.Column("failures", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    sa.Column("embed_seconds", sa.Float(), server_default=sa.text("0"), nullable=False),
    sa.ForeignKeyConstraint(["space_id"], ["embedding_spaces.id"], name=op.f("fk_embedding_workers_space_id_embedding_spaces"), ondelete="SET NULL"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_embedding_workers"))
    )
    op.create_table("embedding_pending",
    sa.Column("space_id", sa.Integer(), nullable=False),
    sa.Column("chunk_id", sa.BigInteger(), nullable=False),
    sa.Column("document_id", sa.BigInteger(), nullable=False),
    sa.Column("content_hash", sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(["chunk_id"], ["chunks.id"], name=op.f("fk_embedding_pending_chunk_id_chunks"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name=op.f("fk_embedding_pending_document_id_documents"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["space_id"], ["embedding_spaces.id"], name=op.f("fk_embedding_pending_space_id_embedding_spaces"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("space_id", "chunk_id", name=op.f("pk_embedding_pending"))
    )
    op.create_index(op.f("ix_embedding_pending_document_id"), "embedding_pending", ["document_id"], unique=False)
    op.create_index("ix_embedding_pending_space_hash", "embedding_pending", ["space_id", "content_hash"], unique=False)
    op.add_column("answers", sa.Column("prompt_tokens", sa.Integer(), nullable=True))
    op.add_column("answers", sa.Column("completion_tokens", sa.Integer(), nullable=True))
    op.add_column("answers", sa.Column("first_token_ms", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("answers", "first_token_ms")
    op.drop_column("answers", "completion_tokens")
    op.drop_column("answers", "prompt_tokens")
    op.drop_index("ix_embedding_pending_space_hash", table_name="embedding_pending")
    op.drop_index(op.f("ix_embedding_pending_document_id"), table_name="embedding_pending")
    op.drop_table("embedding_pending")
    op.drop_table("embedding_workers")
    op.drop_index("ix_embedding_jobs_ready", table_name="embedding_jobs", postgresql_where=sa.text("failed_at IS NULL"))
    op.drop_table("embedding_jobs")
