"""Money as data: accounts, statements, transactions (+ where each one occurs), stored reports,
and investments: securities, holdings (positions per account and date) and investment
transactions (+ where each one occurs).

Deletion rules (so that nothing real is lost when statement files overlap):
- `statements` and `transaction_occurrences` belong to their file: ON DELETE CASCADE from
  `documents`. An occurrence is "this transaction appears in this statement at page/line/row".
- `transactions` are shared by every file that lists them (dedup key per account). Their
  `document_id`/`statement_id` point to the primary occurrence with ON DELETE SET NULL, never
  CASCADE: deleting one of two overlapping files keeps the transaction; the statement hook
  re-points it to a remaining occurrence, and deletes a transaction only when its last
  occurrence is gone (`ingest.money.hook`).
- `investment_transactions` follow the same rules with `investment_occurrences`; `holdings`
  belong to their statement file (CASCADE): a position is what one statement says on its date.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models.base import Base, TimestampMixin


class Account(TimestampMixin, Base):
    """A bank account or card as statements identify it (the full number is never stored)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # sha256 of institution + full account identifier: stable identity without the number.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    institution: Mapped[str | None] = mapped_column(Text)
    number_masked: Mapped[str | None] = mapped_column(String(64))  # e.g. "DE89 **** 3000"
    currency: Mapped[str | None] = mapped_column(String(3))
    type: Mapped[str | None] = mapped_column(String(20))  # checking | savings | credit | ...
    name: Mapped[str | None] = mapped_column(Text)  # owner's label, editable


class Statement(TimestampMixin, Base):
    """One statement inside a file (a file may hold several: MT940 days, OFX accounts)."""

    __tablename__ = "statements"
    __table_args__ = (
        UniqueConstraint("document_id", "ordinal", name="uq_statements_document_ordinal"),
        CheckConstraint("balance_status IN ('ok','mismatch','unverified')", name="balance_status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int] = mapped_column(Integer)  # position of the statement in its file
    format: Mapped[str] = mapped_column(String(20))  # ingest.money.types.FORMATS
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str | None] = mapped_column(String(3))
    opening_balance: Mapped[Decimal | None] = mapped_column(Numeric)
    closing_balance: Mapped[Decimal | None] = mapped_column(Numeric)
    transaction_count: Mapped[int] = mapped_column(Integer, server_default=sql_text("0"))
    balance_status: Mapped[str] = mapped_column(
        String(10), server_default=sql_text("'unverified'"))
    balance_difference: Mapped[Decimal | None] = mapped_column(Numeric)  # closing - expected
    meta: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=sql_text("'{}'::jsonb")
    )


class Transaction(TimestampMixin, Base):
    """One real money movement, stored once however many statement files list it."""

    __tablename__ = "transactions"
    __table_args__ = (
        UniqueConstraint("account_id", "dedup_key", name="uq_transactions_account_dedup"),
        Index("ix_transactions_booking_date", "booking_date"),
        Index("ix_transactions_account_date", "account_id", "booking_date"),
        Index("ix_transactions_merchant", "merchant"),
        Index("ix_transactions_category", "category"),
        CheckConstraint("status IN ('booked','pending')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # Primary occurrence (first file that listed it); SET NULL, see the module docstring.
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), index=True
    )
    statement_id: Mapped[int | None] = mapped_column(
        ForeignKey("statements.id", ondelete="SET NULL"), index=True
    )
    booking_date: Mapped[date] = mapped_column(Date)
    value_date: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric)  # signed: negative = money out
    currency: Mapped[str] = mapped_column(String(3))
    counterparty: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    # Normalised counterparty used for grouping and anomaly history ("rewe markt 123" -> "rewe").
    merchant: Mapped[str | None] = mapped_column(Text)
    bank_ref: Mapped[str | None] = mapped_column(Text)  # FITID, AcctSvcrRef, MT940 ref ...
    type: Mapped[str | None] = mapped_column(String(40))  # bank's transaction type code
    status: Mapped[str] = mapped_column(String(10), server_default=sql_text("'booked'"))
    dedup_key: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(100))
    category_rule: Mapped[str | None] = mapped_column(Text)  # which rule (or "manual") set it
    suggested_category: Mapped[str | None] = mapped_column(String(100))  # LLM, unconfirmed
    # Location of the primary occurrence in its file.
    page: Mapped[int | None] = mapped_column(Integer)
    line: Mapped[int | None] = mapped_column(Integer)
    row: Mapped[int | None] = mapped_column(Integer)


