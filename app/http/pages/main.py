"""The web pages: the question form at / (streamed with JS, a full answer by POST without it),
/search, and /documents/{id} with the cited passage highlighted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from app.core.errors import InvalidInputError
from app.http.deps import RuntimeDep
from app.http.rendering import render
from app.services.documents import document_page as document_page_data
from app.services.search import make_search_filters, search_passages

router = APIRouter(include_in_schema=False)

KINDS = ("note", "contract", "letter", "email", "statement", "message", "other")


@dataclass
class FormValues:
    """What the question/search form shows (echoed back after a POST)."""

    question: str = ""
    kind: str = ""
    source: str = ""
    date_from: str = ""
    date_to: str = ""

    def filters(self) -> Any:
        return make_search_filters(
            kinds=[self.kind] if self.kind else [],
            sources=[s.strip() for s in self.source.split(",") if s.strip()],
            date_from=self.date_from, date_to=self.date_to)


def _page(request: Request, name: str, form: FormValues, *, status_code: int = 200,
          **values: Any) -> HTMLResponse:
    return render(request, name, {"form": form, "kinds": KINDS, **values},
                  status_code=status_code)


@router.get("/", response_class=HTMLResponse)
def index(request: Request, q: str = "") -> HTMLResponse:
    return _page(request, "index.html", FormValues(question=q))


@router.post("/ask", response_class=HTMLResponse)
def ask_form(
    request: Request,
    rt: RuntimeDep,
    question: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    source: Annotated[str, Form()] = "",
    date_from: Annotated[str, Form(alias="from")] = "",
    date_to: Annotated[str, Form(alias="to")] = "",
) -> HTMLResponse:
    """The whole answer in one page (the form's action when JavaScript is off)."""
    from app.services.ask import ask

    form = FormValues(question=question, kind=kind, source=source, date_from=date_from,
                      date_to=date_to)
    try:
        result = ask(rt, question, filters=form.filters())
    except InvalidInputError as exc:  # the owner's typo: show it next to the form they can fix
        return _page(request, "index.html", form, error=str(exc), status_code=400)
    return _page(request, "index.html", form, result=result,
                 offered=[b for b in result.offered
                          if b.n not in {c.n for c in result.citations}])


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    rt: RuntimeDep,
    q: str = "",
    kind: str = "",
    source: str = "",
    date_from: Annotated[str, Query(alias="from")] = "",
    date_to: Annotated[str, Query(alias="to")] = "",
) -> HTMLResponse:
    form = FormValues(question=q, kind=kind, source=source, date_from=date_from, date_to=date_to)
    hits = None
    if q.strip():
        try:
            hits = search_passages(rt, q, filters=form.filters(), top_k=20)
        except InvalidInputError as exc:
            return _page(request, "search.html", form, error=str(exc), status_code=400)
    return _page(request, "search.html", form, hits=hits)


@router.get("/documents/{document_id}", response_class=HTMLResponse)
def document_page(request: Request, document_id: int, rt: RuntimeDep,
                  chunk: int | None = None) -> HTMLResponse:
    """The document's text with the cited passage highlighted, and a link to the original."""
    page = document_page_data(rt, document_id, chunk_id=chunk)
    return render(request, "document.html", {
        "view": page.view, "doc": page.view.document, "chunk": page.chunk, "parts": page.parts,
        "text": page.text, "text_cut": page.text_cut, "pdf": page.pdf, "title": page.title,
    })
