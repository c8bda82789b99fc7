"""Imported statements with their balance check (opening + transactions = closing), newest
first; and the statement rows a transaction was read from. One JSON shape for every caller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.core.models import Account, Document, Statement, TransactionOccurrence

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _num(value: Decimal | None) -> str | None:
    return format(value, "f") if value is not None else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True, slots=True)
class StatementView:
    """One imported statement, the file it came from and its balance check."""

    statement: Statement
    path: str
    account: str | None

    def to_json(self) -> dict[str, Any]:
        st = self.statement
        return {"id": st.id, "document_id": st.document_id, "path": self.path,
                "account": self.account, "format": st.format,
                "period_start": _day(st.period_start), "period_end": _day(st.period_end),
                "currency": st.currency, "opening_balance": _num(st.opening_balance),
                "closing_balance": _num(st.closing_balance),
                "transactions": st.transaction_count, "balance_status": st.balance_status,
                "balance_difference": _num(st.balance_difference),
                "message": (st.meta or {}).get("balance_message")}


def list_statements(session: Session, *, problems: bool = False) -> list[StatementView]:
    """Statements, latest period first; `problems`: only those whose balances do not add up."""
    q = (select(Statement, Document.origin, Account.number_masked)
         .join(Document, Document.id == Statement.document_id)
         .join(Account, Account.id == Statement.account_id)
         .order_by(Statement.period_end.desc().nulls_last(), Statement.id))
    if problems:
        q = q.where(Statement.balance_status == "mismatch")
    return [StatementView(st, origin, acct) for st, origin, acct in session.execute(q).all()]


def occurrences(session: Session, transaction_id: int) -> list[dict[str, Any]]:
    """Every statement row that lists the transaction (overlapping files list it twice)."""
    rows = session.execute(
        select(TransactionOccurrence, Document.origin)
        .join(Document, Document.id == TransactionOccurrence.document_id)
        .where(TransactionOccurrence.transaction_id == transaction_id)
        .order_by(TransactionOccurrence.id)).all()
    return [{"document_id": o.document_id, "statement_id": o.statement_id, "path": origin,
             **{k: getattr(o, k) for k in ("page", "line", "row") if getattr(o, k)}}
            for o, origin in rows]