class TransactionOccurrence(Base):
    """A transaction listed in one statement of one file, at page/line/row (citable)."""

    __tablename__ = "transaction_occurrences"
    __table_args__ = (
        UniqueConstraint(
            "statement_id", "transaction_id", name="uq_transaction_occurrences_statement_tx"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("transactions.id", ondelete="CASCADE"), index=True
    )
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"))
    page: Mapped[int | None] = mapped_column(Integer)
    line: Mapped[int | None] = mapped_column(Integer)
    row: Mapped[int | None] = mapped_column(Integer)


class Security(TimestampMixin, Base):
    """A security (share, fund, bond ...) as statements identify it; `key` is its identity:
    "ISIN:...", else "CUSIP:...", else another scheme, the ticker or the name."""

    __tablename__ = "securities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str | None] = mapped_column(Text)
    ticker: Mapped[str | None] = mapped_column(String(32), index=True)
    isin: Mapped[str | None] = mapped_column(String(12), index=True)
    cusip: Mapped[str | None] = mapped_column(String(9))
    type: Mapped[str | None] = mapped_column(String(20))  # stock | fund | bond | option | other
    currency: Mapped[str | None] = mapped_column(String(3))


class Holding(Base):
    """Units of a security held in an account on a date, as one statement reports them."""

    __tablename__ = "holdings"
    __table_args__ = (
        Index("ix_holdings_account_date", "account_id", "as_of"),
        Index("ix_holdings_security", "security_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    security_id: Mapped[int] = mapped_column(ForeignKey("securities.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"))
    as_of: Mapped[date] = mapped_column(Date)
    units: Mapped[Decimal] = mapped_column(Numeric)
    unit_price: Mapped[Decimal | None] = mapped_column(Numeric)
    market_value: Mapped[Decimal | None] = mapped_column(Numeric)
    currency: Mapped[str] = mapped_column(String(3))
    page: Mapped[int | None] = mapped_column(Integer)
    line: Mapped[int | None] = mapped_column(Integer)
    row: Mapped[int | None] = mapped_column(Integer)


class InvestmentTransaction(TimestampMixin, Base):
    """A trade or income event (buy, sell, reinvest, dividend, interest, fee, transfer, split)
    with its signed cash effect on the account; stored once however many files list it."""

    __tablename__ = "investment_transactions"
    __table_args__ = (
        UniqueConstraint("account_id", "dedup_key", name="uq_investment_transactions_account_dedup"),
        Index("ix_investment_transactions_account_date", "account_id", "trade_date"),
        Index("ix_investment_transactions_security", "security_id", "trade_date"),
        CheckConstraint(
            "kind IN ('buy','sell','reinvest','dividend','interest','income','capital_gain',"
            "'fee','tax','transfer_in','transfer_out','split','return_of_capital','other')",
            name="kind"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    security_id: Mapped[int | None] = mapped_column(
        ForeignKey("securities.id", ondelete="SET NULL"))
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), index=True)
    statement_id: Mapped[int | None] = mapped_column(
        ForeignKey("statements.id", ondelete="SET NULL"))
    trade_date: Mapped[date] = mapped_column(Date)
    settle_date: Mapped[date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    units: Mapped[Decimal | None] = mapped_column(Numeric)  # signed: + into the account
    unit_price: Mapped[Decimal | None] = mapped_column(Numeric)
    amount: Mapped[Decimal | None] = mapped_column(Numeric)  # gross value, unsigned
    fees: Mapped[Decimal | None] = mapped_column(Numeric)
    cash_amount: Mapped[Decimal] = mapped_column(Numeric)  # signed effect on the cash balance
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str | None] = mapped_column(Text)
    bank_ref: Mapped[str | None] = mapped_column(Text)
    dedup_key: Mapped[str] = mapped_column(Text)
    page: Mapped[int | None] = mapped_column(Integer)
    line: Mapped[int | None] = mapped_column(Integer)
    row: Mapped[int | None] = mapped_column(Integer)


class InvestmentOccurrence(Base):
    """An investment transaction listed in one statement of one file (citable)."""

    __tablename__ = "investment_occurrences"
    __table_args__ = (
        UniqueConstraint("statement_id", "investment_id",
                         name="uq_investment_occurrences_statement_inv"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    investment_id: Mapped[int] = mapped_column(
        ForeignKey("investment_transactions.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"))
    page: Mapped[int | None] = mapped_column(Integer)
    line: Mapped[int | None] = mapped_column(Integer)
    row: Mapped[int | None] = mapped_column(Integer)


class Report(Base):
    """A built report (weekly/monthly spending): content JSON plus its renderings."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("kind", "period", name="uq_reports_kind_period"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # spending-week | spending-month
    period: Mapped[str] = mapped_column(String(20))  # 2026-W47 | 2026-10
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    markdown: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
