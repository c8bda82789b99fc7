"""The sync ledger: GET /api/sources (per source: counts, last run, problems) and
GET /api/sources/{name}/items (per item: last seen hash or IMAP UID, status, reason, chunk
count, duration), read-only."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from app.http.deps import RuntimeDep
from app.services import sources as sources_service

router = APIRouter(prefix="/api", tags=["sources"])

Status = Literal["indexed", "failed", "skipped"]


@router.get("/sources", summary="Every source with its sync ledger summary")
def list_sources(rt: RuntimeDep) -> dict[str, Any]:
    """Per source: kind, settings (no secrets), last sync, item counts by status, chunks, the
    last ingest run and the latest failures with their reasons (as `homerag status`)."""
    return sources_service.list_sources(rt)


@router.get("/sources/{name}/items", summary="The ledger of one source, item by item")
def source_items(
    name: str,
    rt: RuntimeDep,
    status: Annotated[Status | None, Query(description="Only items with this status.")] = None,
    q: Annotated[str | None, Query(description="Origin contains (case-insensitive).")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Each item's origin, status, reason (code + message), last seen sha256 and source
    position (IMAP: folder, UIDVALIDITY, UID), chunk count, duration and document id."""
    return sources_service.source_items(rt, name, status=status, q=q, limit=limit,
                                        offset=offset)


@router.post("/sources/{name}/sync", summary="Sync one source now (in the background)")
def sync_now(name: str, rt: RuntimeDep) -> dict[str, Any]:
    """Starts the sync and returns its job (poll GET /api/jobs/{id}); 409 while it runs."""
    return sources_service.sync_now(rt, name).to_json()


@router.post("/sources/{name}/retry", summary="Ingest one failed or skipped item again")
def retry(name: str, rt: RuntimeDep,
          origin: Annotated[str, Query(description="The item's origin (as listed).")],
          ) -> dict[str, Any]:
    return sources_service.retry_item(rt, name, origin).to_json()
