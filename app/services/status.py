"""Use case: status. What is indexed, by which embedder, and how each source's items fared:
every failed or skipped item with its reason, including attachments and archive members that
failed inside a document that was indexed (read-only queries). `homerag status`, `/api/status`,
the web's ingest health and the MCP `status` tool all show `index_status`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.core.models import Chunk, Document, EmbeddingSpace, IngestRun, Source, SourceItem
from app.services.maintenance import vector_layout

if TYPE_CHECKING:
    from app.services.runtime import Runtime


# Failures inside indexed documents (a mail's attachment, an archive's member): recorded in the
# run that indexed the parent's current version, with an origin "<parent>#...". Driven from the
# failed rows (few), not from every indexed item (a lateral look-up per item cost ~0.5 s at 100k).
_INNER_FAILURES = text("""
    SELECT c.origin, c.status, c.code, c.message, c.created_at AS updated_at
    FROM ingest_items c
    JOIN ingest_items p ON p.run_id = c.run_id AND p.status = 'indexed'
        AND starts_with(c.origin, p.origin || '#')
    JOIN source_items si ON si.source_id = :source_id AND si.origin = p.origin
        AND si.status = 'indexed' AND si.document_id = p.document_id
    WHERE c.source_id = :source_id AND c.status = 'failed'
      AND NOT EXISTS (SELECT 1 FROM ingest_items newer
                      WHERE newer.document_id = p.document_id AND newer.status = 'indexed'
                        AND newer.id > p.id)
    ORDER BY c.id DESC
""")


def status(rt: Runtime, *, all_problems: bool = False) -> dict[str, Any]:
    """`index_status` plus where the database lives; every problem with `all_problems`."""
    with rt.db.session() as session:
        result = index_status(session, failures_per_source=None if all_problems else 20)
    result["database"] = rt.db_label
    return result


def index_status(session: Session, *, failures_per_source: int | None = 20) -> dict[str, Any]:
    """Embedding spaces, totals and per-source ledger counts with failure reasons: per source,
    `problem_count` (all of them) and `problems` (the newest `failures_per_source`, or all)."""
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
        failures = list(session.execute(
            select(SourceItem.origin, SourceItem.status, SourceItem.code, SourceItem.message,
                   SourceItem.updated_at)
            .where(SourceItem.source_id == src.id, SourceItem.status.in_(("failed", "skipped")))
            .order_by(SourceItem.updated_at.desc())
        ).all())
        inner = list(session.execute(_INNER_FAILURES, {"source_id": src.id}).all())
        problems = sorted(failures + inner, key=lambda f: f.updated_at, reverse=True)
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
            "failed_inside": len(inner),
            "skipped": counts.get((src.id, "skipped"), (0, 0))[0],
            "chunks": counts.get((src.id, "indexed"), (0, 0))[1],
            "last_run": None if last_run is None else {
                "id": last_run.id, "status": last_run.status, "trigger": last_run.trigger,
                "started_at": _iso(last_run.started_at),
                "finished_at": _iso(last_run.finished_at), "counts": last_run.counts,
                "error": last_run.error,
            },
            "problem_count": len(problems),
            "problems": [
                {"origin": f.origin, "status": f.status, "code": f.code, "message": f.message}
                for f in problems[:failures_per_source]
            ],
        })
    return {
        "embedder": active["embedder"] if active else None,
        "index": active,
        "spaces": spaces,
        "documents": session.scalar(select(func.count()).select_from(Document)) or 0,
        "chunks": session.scalar(select(func.count()).select_from(Chunk)) or 0,
        "vectors": vector_layout(session.connection()),
        "sources": sources,
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
