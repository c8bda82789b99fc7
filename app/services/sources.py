"""Use case: the sync ledger. Per source: settings (no secrets), counts, last run, problems;
per item: last seen hash or IMAP position, status, reason (read-only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from app.core.errors import NotFoundError
from app.core.models import Source, SourceItem

if TYPE_CHECKING:
    from app.services.runtime import Runtime


def list_sources(rt: Runtime) -> dict[str, Any]:
    """Every source with its ledger summary (the `homerag status` data) and its settings."""
    from app.services.status import index_status

    with rt.db.session() as session:
        status = index_status(session)
        configs = {s.name: (s.id, s.config, s.sync_interval_s, s.enabled)
                   for s in session.scalars(select(Source))}
    for src in status["sources"]:
        sid, config, interval, enabled = configs.get(src["name"], (None, {}, None, True))
        src.update(id=sid, config=config, sync_interval_s=interval, enabled=enabled)
    return {"embedder": status["embedder"], "documents": status["documents"],
            "chunks": status["chunks"], "sources": status["sources"]}


def source_items(rt: Runtime, name: str, *, status: str | None = None, q: str | None = None,
                 limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """One source's ledger, item by item, filtered by status and origin text."""
    with rt.db.session() as session:
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
