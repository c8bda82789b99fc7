"""The web pages: the question form at / as a conversation (streamed with JS, a full answer by
POST without it; follow-ups read against the earlier turns), /conversations, /search,
/documents/{id} with the cited passage highlighted, and /favicon.ico (a public path)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from app.core.errors import InvalidInputError
from app.http.deps import RuntimeDep
from app.http.rendering import STATIC_DIR, render
from app.services.conversations import (
    delete_conversation,
    get_conversation,
    list_conversations,
)
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


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    """The icon browsers and tools ask for at this fixed path whatever the page links (public
    in app/http/auth.py: asked for before anyone logs in)."""
    return FileResponse(STATIC_DIR / "favicon.ico", media_type="image/vnd.microsoft.icon",
                        headers={"Cache-Control": "public, max-age=86400"})


@router.get("/", response_class=HTMLResponse)
def index(request: Request, rt: RuntimeDep, q: str = "",
          c: Annotated[int | None, Query(description="Reopen this conversation.")] = None,
          ) -> HTMLResponse:
    """The question form; with `c`, a stored conversation whose next question follows up."""
    conversation = get_conversation(rt, c) if c is not None else None
    return _page(request, "index.html", FormValues(question=q), conversation=conversation,
                 earlier=conversation["turns"] if conversation else [])


@router.post("/ask", response_class=HTMLResponse)
def ask_form(
    request: Request,
    rt: RuntimeDep,
    question: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    source: Annotated[str, Form()] = "",
    date_from: Annotated[str, Form(alias="from")] = "",
    date_to: Annotated[str, Form(alias="to")] = "",
    conversation_id: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """The whole answer in one page (the form's action when JavaScript is off): a turn of the
    conversation `conversation_id` (a new one when empty), earlier turns above it."""
    from app.services.ask import ask_turn

    form = FormValues(question=question, kind=kind, source=source, date_from=date_from,
                      date_to=date_to)
    conv_id = int(conversation_id) if conversation_id.strip().isdigit() else None
    try:
        result, rewrite, stored = ask_turn(rt, question, conversation_id=conv_id,
                                           filters=form.filters(), origin="web")
    except InvalidInputError as exc:  # the owner's typo: show it next to the form they can fix
        conversation = get_conversation(rt, conv_id) if conv_id is not None else None
        return _page(request, "index.html", form, error=str(exc), status_code=400,
                     conversation=conversation,
                     earlier=conversation["turns"] if conversation else [])
    conversation = get_conversation(rt, stored["id"]) if stored else None
    return _page(request, "index.html", form, result=result, rewrite=rewrite,
                 conversation=conversation,
                 earlier=conversation["turns"][:-1] if conversation else [],
                 offered=[b for b in result.offered
                          if b.n not in {c.n for c in result.citations}])


@router.get("/conversations", response_class=HTMLResponse)
def conversations_page(request: Request, rt: RuntimeDep) -> HTMLResponse:
    """Stored conversations: reopen, export as Markdown, delete."""
    return render(request, "conversations.html",
                  {"conversations": list_conversations(rt), "title": "Conversations"})


@router.post("/conversations/{conversation_id}/delete")
def delete_conversation_form(conversation_id: int, rt: RuntimeDep) -> RedirectResponse:
    delete_conversation(rt, conversation_id)
    return RedirectResponse("/conversations", status_code=303)


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
                  chunk: int | None = None, span: str | None = None, row: int | None = None,
                  line: int | None = None,
                  page: Annotated[int | None, Query(ge=1, description="The page of `line`")]
                  = None) -> HTMLResponse:
    """The document's text with the cited passage highlighted (its supporting `span` marked
    strongly, or a statement's `row`/`line` on `page`: on a PDF statement also on the rendered
    page), and a link to the original."""
    data = document_page_data(rt, document_id, chunk_id=chunk, span=span, row=row, line=line,
                              on_page=page)
    return render(request, "document.html", {
        "view": data.view, "doc": data.view.document, "chunk": data.chunk, "parts": data.parts,
        "text": data.text, "text_cut": data.text_cut, "pdf": data.pdf, "title": data.title,
        "page": data,
    })
