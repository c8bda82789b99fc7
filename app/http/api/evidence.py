"""Evidence JSON API: the receipts, invoices and mails linked to a transaction, and the owner's
verdict on each link (confirm / reject). Thin: app/services/evidence.py does the work.

    GET  /api/transactions/{tx_id}/evidence
    POST /api/transactions/{tx_id}/evidence/{evidence_id}/confirm
    POST /api/transactions/{tx_id}/evidence/{evidence_id}/reject

The POSTs are CSRF-protected like every unsafe request (app/http/csrf.py: a browser sends the
X-CSRF-Token header, static/csrf.js adds it; bearer-token clients are exempt).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.http.deps import RuntimeDep
from app.services.evidence import evidence_for_transaction, judge_evidence

router = APIRouter(prefix="/api", tags=["money"])


@router.get("/transactions/{tx_id}/evidence",
            summary="Receipts, invoices and mails linked to a transaction")
def list_evidence(tx_id: int, rt: RuntimeDep) -> dict[str, Any]:
    """Best first, rejected links last; each with `status` confirmed / matched / rejected, the
    match's score and reason, and the document's page."""
    return {"transaction_id": tx_id,
            "evidence": evidence_for_transaction(rt, tx_id, check=True)}


@router.post("/transactions/{tx_id}/evidence/{evidence_id}/confirm",
             summary="Confirm a link (kept by later matching; restores a rejected one)")
def confirm(tx_id: int, evidence_id: int, rt: RuntimeDep) -> dict[str, Any]:
    return judge_evidence(rt, evidence_id, "confirm", transaction_id=tx_id)


@router.post("/transactions/{tx_id}/evidence/{evidence_id}/reject",
             summary="Reject a link (never proposed again, not cited in answers)")
def reject(tx_id: int, evidence_id: int, rt: RuntimeDep) -> dict[str, Any]:
    return judge_evidence(rt, evidence_id, "reject", transaction_id=tx_id)
