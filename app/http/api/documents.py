"""Citation targets: GET /api/documents/{id} (metadata, chunks), /api/documents/{id}/file (the
stored original, inline, so a PDF opens at `#page=N`) and /api/chunks/{id} (one passage)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from app.http.deps import ContextDep, SessionDep
from app.services.documents import (
    document_chunks,
    document_view,
    download_name,
    get_chunk,
    get_document,
    is_passive,
    original_path,
)
from app.http.schemas import chunk_json, document_json, document_ref
from app.core.errors import NotFoundError

router = APIRouter(prefix="/api", tags=["documents"])

# An original may be hostile HTML: never let it run in our origin (sandbox = opaque origin, no
# scripts). PDFs are exempt because Chromium refuses to show a PDF in a sandboxed document.
SANDBOX_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"


@router.get("/documents/{document_id}", summary="A document's metadata (and its passages)")
def get_document_json(
    document_id: int,
    session: SessionDep,
    ctx: ContextDep,
    chunks: Annotated[bool, Query(description="Include the list of passages.")] = False,
    content: Annotated[bool, Query(description="Include the full extracted text.")] = False,
) -> dict[str, Any]:
    """Title, origin path, kind, dates, metadata, the message an attachment came in
    (`parent.label`), attachments (`children`) and the link to the original file."""
    view = document_view(session, ctx.settings, document_id)
    out = document_json(view.document, parent=view.parent, children=view.children,
                        has_original=view.original is not None, parent_label=view.parent_label)
    if chunks:
        out["chunks"] = [chunk_json(c, text=False) for c in document_chunks(session, document_id)]
    if content:
        out["content"] = view.document.content
    return out


@router.get("/documents/{document_id}/file", summary="The stored original file",
            response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}}})
def get_document_file(document_id: int, session: SessionDep, ctx: ContextDep) -> FileResponse:
    """The original bytes with their media type, `Content-Disposition: inline` (append
    `#page=N` to open a PDF at a page)."""
    doc = get_document(session, document_id)
    path = original_path(ctx.settings, doc)
    if path is None:
        raise NotFoundError(f"document {document_id} has no stored original "
                            f"({doc.origin} was ingested without keeping a copy)")
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"}
    if not is_passive(doc.media_type):
        headers["Content-Security-Policy"] = SANDBOX_CSP
    return FileResponse(path, media_type=doc.media_type or "application/octet-stream",
                        filename=download_name(doc), content_disposition_type="inline",
                        headers=headers)


@router.get("/chunks/{chunk_id}", summary="One passage with its place in the document")
def get_chunk_json(chunk_id: int, session: SessionDep) -> dict[str, Any]:
    """The passage text, page, heading, character offsets into the document's text, and the
    document it belongs to."""
    chunk = get_chunk(session, chunk_id)
    doc = get_document(session, chunk.document_id)
    return {**chunk_json(chunk), "document": document_ref(doc),
            "page_url": f"/documents/{doc.id}?chunk={chunk.id}#passage"}
