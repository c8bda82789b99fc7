"""The confirm / reject buttons of the transaction page and the document page (plain forms with
the CSRF field; they work without JavaScript): the verdict, then back to the page they came from.
The JSON side is app/http/api/evidence.py."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse

from app.http.auth import safe_next
from app.http.deps import RuntimeDep
from app.services.evidence import judge_evidence

router = APIRouter(include_in_schema=False)


@router.post("/evidence/{evidence_id}/{verdict}")
def judge_form(evidence_id: int, verdict: Literal["confirm", "reject"], rt: RuntimeDep,
               next_page: Annotated[str, Form(alias="next")] = "/",
               transaction_id: Annotated[int | None, Form()] = None,
               document_id: Annotated[int | None, Form()] = None) -> RedirectResponse:
    """`transaction_id` / `document_id`: the page's side of the link (another one is a 404)."""
    judge_evidence(rt, evidence_id, verdict, transaction_id=transaction_id,
                   document_id=document_id)
    return RedirectResponse(safe_next(next_page), status_code=303)
