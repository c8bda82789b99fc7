"""Message-ID registry for mail dedup across folders, mbox files, sources and re-imports.

One row per copy of a message a source offered: the copy that was indexed points to its
document; copies skipped as duplicates have no document. When the indexed copy goes away, its
duplicates' ledger rows are cleared so the next sync indexes one of them instead
(`ingest.mail.dedup`).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models.base import Base


class MessageCopy(Base):
    """One copy of a message offered by a source (see module docstring)."""

    __tablename__ = "mail_messages"
    __table_args__ = (
        UniqueConstraint("source_id", "origin", name="uq_mail_messages_source_origin"),
        Index("ix_mail_messages_message_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # A normalised Message-ID, or "sha256:<hex>" of the bytes for mail without one.
    message_id: Mapped[str] = mapped_column(Text)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    origin: Mapped[str] = mapped_column(Text)
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
