"""What is indexed, by which embedder, and how each source's items fared (read-only queries)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.models import Chunk, Document, EmbeddingSpace, IngestRun, Source, SourceItem


def index_status(session: Session, *, failures_per_source: int = 20) -> dict[str, Any]:
    """Embedding spaces, totals and per-source ledger counts with failure reasons."""
    spaces = [
        {"id": s.id, "embedder": s.embedder, "model_id": s.model_id, "dim": s.dim,
         "status": s.status, "created_at": _iso(s.created_at)}
        for s in session.scalars(select(EmbeddingSpace).order_by(EmbeddingSpace.id))
    ]
    active = next((s for s in spaces if s["status"] == "active"), None)
    counts = {
        (sid, status): (n, chunks or 0)
        for sid, status, n, chunks in session.execute(
            select(SourceItem.source_id, SourceItem.status, func.count(),
                   func.sum(SourceItem.chunk_count))
            .group_by(SourceItem.source_id, SourceItem.status)
        )
    }
    sources = []
    for src in session.scalars(select(Source).order_by(Source.name)):
        failures = session.execute(
            select(SourceItem.origin, SourceItem.status, SourceItem.code, SourceItem.message,
                   SourceItem.updated_at)
            .where(SourceItem.source_id == src.id, SourceItem.status.in_(("failed", "skipped")))
            .order_by(SourceItem.updated_at.desc())
            .limit(failures_per_source)
        ).all()
        last_run = session.scalar(
            select(IngestRun).where(IngestRun.source_id == src.id)
            .order_by(IngestRun.id.desc()).limit(1)
        )
        sources.append({
            "name": src.name,
            "kind": src.kind,
            "last_sync_at": _iso(src.last_sync_at),
            "indexed": counts.get((src.id, "indexed"), (0, 0))[0],
            "failed": counts.get((src.id, "failed"), (0, 0))[0],
            "skipped": counts.get((src.id, "skipped"), (0, 0))[0],
            "chunks": counts.get((src.id, "indexed"), (0, 0))[1],
            "last_run": None if last_run is None else {
                "id": last_run.id, "status": last_run.status, "trigger": last_run.trigger,
                "started_at": _iso(last_run.started_at),
                "finished_at": _iso(last_run.finished_at), "counts": last_run.counts,
                "error": last_run.error,
            },
            "problems": [
                {"origin": f.origin, "status": f.status, "code": f.code, "message": f.message}
                for f in failures
            ],
        })
    return {
        "embedder": active["embedder"] if active else None,
        "index": active,
        "spaces": spaces,
        "documents": session.scalar(select(func.count()).select_from(Document)) or 0,
        "chunks": session.scalar(select(func.count()).select_from(Chunk)) or 0,
        "sources": sources,
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
