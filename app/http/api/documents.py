"""Citation targets: GET /api/documents/{id} (metadata, chunks), /api/documents/{id}/file (the
stored original, inline, so a PDF opens at `#page=N`) and /api/chunks/{id} (one passage)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from app.http.deps import RuntimeDep
from app.services.documents import chunk_info, document_info, original_file

router = APIRouter(prefix="/api", tags=["documents"])

# An original may be hostile HTML: never let it run in our origin (sandbox = opaque origin, no
# scripts). PDFs are exempt because Chromium refuses to show a PDF in a sandboxed document.
SANDBOX_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"


@router.get("/documents/{document_id}", summary="A document's metadata (and its passages)")
def get_document_json(
    document_id: int,
    rt: RuntimeDep,
    chunks: Annotated[bool, Query(description="Include the list of passages.")] = False,
    content: Annotated[bool, Query(description="Include the full extracted text.")] = False,
) -> dict[str, Any]:
    """Title, origin path, kind, dates, metadata, the message an attachment came in
    (`parent.label`), attachments (`children`) and the link to the original file."""
    return document_info(rt, document_id, chunks=chunks, content=content)


@router.get("/documents/{document_id}/file", summary="The stored original file",
            response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}}})
def get_document_file(document_id: int, rt: RuntimeDep) -> FileResponse:
    """The original bytes with their media type, `Content-Disposition: inline` (append
    `#page=N` to open a PDF at a page)."""
    original = original_file(rt, document_id)
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"}
    if not original.passive:
        headers["Content-Security-Policy"] = SANDBOX_CSP
    return FileResponse(original.path, media_type=original.media_type,
                        filename=original.filename, content_disposition_type="inline",
                        headers=headers)


@router.get("/chunks/{chunk_id}", summary="One passage with its place in the document")
def get_chunk_json(chunk_id: int, rt: RuntimeDep) -> dict[str, Any]:
    """The passage text, page, heading, character offsets into the document's text, and the
    document it belongs to."""
    return chunk_info(rt, chunk_id)
