"""The /health page (ingest health): per source, what is indexed, skipped and failed, every
problem with its reason, and a button that ingests one failed or skipped file again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.http.deps import RuntimeDep
from app.http.rendering import render
from app.services import jobs
from app.services import sources as sources_service
from app.services.status import status

router = APIRouter(include_in_schema=False)


@router.get("/health", response_class=HTMLResponse)
def health_page(request: Request, rt: RuntimeDep, job: int | None = None) -> HTMLResponse:
    retry = jobs.get_job(rt, job).to_json() if job is not None else None
    return render(request, "health.html", {
        "title": "Ingest health", "status": status(rt, all_problems=True), "retry": retry,
        "running": {j.source: j.to_json() for j in jobs.list_jobs(rt) if not j.finished}})


@router.post("/health/retry")
def retry(rt: RuntimeDep, source: Annotated[str, Form()],
          origin: Annotated[str, Form()]) -> RedirectResponse:
    job = sources_service.retry_item(rt, source, origin)
    return RedirectResponse(f"/health?job={job.id}", status_code=303)
