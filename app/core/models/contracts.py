"""Contract key terms extracted from contract documents, one row per document.

Dates that move with time (next renewal, last day to cancel) are not stored: they are computed
for a given day by `app.contracts.deadlines`, so they never go stale. `terms` keeps each value's
citation: {"notice_period": {"value": "P3M", "chunk_id": 12, "page": 2, "quote": "..."}, ...}.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models.base import Base

EXTRACTION_METHODS = ("llm", "rules")
PERIOD_UNITS = ("days", "weeks", "months", "years")


class Contract(Base):
    """Key terms of one contract document (see module docstring)."""

    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint("method IN ('llm','rules')", name="method"),
        CheckConstraint(
            "notice_unit IS NULL OR notice_unit IN ('days','weeks','months','years')",
            name="notice_unit",
        ),
        CheckConstraint("term_months IS NULL OR term_months > 0", name="term_months"),
        CheckConstraint("renewal_months IS NULL OR renewal_months > 0", name="renewal_months"),
        CheckConstraint(
            "after_term IS NULL OR after_term IN ('renews','ends','open_ended')", name="after_term"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), unique=True
    )
    title: Mapped[str | None] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(10))
    model: Mapped[str | None] = mapped_column(Text)
    parties: Mapped[list[str]] = mapped_column(JSONB, server_default=sql_text("'[]'::jsonb"))
    start_date: Mapped[date | None] = mapped_column(Date)
    # Initial fixed term; None: open-ended (cancellable with notice at any time).
    term_months: Mapped[int | None] = mapped_column(Integer)
    # Automatic extension after the term (after_term = 'renews').
    renewal_months: Mapped[int | None] = mapped_column(Integer)
    # What happens when the fixed term is over: renews | ends | open_ended (runs until
    # cancelled); None when the text does not say.
    after_term: Mapped[str | None] = mapped_column(String(12))
    notice_value: Mapped[int | None] = mapped_column(Integer)
    notice_unit: Mapped[str | None] = mapped_column(String(10))
    # Open-ended contracts: notice takes effect at the end of a month.
    notice_to_month_end: Mapped[bool] = mapped_column(Boolean, server_default=sql_text("false"))
    end_date: Mapped[date | None] = mapped_column(Date)  # an explicit end stated in the text
    amounts: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=sql_text("'[]'::jsonb")
    )
    payment_rhythm: Mapped[str | None] = mapped_column(String(20))
    terms: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=sql_text("'{}'::jsonb"))
    warnings: Mapped[list[str]] = mapped_column(JSONB, server_default=sql_text("'[]'::jsonb"))
    extracted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
