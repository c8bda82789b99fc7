"""investments: securities, holdings, investment transactions and their occurrences; balance
status "unknown" becomes "unverified" (a statement without balances is not a mismatch)

Revision ID: 0007_investments
Revises: 0007_evidence
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_investments"
down_revision: str | Sequence[str] | None = "0007_evidence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS = ("'buy','sell','reinvest','dividend','interest','income','capital_gain','fee','tax',"
          "'transfer_in','transfer_out','split','return_of_capital','other'")


def _fk(table: str, col: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([col], [f"{target}.id"], name=op.f(f"fk_{table}_{col}_{target}"),
                                   ondelete=ondelete)


def _where(table: str) -> list[sa.Column]:
    return [sa.Column(c, sa.Integer(), nullable=True) for c in ("page", "line", "row")]


def upgrade() -> None:
    op.drop_constraint(op.f("ck_statements_balance_status"), "statements", type_="check")
    op.execute("UPDATE statements SET balance_status = 'unverified' "
               "WHERE balance_status = 'unknown'")
    op.alter_column("statements", "balance_status", server_default=sa.text("'unverified'"))
    op.create_check_constraint(op.f("ck_statements_balance_status"), "statements",
                               "balance_status IN ('ok','mismatch','unverified')")

    op.create_table(
        "securities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("ticker", sa.String(length=32), nullable=True),
        sa.Column("isin", sa.String(length=12), nullable=True),
        sa.Column("cusip", sa.String(length=9), nullable=True),
        sa.Column("type", sa.String(length=20), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_securities")),
        sa.UniqueConstraint("key", name=op.f("uq_securities_key")),
    )
    op.create_index(op.f("ix_securities_ticker"), "securities", ["ticker"], unique=False)
    op.create_index(op.f("ix_securities_isin"), "securities", ["isin"], unique=False)

    op.create_table(
        "holdings",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("security_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.BigInteger(), nullable=False),
        sa.Column("statement_id", sa.BigInteger(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("units", sa.Numeric(), nullable=False),
        sa.Column("unit_price", sa.Numeric(), nullable=True),
        sa.Column("market_value", sa.Numeric(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        *_where("holdings"),
        _fk("holdings", "account_id", "accounts", "CASCADE"),
        _fk("holdings", "security_id", "securities", "CASCADE"),
        _fk("holdings", "document_id", "documents", "CASCADE"),
        _fk("holdings", "statement_id", "statements", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holdings")),
    )
    op.create_index("ix_holdings_account_date", "holdings", ["account_id", "as_of"], unique=False)
    op.create_index("ix_holdings_security", "holdings", ["security_id"], unique=False)
    op.create_index(op.f("ix_holdings_document_id"), "holdings", ["document_id"], unique=False)

    op.create_table(
        "investment_transactions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("security_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.BigInteger(), nullable=True),
        sa.Column("statement_id", sa.BigInteger(), nullable=True),
        sa.Column("trade_date", sa.Date(), nullable=False),
        sa.Column("settle_date", sa.Date(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("units", sa.Numeric(), nullable=True),
        sa.Column("unit_price", sa.Numeric(), nullable=True),
        sa.Column("amount", sa.Numeric(), nullable=True),
        sa.Column("fees", sa.Numeric(), nullable=True),
        sa.Column("cash_amount", sa.Numeric(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("bank_ref", sa.Text(), nullable=True),
        sa.Column("dedup_key", sa.Text(), nullable=False),
        *_where("investment_transactions"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.CheckConstraint(f"kind IN ({_KINDS})", name=op.f("ck_investment_transactions_kind")),
        _fk("investment_transactions", "account_id", "accounts", "CASCADE"),
        _fk("investment_transactions", "security_id", "securities", "SET NULL"),
        _fk("investment_transactions", "document_id", "documents", "SET NULL"),
        _fk("investment_transactions", "statement_id", "statements", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_investment_transactions")),
        sa.UniqueConstraint("account_id", "dedup_key",
                            name="uq_investment_transactions_account_dedup"),
    )
    op.create_index("ix_investment_transactions_account_date", "investment_transactions",
                    ["account_id", "trade_date"], unique=False)
    op.create_index("ix_investment_transactions_security", "investment_transactions",
                    ["security_id", "trade_date"], unique=False)
    op.create_index(op.f("ix_investment_transactions_document_id"), "investment_transactions",
                    ["document_id"], unique=False)

    op.create_table(
        "investment_occurrences",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("investment_id", sa.BigInteger(), nullable=False),
        sa.Column("document_id", sa.BigInteger(), nullable=False),
        sa.Column("statement_id", sa.BigInteger(), nullable=False),
        *_where("investment_occurrences"),
        _fk("investment_occurrences", "investment_id", "investment_transactions", "CASCADE"),
        _fk("investment_occurrences", "document_id", "documents", "CASCADE"),
        _fk("investment_occurrences", "statement_id", "statements", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_investment_occurrences")),
        sa.UniqueConstraint("statement_id", "investment_id",
                            name="uq_investment_occurrences_statement_inv"),
    )
    op.create_index(op.f("ix_investment_occurrences_investment_id"), "investment_occurrences",
                    ["investment_id"], unique=False)
    op.create_index(op.f("ix_investment_occurrences_document_id"), "investment_occurrences",
                    ["document_id"], unique=False)


def downgrade() -> None:
    op.drop_table("investment_occurrences")
    op.drop_table("investment_transactions")
    op.drop_table("holdings")
    op.drop_table("securities")
    op.drop_constraint(op.f("ck_statements_balance_status"), "statements", type_="check")
    op.execute("UPDATE statements SET balance_status = 'unknown' "
               "WHERE balance_status = 'unverified'")
    op.alter_column("statements", "balance_status", server_default=sa.text("'unknown'"))
    op.create_check_constraint(op.f("ck_statements_balance_status"), "statements",
                               "balance_status IN ('ok','mismatch','unknown')")
