"""Use case: receipts, invoices and mails linked to their transactions (evidence).

`refresh_evidence` runs after each sync (app/services/sync.py) and on demand; the document page
lists the transactions a document is evidence for, the transaction page its receipts and
invoices, and money answers cite them (app/money/ask.py). Matching: app/money/evidence.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.core.errors import NotFoundError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.services.runtime import Runtime


def refresh_evidence(rt: Runtime, *, since: datetime | None = None) -> dict[str, Any]:
    """Link documents changed since `since` (all when None) to the transactions they document."""
    from app.money.evidence import refresh_evidence as refresh

    with rt.db.session() as session:
        return refresh(session, since=since).to_json()


def document_evidence(session: Session, document_id: int) -> list[dict[str, Any]]:
    """The transactions `document_id` is evidence for, best first, each with where it is listed."""
    from app.core.models import Account, Evidence, Transaction

    rows = session.execute(
        select(Evidence, Transaction, Account.number_masked)
        .join(Transaction, Transaction.id == Evidence.transaction_id)
        .join(Account, Account.id == Transaction.account_id)
        .where(Evidence.document_id == document_id)
        .order_by(Evidence.score.desc(), Transaction.booking_date)).all()
    out = []
    for ev, tx, account in rows:
        where = _row_url(tx.document_id, tx.row, tx.line)
        out.append({"id": ev.id, "transaction_id": tx.id, "date": tx.booking_date.isoformat(),
                    "amount": f"{tx.amount:.2f}", "currency": tx.currency,
                    "counterparty": tx.counterparty, "description": tx.description,
                    "account": account, "score": ev.score, "reason": ev.reason,
                    "confirmed": ev.confirmed, "url": f"/reports/transactions/{tx.id}",
                    "statement_url": where})
    return out


def transaction_evidence(session: Session, transaction_id: int) -> list[dict[str, Any]]:
    """The receipts, invoices and mails linked to one transaction, best first."""
    from app.core.models import Document, Evidence

    rows = session.execute(
        select(Evidence, Document).join(Document, Document.id == Evidence.document_id)
        .where(Evidence.transaction_id == transaction_id)
        .order_by(Evidence.confirmed.desc(), Evidence.score.desc(), Document.id)).all()
    return [{"id": ev.id, "document_id": doc.id, "title": doc.title, "path": doc.origin,
             "kind": doc.kind, "media_type": doc.media_type, "score": ev.score,
             "reason": ev.reason, "confirmed": ev.confirmed, "url": f"/documents/{doc.id}"}
            for ev, doc in rows]


def evidence_for_document(rt: Runtime, document_id: int) -> list[dict[str, Any]]:
    with rt.db.session() as session:
        return document_evidence(session, document_id)


def evidence_for_transaction(rt: Runtime, transaction_id: int) -> list[dict[str, Any]]:
    with rt.db.session() as session:
        return transaction_evidence(session, transaction_id)


def confirm_evidence(rt: Runtime, evidence_id: int, *, confirmed: bool = True) -> dict[str, Any]:
    """The owner confirms (or withdraws) a link; a confirmed link survives later refreshes."""
    from app.core.models import Evidence

    with rt.db.session() as session:
        row = session.get(Evidence, evidence_id)
        if row is None:
            raise NotFoundError(f"evidence link {evidence_id} does not exist")
        row.confirmed = confirmed
        return {"id": row.id, "transaction_id": row.transaction_id,
                "document_id": row.document_id, "confirmed": row.confirmed}


def _row_url(document_id: int | None, row: int | None, line: int | None) -> str | None:
    if document_id is None:
        return None
    if row:
        return f"/documents/{document_id}?row={row}#passage"
    if line:
        return f"/documents/{document_id}?line={line}#passage"
    return f"/documents/{document_id}"
