"""Use case: receipts, invoices and mails linked to their transactions (evidence).

`refresh_evidence` runs after each sync (app/services/sync.py) and on demand; the document page
lists the transactions a document is evidence for, the transaction page its receipts and
invoices, and money answers cite them (app/money/ask.py). Matching: app/money/evidence.py.

The owner judges each link (`judge_evidence`, from GET/POST /api/transactions/{id}/evidence and
the buttons on both pages): confirmed links survive later refreshes, rejected ones stay listed
as rejected (so a confirm can undo it) and are never proposed again nor cited in answers. Each
link's `status` is "confirmed", "matched" or "rejected".
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
        .order_by(Evidence.rejected, Evidence.confirmed.desc(), Evidence.score.desc(),
                  Transaction.booking_date)).all()
    out = []
    for ev, tx, account in rows:
        where = _row_url(tx.document_id, tx.row, tx.line, tx.page)
        out.append({"id": ev.id, "transaction_id": tx.id, "date": tx.booking_date.isoformat(),
                    "amount": f"{tx.amount:.2f}", "currency": tx.currency,
                    "counterparty": tx.counterparty, "description": tx.description,
                    "account": account, "score": ev.score, "reason": ev.reason,
                    "confirmed": ev.confirmed, "status": status(ev),
                    "url": f"/reports/transactions/{tx.id}", "statement_url": where})
    return out


def transaction_evidence(session: Session, transaction_id: int) -> list[dict[str, Any]]:
    """The receipts, invoices and mails linked to one transaction, best first."""
    from app.core.models import Document, Evidence

    rows = session.execute(
        select(Evidence, Document).join(Document, Document.id == Evidence.document_id)
        .where(Evidence.transaction_id == transaction_id)
        .order_by(Evidence.rejected, Evidence.confirmed.desc(), Evidence.score.desc(),
                  Document.id)).all()
    return [{"id": ev.id, "transaction_id": transaction_id, "document_id": doc.id,
             "title": doc.title, "path": doc.origin, "kind": doc.kind,
             "media_type": doc.media_type, "score": ev.score, "reason": ev.reason,
             "confirmed": ev.confirmed, "status": status(ev), "url": f"/documents/{doc.id}"}
            for ev, doc in rows]


def status(ev: Any) -> str:
    return "rejected" if ev.rejected else "confirmed" if ev.confirmed else "matched"


def evidence_for_document(rt: Runtime, document_id: int) -> list[dict[str, Any]]:
    with rt.db.session() as session:
        return document_evidence(session, document_id)


def evidence_for_transaction(rt: Runtime, transaction_id: int, *,
                             check: bool = False) -> list[dict[str, Any]]:
    """The transaction's links, best first, rejected last; `check`: a transaction that does not
    exist is a NotFoundError (the API), not an empty list."""
    from app.core.models import Transaction

    with rt.db.session() as session:
        if check and session.get(Transaction, transaction_id) is None:
            raise NotFoundError(f"transaction {transaction_id} does not exist")
        return transaction_evidence(session, transaction_id)


VERDICTS = ("confirm", "reject")


def judge_evidence(rt: Runtime, evidence_id: int, verdict: str, *,
                   transaction_id: int | None = None,
                   document_id: int | None = None) -> dict[str, Any]:
    """The owner confirms or rejects link `evidence_id` (confirming a rejected link restores
    it; rejecting a confirmed one withdraws it). `transaction_id` / `document_id`: the side the
    request came from; a link of another transaction or document is not found.

    Raises:
        NotFoundError: no such link (on that side).
        InvalidInputError: a verdict other than "confirm" or "reject".
    """
    from app.core.errors import InvalidInputError
    from app.core.models import Evidence

    if verdict not in VERDICTS:
        raise InvalidInputError(f"verdict: {verdict!r} is not one of {', '.join(VERDICTS)}")
    with rt.db.session() as session:
        row = session.get(Evidence, evidence_id)
        if (row is None or (transaction_id is not None and row.transaction_id != transaction_id)
                or (document_id is not None and row.document_id != document_id)):
            where = (f" of transaction {transaction_id}" if transaction_id is not None else
                     f" of document {document_id}" if document_id is not None else "")
            raise NotFoundError(f"evidence link {evidence_id}{where} does not exist")
        row.confirmed = verdict == "confirm"
        row.rejected = verdict == "reject"
        return {"id": row.id, "transaction_id": row.transaction_id,
                "document_id": row.document_id, "confirmed": row.confirmed,
                "status": status(row)}


def confirm_evidence(rt: Runtime, evidence_id: int) -> dict[str, Any]:
    """The owner confirms a link; a confirmed link survives later refreshes."""
    return judge_evidence(rt, evidence_id, "confirm")


def _row_url(document_id: int | None, row: int | None, line: int | None,
             page: int | None = None) -> str | None:
    if document_id is None:
        return None
    if row:
        return f"/documents/{document_id}?row={row}#passage"
    if line:  # a PDF's lines are numbered per page
        on_page = f"page={page}&" if page else ""
        return f"/documents/{document_id}?{on_page}line={line}#passage"
    return f"/documents/{document_id}"
