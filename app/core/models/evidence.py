"""Evidence: a receipt, invoice or mail linked to the transaction it documents (issue 15).

Rows are found by the matcher (app/money/evidence.py: same amount, a date near the booking, the
merchant named) after each sync; the owner may confirm one (`confirmed`), and a confirmed link is
never overwritten by a later match, or reject one (`rejected`: the row stays so that no later
match proposes that pair again; it is left out of answers). Deleting either side deletes the
link.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models.base import Base


class Evidence(Base):
    """One document that documents one transaction, with the match's score and reason."""

    __tablename__ = "evidence"
    __table_args__ = (
        UniqueConstraint("transaction_id", "document_id", name="uq_evidence_transaction_document"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("transactions.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(Float)  # 0..1, see app/money/evidence.py
    reason: Mapped[str] = mapped_column(Text)  # "amount 85.00 EUR; dated 2026-10-19; names …"
    confirmed: Mapped[bool] = mapped_column(Boolean, server_default=sql_text("false"))
    rejected: Mapped[bool] = mapped_column(Boolean, server_default=sql_text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
