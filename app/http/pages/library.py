"""The /library pages: every document, filtered (kind, source, date range, text) and paged;
and /library/{id}, one document's record: metadata, its passages, its original, and the
answers that cited it (with a link to the document page that shows its text)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from app.core.errors import InvalidInputError
from app.http.deps import RuntimeDep
from app.http.rendering import render
from app.services import documents, library

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


class LibraryQuery(BaseModel):
    kind: str = ""
    source: str = ""
    date_from: str = ""
    date_to: str = ""
    q: str = ""
    page: int = 1


@router.get("/library", response_class=HTMLResponse)
def library_page(
    request: Request, rt: RuntimeDep,
    kind: str = "", source: str = "", q: str = "",
    date_from: Annotated[str, Query(alias="from")] = "",
    date_to: Annotated[str, Query(alias="to")] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    order: str = "-date",
) -> HTMLResponse:
    form = LibraryQuery(kind=kind, source=source, date_from=date_from, date_to=date_to, q=q,
                        page=page)
    def page_url(n: int) -> str:
        params = {"kind": kind, "source": source, "from": date_from, "to": date_to, "q": q,
                  "order": order if order != "-date" else "", "page": n if n > 1 else ""}
        query = urlencode({k: v for k, v in params.items() if v})
        return "/library" + (f"?{query}" if query else "")

    values: dict[str, Any] = {"title": "Library", "form": form, "order": order,
                              "facets": library.library_facets(rt), "result": None,
                              "page_url": page_url}
    try:
        f = library.make_filter(kind=kind, source=source, date_from=date_from, date_to=date_to,
                                text=q)
        values["result"] = library.list_documents(rt, f, limit=PAGE_SIZE,
                                                  offset=(page - 1) * PAGE_SIZE, order=order)
    except InvalidInputError as exc:
        return render(request, "library.html", {**values, "error": str(exc)}, status_code=400)
    return render(request, "library.html", values)


@router.get("/library/{document_id}", response_class=HTMLResponse)
def library_document(request: Request, document_id: int, rt: RuntimeDep) -> HTMLResponse:
    info = documents.document_info(rt, document_id)
    return render(request, "library_document.html", {
        "title": info["title"] or info["path"].rsplit("/", 1)[-1], "doc": info,
        "passages": library.document_passages(rt, document_id),
        "citing": library.citing_answers(rt, document_id)})
