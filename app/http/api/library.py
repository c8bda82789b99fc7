"""The library as JSON: GET /api/library (documents filtered and paged, as the /library page
lists them) and GET /api/library/{id}/citations (logged answers that cited the document)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from app.http.deps import RuntimeDep
from app.services import library

router = APIRouter(prefix="/api", tags=["library"])


@router.get("/library", summary="Documents, filtered and paged")
def list_documents(
    rt: RuntimeDep,
    kind: Annotated[str | None, Query(description="note, contract, letter, email, ...")] = None,
    source: Annotated[str | None, Query(description="Source name.")] = None,
    date_from: Annotated[str | None, Query(alias="from", description="YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, Query(alias="to", description="YYYY-MM-DD")] = None,
    q: Annotated[str | None, Query(description="Text in the title, path or content.")] = None,
    attachments: Annotated[bool, Query(description="Include attachments.")] = True,
    limit: Annotated[int, Query(ge=1, le=library.MAX_PAGE_SIZE)] = library.DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0)] = 0,
    order: Literal["-date", "date", "title"] = "-date",
) -> dict[str, Any]:
    f = library.make_filter(kind=kind, source=source, date_from=date_from, date_to=date_to,
                            text=q, attachments=attachments)
    return library.list_documents(rt, f, limit=limit, offset=offset, order=order).to_json()


@router.get("/library/{document_id}/citations", summary="Answers that cited this document")
def citations(document_id: int, rt: RuntimeDep) -> list[dict[str, Any]]:
    return library.citing_answers(rt, document_id)
