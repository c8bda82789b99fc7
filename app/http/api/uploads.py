"""Uploads and background syncs as JSON: create an upload batch, stream each file's bytes into
the inbox (PUT, the raw body: never held in memory), start the batch's ingest, poll its status;
poll any background sync job. The /upload page's script uses exactly these."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from app.core.errors import HomeragError, InvalidInputError
from app.http.deps import RuntimeDep
from app.services import jobs
from app.services import uploads as service

router = APIRouter(prefix="/api", tags=["uploads"])


@router.post("/uploads", summary="Start an upload batch")
def new_batch(rt: RuntimeDep) -> dict[str, Any]:
    """A batch groups the files of one drop; its files are ingested together."""
    batch = service.new_batch(rt)
    return {"batch": batch.id, "max_file_bytes": service.max_upload_bytes(rt)}


@router.put("/uploads/{batch_id}/files", summary="Upload one file of a batch (raw body)")
async def upload_file(batch_id: str, request: Request, rt: RuntimeDep,
                      name: Annotated[str, Query(max_length=4096,
                                                 description="path/with/folders.pdf")]
                      ) -> dict[str, Any]:
    """The request body is the file's bytes; `name` its path relative to the dropped folder
    (sanitised; folders kept under the inbox). Larger than HOMERAG_MAX_UPLOAD_MB: 400."""
    batch = service.get_batch(rt, batch_id)
    try:
        declared = int(request.headers.get("content-length") or 0)
        if declared > service.max_upload_bytes(rt):
            raise InvalidInputError(
                f"{name}: larger than the upload limit of {rt.settings.max_upload_mb:g} MB "
                "(HOMERAG_MAX_UPLOAD_MB)")
        writer = await run_in_threadpool(service.begin_upload, rt, batch, name)
    except HomeragError as exc:
        service.record_error(batch, name, str(exc))
        raise
    try:
        async for chunk in request.stream():
            writer.write(chunk)
        saved = await run_in_threadpool(writer.commit)
    except HomeragError as exc:
        writer.abort()
        service.record_error(batch, name, str(exc))
        raise
    except BaseException:  # the client went away: leave nothing half-written
        writer.abort()
        raise
    service.record_saved(batch, saved)
    return saved.to_json()


@router.post("/uploads/{batch_id}/ingest", summary="Index the batch's files (background)")
def ingest(batch_id: str, rt: RuntimeDep) -> dict[str, Any]:
    batch = service.get_batch(rt, batch_id)
    if batch.files:
        service.ingest_batch(rt, batch)
    return service.batch_status(rt, batch_id)


@router.get("/uploads/{batch_id}", summary="Each uploaded file's state (poll)")
def batch_status(batch_id: str, rt: RuntimeDep) -> dict[str, Any]:
    return service.batch_status(rt, batch_id)


@router.get("/jobs", summary="Background syncs of this server, newest first")
def list_jobs(rt: RuntimeDep) -> list[dict[str, Any]]:
    return [j.to_json() for j in jobs.list_jobs(rt)]


@router.get("/jobs/{job_id}", summary="One background sync's progress (poll)")
def get_job(job_id: int, rt: RuntimeDep) -> dict[str, Any]:
    return jobs.get_job(rt, job_id).to_json()
