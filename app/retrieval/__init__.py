"""Hybrid search: embed the query, run dense + sparse + full-text retrieval fused by RRF in SQL,
then (optionally) rescore the shortlist.

    hits = search(session, embedder, "notice period of the gym contract", top_k=8)
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select, text

from app.core.errors import InvalidInputError, NotFoundError
from app.retrieval.quality import reweigh
from app.retrieval.queries import FTS_POOL, STAGES, SpaceRef, fts_terms, hybrid_sql
from app.retrieval.types import Hit, SearchFilters

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.core.protocols import Embedder
    from app.core.types import Embedding

__all__ = ["Hit", "SearchFilters", "SearchResult", "hybrid_search", "search", "search_detailed"]

MAX_QUERY_CHARS = 2000
# With a filter, an HNSW scan keeps going until enough rows pass it (iterative scan). Speed:
# a filter that the nearest region of the graph hardly contains (mails about the garage) made
# it walk up to pgvector's 20,000 tuples, twice (dense, sparse): 150-300 ms at 100k chunks. So
# the walk stops after this many tuples; when that leaves fewer than top_k hits, the query runs
# again with exact scoring over the filtered rows (hybrid_sql(exact=True)), so a filtered
# search still returns k rows whenever k rows match.
FILTERED_MAX_SCAN_TUPLES = 1000


class Rescorer(Protocol):
    """Re-orders a fused shortlist (ColBERT multi-vector, cross-encoder ...)."""

    def rescore(self, query: str, hits: Sequence[Hit]) -> list[Hit]: ...


@dataclass
class SearchResult:
    hits: list[Hit]
    space: str
    timings_ms: dict[str, float] = field(default_factory=dict)


def resolve_space(session: Session, embedder: Embedder) -> SpaceRef:
    """The active embedding space; it must have been built by this embedder."""
    from app.core.models import EmbeddingSpace

    space = session.scalar(select(EmbeddingSpace).where(EmbeddingSpace.status == "active"))
    if space is None:
        raise NotFoundError("the index is empty: run `homerag ingest PATH` first")
    if space.embedder != embedder.name or space.model_id != embedder.model_id:
        raise InvalidInputError(
            f"the index was built with {space.embedder} ({space.model_id}) but the configured "
            f"embedder is {embedder.name} ({embedder.model_id}); set HOMERAG_EMBEDDER or migrate "
            "the index (`homerag embeddings migrate`)"
        )
    return SpaceRef(id=space.id, dim=space.dim, sparse_dim=space.sparse_dim)


def hybrid_search(session: Session, space: SpaceRef, query: str, query_embedding: Embedding,
                  *, filters: SearchFilters | None = None, top_k: int = 8, candidates: int = 60,
                  rrf_k: int = 60, stages: Sequence[str] = STAGES,
                  weights: dict[str, float] | None = None,
                  max_scan_tuples: int = FILTERED_MAX_SCAN_TUPLES,
                  fts_pool: int = FTS_POOL, ocr_weighting: bool = True,
                  ef_search: int | None = None, exact: bool = False) -> list[Hit]:
    """Run the fused SQL for an already-embedded query (`max_scan_tuples`, `fts_pool`: the
    bounds explained at FILTERED_MAX_SCAN_TUPLES and in app.retrieval.queries; `ef_search`:
    the HNSW search breadth, default max(40, candidates); `exact`: score dense and sparse by
    brute force, no HNSW - the ground truth benchmarks measure recall against)."""
    from app.core.text import STOPWORDS
    from app.core.vectors import to_halfvec, to_sparsevec

    filters = filters or SearchFilters()
    unknown = set(stages) - set(STAGES)
    if unknown:
        raise InvalidInputError(f"unknown retrieval stage(s): {', '.join(sorted(unknown))}")
    simple_terms = fts_terms(query, STOPWORDS)
    # The language configurations get the words without English and German stopwords too
    # (relevance and speed): each configuration drops only its own, so "the" went through the
    # German one and "die" through the English one, matched every chunk stored under the
    # 'simple' configuration and filled the full-text ranking pool with noise. A query made of
    # stopwords alone keeps them.
    terms = simple_terms or fts_terms(query, frozenset())
    query_params = {
        "qd": to_halfvec(query_embedding.dense).to_text(),
        "qs": to_sparsevec(query_embedding.sparse, space.sparse_dim).to_text(),
        "terms": " | ".join(f"'{t}'" for t in terms) or "''",
        "terms_simple": " | ".join(f"'{t}'" for t in simple_terms) or "''",
    }

    def statement(*, exact: bool) -> tuple[str, dict[str, Any]]:
        sql, params = hybrid_sql(space, stages=stages, filters=filters, candidates=candidates,
                                 top_k=top_k, rrf_k=rrf_k, has_terms=bool(simple_terms or terms),
                                 weights=weights, exact=exact, fts_pool=fts_pool,
                                 ocr_weighting=ocr_weighting)
        return sql, {**params, **query_params}

    # HNSW returns ef_search candidates at most; with filters, keep scanning until k rows pass.
    # set_config(..., true) is SET LOCAL; one round trip for all (speed). Custom plans always:
    # psycopg prepares a statement run 5 times, and PostgreSQL then tries a generic plan that
    # cannot see how selective the filter values are (a one-year date range planned as an exact
    # scan of every chunk: 160 ms instead of 10 at 100k chunks).
    settings_sql = ("SELECT set_config('hnsw.ef_search', :ef, true), "
                    "set_config('plan_cache_mode', 'force_custom_plan', true)")
    if not filters.is_empty:
        settings_sql += (", set_config('hnsw.iterative_scan', 'relaxed_order', true)"
                         ", set_config('hnsw.max_scan_tuples', :max_scan, true)")
    ef = int(ef_search) if ef_search else max(40, int(candidates))
    session.execute(text(settings_sql), {"ef": str(ef),
                                         "max_scan": str(int(max_scan_tuples))})
    sql, params = statement(exact=exact)
    rows = session.execute(text(sql), params).mappings().all()
    if not exact and len(rows) < top_k and not filters.is_empty and {"dense", "sparse"} & set(stages):
        sql, params = statement(exact=True)
        rows = session.execute(text(sql), params).mappings().all()
    return [_hit(r) for r in rows]


def _hit(r: Any) -> Hit:
    return Hit(
        chunk_id=r["chunk_id"], document_id=r["document_id"], score=float(r["score"]),
        text=r["text"], path=r["origin"], title=r["title"], page=r["page"],
        page_end=r["page_end"], heading=r["heading"], char_start=r["char_start"],
        char_end=r["char_end"], kind=r["kind"], media_type=r["media_type"],
        occurred_at=r["occurred_at"], parent_id=r["parent_id"], metadata=r["metadata"] or {},
        ranks=dict(r["ranks"] or {}), ocr_quality=r.get("ocr_quality"),
    )


def search_detailed(session: Session, embedder: Embedder, query: str, *,
                    filters: SearchFilters | None = None, top_k: int = 8,
                    candidates: int = 60, rrf_k: int = 60, stages: Sequence[str] = STAGES,
                    rescorer: Rescorer | None = None,
                    ef_search: int | None = None) -> SearchResult:
    """Search with timings: query embedding, SQL, rescoring (each in ms). `ef_search`: see
    `hybrid_search` (benchmarks sweep it)."""
    query = (query or "").strip()
    if not query:
        raise InvalidInputError("the query is empty")
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInputError(f"the query is {len(query)} characters long "
                                f"(at most {MAX_QUERY_CHARS})")
    if top_k < 1 or top_k > 100:
        raise InvalidInputError(f"top_k must be between 1 and 100, not {top_k}")
    space = resolve_space(session, embedder)
    t0 = time.perf_counter()
    qemb = embedder.embed_query(query)
    t1 = time.perf_counter()
    shortlist = max(top_k, candidates // 2) if rescorer else top_k
    hits = hybrid_search(session, space, query, qemb, filters=filters, top_k=shortlist,
                         candidates=max(candidates, top_k), rrf_k=rrf_k, stages=stages,
                         ef_search=ef_search)
    t2 = time.perf_counter()
    if rescorer is not None and hits:
        hits = reweigh(rescorer.rescore(query, hits))[:top_k]
    t3 = time.perf_counter()
    return SearchResult(hits=hits[:top_k], space=f"{embedder.name}:{embedder.model_id}",
                        timings_ms={"embed": (t1 - t0) * 1e3, "sql": (t2 - t1) * 1e3,
                                    "rescore": (t3 - t2) * 1e3})


def search(session: Session, embedder: Embedder, query: str, *,
           filters: SearchFilters | None = None, top_k: int = 8, **kwargs: Any) -> list[Hit]:
    """Ranked passages for `query` (see `search_detailed` for the options)."""
    return search_detailed(session, embedder, query, filters=filters, top_k=top_k,
                           **kwargs).hits
