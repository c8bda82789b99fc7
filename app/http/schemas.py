"""Request bodies and the JSON shapes of API responses (kept apart from the ORM models)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from app.http.deps import FilterFields

if TYPE_CHECKING:
    from app.core.models import Chunk, Document
    from app.retrieval.types import Hit


class SearchBody(FilterFields):
    """POST /api/search: the query, how many passages, and the filters."""

    query: str = Field(description="What to look for.")
    top_k: int | None = Field(default=None, ge=1, le=100, description="Default HOMERAG_TOP_K.")


class AskBody(FilterFields):
    """POST /api/ask: the question, how many passages to offer the model, and the filters."""

    question: str = Field(description="The question, in any language the documents use.")
    top_k: int | None = Field(default=None, ge=1, le=50, description="Default HOMERAG_TOP_K.")


def hit_json(rank: int, hit: Hit) -> dict[str, Any]:
    """One passage, in the shape of `homerag search --json` (checked by tests/api)."""
    return {"rank": rank, "score": round(hit.score, 6), "chunk_id": hit.chunk_id,
            "document_id": hit.document_id, "path": hit.path, "title": hit.title,
            "page": hit.page, "text": hit.text}


def chunk_json(chunk: Chunk, *, text: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": chunk.id, "document_id": chunk.document_id, "ordinal": chunk.ordinal,
        "page": chunk.page, "page_end": chunk.page_end, "heading": chunk.heading,
        "char_start": chunk.char_start, "char_end": chunk.char_end,
    }
    if text:
        out["text"] = chunk.text
    return out


def document_ref(doc: Document) -> dict[str, Any]:
    return {"id": doc.id, "title": doc.title, "path": doc.origin, "media_type": doc.media_type,
            "kind": doc.kind}


def document_json(doc: Document, *, parent: Document | None, children: list[Document],
                  has_original: bool, parent_label: str | None) -> dict[str, Any]:
    return {
        "id": doc.id,
        "title": doc.title,
        "path": doc.origin,
        "kind": doc.kind,
        "media_type": doc.media_type,
        "sha256": doc.sha256,
        "size_bytes": doc.size_bytes,
        "page_count": doc.page_count,
        "occurred_at": doc.occurred_at.isoformat() if doc.occurred_at else None,
        "updated_at": doc.updated_at.isoformat() if doc.updated_at else None,
        "source": {"name": doc.source.name, "kind": doc.source.kind},
        "metadata": dict(doc.meta or {}),
        "parent": None if parent is None else {**document_ref(parent), "label": parent_label},
        "children": [document_ref(c) for c in children],
        "file_url": f"/api/documents/{doc.id}/file" if has_original else None,
        "page_url": f"/documents/{doc.id}",
    }
