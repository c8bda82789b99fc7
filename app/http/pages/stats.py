"""The /stats page: the figures of /metrics for a person (server, index and ingest, sources'
freshness, the embedding queue and its workers, request and answer times, the language models'
tokens, speed and cost by month), server-rendered, the chart as a PNG."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from app.http.deps import RuntimeDep
from app.http.rendering import render
from app.services.stats import stats_page_data

router = APIRouter(include_in_schema=False)


@router.get("/stats", response_class=HTMLResponse)
async def stats_page(request: Request, rt: RuntimeDep) -> HTMLResponse:
    data = await run_in_threadpool(stats_page_data, rt, request.app.state.metrics)
    return render(request, "stats.html", {"title": "Stats", "s": data})
