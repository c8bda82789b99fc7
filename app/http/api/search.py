"""GET/POST /api/search: ranked passages, in the shape of `homerag search --json`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.http.deps import ContextDep, EmbedderDep, FiltersDep, SessionDep
from app.http.schemas import SearchBody, hit_json
from app.services.runtime import Runtime
from app.retrieval.types import SearchFilters

router = APIRouter(prefix="/api", tags=["search"])

SEARCH_EXAMPLE = [{"rank": 1, "score": 0.0325, "chunk_id": 17, "document_id": 4,
                   "path": "/home/me/docs/gym.pdf", "title": "Gym contract", "page": 2,
                   "text": "The notice period is three months."}]


def run_search(ctx: Runtime, session: Any, embedder: Any, query: str, *,
               filters: SearchFilters, top_k: int | None) -> list[dict[str, Any]]:
    from app.retrieval import search

    settings = ctx.settings
    hits = search(session, embedder, query, filters=filters, top_k=top_k or settings.top_k,
                  candidates=settings.candidates, rrf_k=settings.rrf_k)
    return [hit_json(i, h) for i, h in enumerate(hits, 1)]


@router.get("/search", summary="Search passages (query parameters)",
            responses={200: {"content": {"application/json": {"example": SEARCH_EXAMPLE}}}})
def search_get(
    ctx: ContextDep,
    session: SessionDep,
    embedder: EmbedderDep,
    filters: FiltersDep,
    query: Annotated[str | None, Query(description="What to look for.")] = None,
    q: Annotated[str | None, Query(description="Short for `query`.")] = None,
    top_k: Annotated[int | None, Query(ge=1, le=100)] = None,
) -> list[dict[str, Any]]:
    """Hybrid search (dense + sparse + full text, fused by reciprocal rank)."""
    return run_search(ctx, session, embedder, query or q or "", filters=filters, top_k=top_k)


@router.post("/search", summary="Search passages (JSON body)",
             responses={200: {"content": {"application/json": {"example": SEARCH_EXAMPLE}}}})
def search_post(body: SearchBody, ctx: ContextDep, session: SessionDep,
                embedder: EmbedderDep) -> list[dict[str, Any]]:
    """Hybrid search with the query and filters in a JSON body."""
    return run_search(ctx, session, embedder, body.query, filters=body.to_filters(),
                      top_k=body.top_k)
