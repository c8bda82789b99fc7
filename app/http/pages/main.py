"""The web pages: the question form at / (streamed with JS, a full answer by POST without it),
/search, and /documents/{id} with the cited passage highlighted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from app.http.deps import ContextDep, SessionDep, make_search_filters
from app.services.documents import document_view, get_chunk, is_pdf
from app.core.errors import InvalidInputError, NotFoundError
from app.http.rendering import render

router = APIRouter(include_in_schema=False)

KINDS = ("note", "contract", "letter", "email", "statement", "message", "other")
# Around a passage in a very long document, show this much text on each side.
WINDOW_CHARS = 60_000
# Without a cited passage, show at most this much of a document's text.
MAX_PAGE_CHARS = 400_000


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
    ctx: ContextDep,
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
        result = ask(ctx, question, filters=form.filters())
    except InvalidInputError as exc:  # the owner's typo: show it next to the form they can fix
        return _page(request, "index.html", form, error=str(exc), status_code=400)
    return _page(request, "index.html", form, result=result,
                 offered=[b for b in result.offered
                          if b.n not in {c.n for c in result.citations}])


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    ctx: ContextDep,
    session: SessionDep,
    q: str = "",
    kind: str = "",
    source: str = "",
    date_from: Annotated[str, Query(alias="from")] = "",
    date_to: Annotated[str, Query(alias="to")] = "",
) -> HTMLResponse:
    from app.retrieval import search

    form = FormValues(question=q, kind=kind, source=source, date_from=date_from, date_to=date_to)
    hits = None
    if q.strip():
        s = ctx.settings
        try:
            hits = search(session, ctx.embedder(), q, filters=form.filters(), top_k=20,
                          candidates=s.candidates, rrf_k=s.rrf_k)
        except InvalidInputError as exc:
            return _page(request, "search.html", form, error=str(exc), status_code=400)
    return _page(request, "search.html", form, hits=hits)


@dataclass
class Highlight:
    """The document text split around the cited passage (all parts escaped by the template)."""

    before: str
    passage: str
    after: str
    located: bool  # False: the passage could not be found in the text; shown apart
    cut_before: bool = False
    cut_after: bool = False


def highlight(content: str, start: int, end: int, passage: str) -> Highlight:
    if not (0 <= start < end <= len(content)) or content[start:end] != passage:
        found = content.find(passage) if passage else -1
        if found < 0:
            return Highlight(before=content, passage=passage, after="", located=False)
        start, end = found, found + len(passage)
    lo, hi = max(0, start - WINDOW_CHARS), min(len(content), end + WINDOW_CHARS)
    return Highlight(before=content[lo:start], passage=content[start:end], after=content[end:hi],
                     located=True, cut_before=lo > 0, cut_after=hi < len(content))


@router.get("/documents/{document_id}", response_class=HTMLResponse)
def document_page(request: Request, document_id: int, session: SessionDep, ctx: ContextDep,
                  chunk: int | None = None) -> HTMLResponse:
    """The document's text with the cited passage highlighted, and a link to the original."""
    view = document_view(session, ctx.settings, document_id)
    doc = view.document
    cited = None
    parts = None
    if chunk is not None:
        cited = get_chunk(session, chunk)
        if cited.document_id != doc.id:
            raise NotFoundError(f"passage {chunk} is not part of document {document_id}")
        parts = highlight(doc.content or "", cited.char_start, cited.char_end, cited.text)
    content = doc.content or ""
    return render(request, "document.html", {
        "view": view, "doc": doc, "chunk": cited, "parts": parts,
        "text": content[:MAX_PAGE_CHARS], "text_cut": len(content) > MAX_PAGE_CHARS,
        "pdf": is_pdf(doc.media_type, doc.origin),
        "title": doc.title or doc.origin,
    })
