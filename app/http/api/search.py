"""GET/POST /api/search: ranked passages, in the shape of `homerag search --json`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.http.deps import FiltersDep, RuntimeDep
from app.http.schemas import SearchBody
from app.services.search import hit_json, search_passages

router = APIRouter(prefix="/api", tags=["search"])

SEARCH_EXAMPLE = [{"rank": 1, "score": 0.0325, "chunk_id": 17, "document_id": 4,
                   "path": "/home/me/docs/gym.pdf", "title": "Gym contract", "page": 2,
                   "text": "The notice period is three months."}]


@router.get("/search", summary="Search passages (query parameters)",
            responses={200: {"content": {"application/json": {"example": SEARCH_EXAMPLE}}}})
def search_get(
    rt: RuntimeDep,
    filters: FiltersDep,
    query: Annotated[str | None, Query(description="What to look for.")] = None,
    q: Annotated[str | None, Query(description="Short for `query`.")] = None,
    top_k: Annotated[int | None, Query(ge=1, le=100)] = None,
) -> list[dict[str, Any]]:
    """Hybrid search (dense + sparse + full text, fused by reciprocal rank, then re-scored)."""
    hits = search_passages(rt, query or q or "", filters=filters, top_k=top_k)
    return [hit_json(i, h, query=query or q or "") for i, h in enumerate(hits, 1)]


@router.post("/search", summary="Search passages (JSON body)",
             responses={200: {"content": {"application/json": {"example": SEARCH_EXAMPLE}}}})
def search_post(body: SearchBody, rt: RuntimeDep) -> list[dict[str, Any]]:
    """Hybrid search with the query and filters in a JSON body."""
    hits = search_passages(rt, body.query, filters=body.to_filters(), top_k=body.top_k)
    return [hit_json(i, h, query=body.query) for i, h in enumerate(hits, 1)]
