"""The sync ledger: GET /api/sources (per source: counts, last run, problems) and
GET /api/sources/{name}/items (per item: last seen hash or IMAP UID, status, reason, chunk
count, duration), read-only."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from app.http.deps import SessionDep
from app.core.errors import NotFoundError
from app.core.models import Source, SourceItem

router = APIRouter(prefix="/api", tags=["sources"])

Status = Literal["indexed", "failed", "skipped"]


@router.get("/sources", summary="Every source with its sync ledger summary")
def list_sources(session: SessionDep) -> dict[str, Any]:
    """Per source: kind, settings (no secrets), last sync, item counts by status, chunks, the
    last ingest run and the latest failures with their reasons (as `homerag status`)."""
    from app.services.status import index_status

    status = index_status(session)
    configs = {s.name: (s.id, s.config, s.sync_interval_s, s.enabled)
               for s in session.scalars(select(Source))}
    for src in status["sources"]:
        sid, config, interval, enabled = configs.get(src["name"], (None, {}, None, True))
        src.update(id=sid, config=config, sync_interval_s=interval, enabled=enabled)
    return {"embedder": status["embedder"], "documents": status["documents"],
            "chunks": status["chunks"], "sources": status["sources"]}


@router.get("/sources/{name}/items", summary="The ledger of one source, item by item")
def source_items(
    name: str,
    session: SessionDep,
    status: Annotated[Status | None, Query(description="Only items with this status.")] = None,
    q: Annotated[str | None, Query(description="Origin contains (case-insensitive).")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Each item's origin, status, reason (code + message), last seen sha256 and source
    position (IMAP: folder, UIDVALIDITY, UID), chunk count, duration and document id."""
    src = session.scalar(select(Source).where(Source.name == name))
    if src is None:
        raise NotFoundError(f"no source named {name!r}")
    query = select(SourceItem).where(SourceItem.source_id == src.id)
    if status:
        query = query.where(SourceItem.status == status)
    if q:
        query = query.where(SourceItem.origin.ilike(f"%{_escape_like(q)}%", escape="\\"))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(SourceItem.origin).limit(limit).offset(offset))
    return {
        "source": name, "kind": src.kind, "total": total, "limit": limit, "offset": offset,
        "items": [_item_json(r) for r in rows],
    }


def _item_json(row: SourceItem) -> dict[str, Any]:
    return {
        "origin": row.origin, "status": row.status, "code": row.code, "reason": row.message,
        "transient": row.transient, "sha256": row.sha256, "size_bytes": row.size_bytes,
        "cursor": row.cursor or {}, "document_id": row.document_id,
        "chunk_count": row.chunk_count,
        "duration_ms": round(row.duration_ms, 1) if row.duration_ms is not None else None,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
    }


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
