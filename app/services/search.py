"""Use case: search passages. The CLI (`homerag search`), `/api/search`, the `/search` page and
the MCP `search` tool all call `search_passages`, so they rank alike (same embedder, same
rescorer, same retrieval settings) and `hit_json` is the one JSON shape of a passage.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from app.answer.spans import locate
from app.answer.types import Citable, citation_url
from app.retrieval.filters import make_filters
from app.retrieval.types import Hit, SearchFilters

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.services.runtime import Runtime

__all__ = ["Hit", "SearchFilters", "hit_json", "hit_span", "make_filters", "make_search_filters",
           "search_passages"]


def search_passages(rt: Runtime, query: str, *, filters: SearchFilters | None = None,
                    top_k: int | None = None, session: Session | None = None) -> list[Hit]:
    """Hybrid search (dense + sparse + full text fused by RRF), re-scored when the embedder has
    a rescorer (BGE-M3 ColBERT, cross-encoder). The active space is read once."""
    from app.retrieval import search

    settings = rt.settings
    embedder = rt.embedder()
    options: dict[str, Any] = {
        "filters": filters, "top_k": top_k or settings.top_k,
        "candidates": settings.candidates, "rrf_k": settings.rrf_k,
        "rescorer": rt.rescorer(embedder),
    }
    if session is not None:
        return search(session, embedder, query, **options)
    with rt.db.session() as own:
        return search(own, embedder, query, **options)


def hit_json(rank: int, hit: Hit, *, query: str | None = None) -> dict[str, Any]:
    """One passage: the shape of `homerag search --json`, `/api/search` and MCP `search`.

    With `query`: also `snippet` (the sentences that match it), `span` (their document offsets)
    and `url` (the document page marking them).
    """
    out: dict[str, Any] = {"rank": rank, "score": round(hit.score, 6), "chunk_id": hit.chunk_id,
                           "document_id": hit.document_id, "path": hit.path, "title": hit.title,
                           "page": hit.page, "text": hit.text}
    if query is not None:
        span, shown = hit_span(hit, query)
        out.update(snippet=shown, span=list(span) if span else None,
                   url=citation_url(Citable.from_hit(hit), span))
    return out


def hit_span(hit: Hit, query: str) -> tuple[tuple[int, int] | None, str]:
    """(document offsets of the hit's sentences that match `query`, a snippet of them)."""
    return locate(Citable.from_hit(hit), query)


def make_search_filters(*, kinds: Iterable[str] = (), sources: Iterable[str] = (),
                        **kwargs: Any) -> SearchFilters:
    """`make_filters` with blank strings (empty form fields, unset options) treated as absent."""
    for key in ("sender", "recipient", "folder", "date_from", "date_to"):
        value = kwargs.get(key)
        if isinstance(value, str) and not value.strip():
            kwargs[key] = None
    return make_filters(kinds=kinds, sources=sources, **kwargs)
