"""The /upload page: drop files or folders (or pick them) to add them to the inbox; each file's
upload progress, then its ingest outcome, polled from /api/uploads (see static/upload.js).
Without JavaScript the form posts the files here and the page shows the batch's state."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from app.core.errors import HomeragError, InvalidInputError
from app.http.deps import RuntimeDep
from app.http.rendering import render
from app.services import uploads as service

router = APIRouter(include_in_schema=False)
FORM_MAX_FILES = 1000
READ_CHUNK = 1 << 20


def _page(request: Request, rt: Any, **values: Any) -> HTMLResponse:
    return render(request, "upload.html", {
        "title": "Add documents", "max_mb": rt.settings.max_upload_mb,
        "inbox": str(service.inbox_dir(rt)), **values})


@router.get("/upload", response_class=HTMLResponse)
def upload_page(request: Request, rt: RuntimeDep, batch: str | None = None) -> HTMLResponse:
    status = service.batch_status(rt, batch) if batch else None
    return _page(request, rt, status=status)


@router.post("/upload")
async def upload_form(request: Request, rt: RuntimeDep) -> Any:
    """The form without JavaScript: every file of the post (one post is bounded by the upload
    limit as a whole, as it arrives in one piece), then the batch's ingest starts."""
    declared = int(request.headers.get("content-length") or 0)
    if declared > service.max_upload_bytes(rt):
        raise InvalidInputError(
            f"the upload is larger than {rt.settings.max_upload_mb:g} MB (HOMERAG_MAX_UPLOAD_MB); "
            "drop the files on the page instead (each file is then limited on its own)")
    form = await request.form(max_files=FORM_MAX_FILES)
    batch = service.new_batch(rt)
    for field in ("files", "folder"):
        for item in form.getlist(field):
            if isinstance(item, str) or not item.filename:
                continue
            try:
                writer = await run_in_threadpool(service.begin_upload, rt, batch, item.filename)
            except HomeragError as exc:
                service.record_error(batch, item.filename, str(exc))
                continue
            try:
                while chunk := await item.read(READ_CHUNK):
                    writer.write(chunk)
                service.record_saved(batch, await run_in_threadpool(writer.commit))
            except HomeragError as exc:
                writer.abort()
                service.record_error(batch, item.filename, str(exc))
    await form.close()
    if not batch.files and not batch.errors:
        raise InvalidInputError("choose at least one file to upload")
    if batch.files:
        service.ingest_batch(rt, batch)
    return RedirectResponse(f"/upload?batch={batch.id}", status_code=303)
