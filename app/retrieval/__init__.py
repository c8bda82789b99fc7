"""Hybrid search: embed the query, run dense + sparse + full-text retrieval fused by RRF in SQL,
then (optionally) rescore the shortlist.

    hits = search(session, embedder, "notice period of the gym contract", top_k=8)
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import text

from app.core.errors import InvalidInputError, NotFoundError
from app.retrieval.quality import reweigh
from app.retrieval.queries import (
    FTS_POOL,
    STAGES,
    SpaceRef,
    fts_terms,
    hybrid_sql,
    query_tokens,
    sparse_shortlist_statement,
)
from app.retrieval.types import Hit, SearchFilters

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.core.protocols import Embedder
    from app.core.types import Embedding

__all__ = ["Hit", "SearchFilters", "SearchResult", "hybrid_search", "search", "search_detailed",
           "search_settings"]

MAX_QUERY_CHARS = 2000
# With a filter, the dense stage walks the HNSW graph (iterative scan) to this many nearest
# chunks and keeps those that pass it (queries._filtered_walk). Speed: a filter that the nearest
# region of the graph hardly contains (mails about the garage) made a walk that stops only once
# enough rows pass go up to pgvector's 20,000 tuples: 150-300 ms at 100k chunks. When the walk
# leaves fewer than top_k hits, the query runs again with exact scoring over the filtered rows
# (hybrid_sql(exact=True)), so a filtered search still returns k rows whenever k rows match.
FILTERED_MAX_SCAN_TUPLES = 1000
# The graph's search breadth for that walk (unless the caller gives one): the walk goes 1,000
# deep, and with the unfiltered default (60) its far end is found loosely. bench/search_scale.py
# at 10^6 chunks, one-year date filter: recall@10 0.940 at 60, 0.967 at 160, p95 52 ms both
# (p50 38 -> 44 ms); at 10^5 0.940 -> 0.958 at no cost.
FILTERED_EF_SEARCH = 160
# A filtered search on an index this small is scored exactly at once: as fast as the graph
# walks (10^4 chunks, one-year date filter: p50 9 ms either way) and exact, where the graph
# walk would often come up short and be followed by the exact statement anyway.
EXACT_FILTERED_MAX_VECTORS = 50_000


class Rescorer(Protocol):
    """Re-orders a fused shortlist (ColBERT multi-vector, cross-encoder ...)."""

    def rescore(self, query: str, hits: Sequence[Hit]) -> list[Hit]: ...


@dataclass
class SearchResult:
    hits: list[Hit]
    space: str
    timings_ms: dict[str, float] = field(default_factory=dict)


def resolve_space(session: Session, embedder: Embedder, *,
                  settings: Mapping[str, str] | None = None) -> SpaceRef:
    """The active embedding space; it must have been built by this embedder. `settings`
    (`search_settings`) are SET LOCAL in the same round trip."""
    sets, params = _set_configs(settings)
    space = session.execute(text(
        f"SELECT id, embedder, model_id, dim, sparse_dim, (SELECT reltuples FROM pg_class "
        f"WHERE oid = 'chunk_embeddings'::regclass) AS vectors, EXISTS (SELECT 1 FROM "
        f"lexeme_frequencies) AS lexeme_counts{sets} FROM embedding_spaces "
        "WHERE status = 'active'"), params).first()
    if space is None:
        raise NotFoundError("the index is empty: run `homerag ingest PATH` first")
    if space.embedder != embedder.name or space.model_id != embedder.model_id:
        raise InvalidInputError(
            f"the index was built with {space.embedder} ({space.model_id}) but the configured "
            f"embedder is {embedder.name} ({embedder.model_id}); set HOMERAG_EMBEDDER or migrate "
            "the index (`homerag embeddings migrate`)"
        )
    return SpaceRef(id=space.id, dim=space.dim, sparse_dim=space.sparse_dim,
                    vectors=float(space.vectors if space.vectors is not None else -1),
                    embedder=space.embedder, lexeme_counts=bool(space.lexeme_counts))


def _set_configs(settings: Mapping[str, str] | None) -> tuple[str, dict[str, str]]:
    """(", set_config(:k0, :v0, true), ...", its parameters) for a SELECT list."""
    sql, params = "", {}
    for i, (key, value) in enumerate((settings or {}).items()):
        sql += f", set_config(:k{i}, :v{i}, true)"
        params[f"k{i}"], params[f"v{i}"] = key, value
    return sql, params


def search_settings(filters: SearchFilters, *, candidates: int, ef_search: int | None = None,
                    max_scan_tuples: int = FILTERED_MAX_SCAN_TUPLES) -> dict[str, str]:
    """What one search SETs LOCAL (set_config(..., true), ended by its transaction).

    HNSW returns ef_search candidates at most (default max(40, candidates); filtered,
    max(FILTERED_EF_SEARCH, candidates)). With filters the
    dense walk goes on past them (iterative scan, to max_scan_tuples rows), and plans are
    custom: psycopg prepares a statement run 5 times, and PostgreSQL then tries a generic plan
    that cannot see how selective the filter values are (a one-year date range planned as an
    exact scan of every chunk: 160 ms instead of 10 at 100k chunks). An unfiltered search uses
    the generic plan: its plan depends on no parameter value (the limits are written into the
    statement, see queries._inline_ints), so the cached plan saves the ~2 ms of planning on
    every search.
    """
    floor = 40 if filters.is_empty else FILTERED_EF_SEARCH
    out = {"hnsw.ef_search": str(int(ef_search) if ef_search else max(floor, int(candidates)))}
    if filters.is_empty:
        # The question's tokens are array parameters (:qt, :qw): with their values the planner
        # costs every custom plan lower than the generic one and never switches to it, paying
        # ~1.5 ms of planning a search (bench/small_search.py). The plan does not depend on the
        # values (each token's postings are read through the index whatever it is).
        out["plan_cache_mode"] = "force_generic_plan"
    else:
        out.update({"plan_cache_mode": "force_custom_plan",
                    "hnsw.iterative_scan": "relaxed_order",
                    "hnsw.max_scan_tuples": str(int(max_scan_tuples))})
    return out


def hybrid_search(session: Session, space: SpaceRef, query: str, query_embedding: Embedding,
                  *, filters: SearchFilters | None = None, top_k: int = 8, candidates: int = 60,
                  rrf_k: int = 60, stages: Sequence[str] = STAGES,
                  weights: dict[str, float] | None = None,
                  max_scan_tuples: int = FILTERED_MAX_SCAN_TUPLES,
                  fts_pool: int = FTS_POOL, ocr_weighting: bool = True,
                  ef_search: int | None = None, exact: bool = False,
                  configured: bool = False, parallel: bool | None = None) -> list[Hit]:
    """Run the fused SQL for an already-embedded query (`max_scan_tuples`, `fts_pool`: the
    bounds explained at FILTERED_MAX_SCAN_TUPLES and in app.retrieval.queries; `ef_search`:
    the HNSW search breadth, default max(40, candidates); `exact`: score dense and sparse by
    brute force, no HNSW - the ground truth benchmarks measure recall against; `configured`:
    the caller has SET LOCAL `search_settings` already, e.g. with `resolve_space`;
    `parallel`: run the stages on two connections at once (app.retrieval.parallel); None: on
    an index of PARALLEL_MIN_VECTORS or more, True: on any index, both only when no other
    search is in flight and the pool has a connection to spare; False: never)."""
    from app.core.text import STOPWORDS
    from app.core.vectors import posting_share, to_halfvec, to_sparsevec
    from app.retrieval.parallel import PARALLEL_MIN_VECTORS, search_in_flight, split_search

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
        **query_tokens(query_embedding.sparse),
    }

    if (not exact and not filters.is_empty and {"dense", "sparse"} & set(stages)
            and space.vectors <= EXACT_FILTERED_MAX_VECTORS):
        exact = True

    def statement(*, exact: bool, part: str = "whole") -> tuple[str, dict[str, Any]]:
        sql, params = hybrid_sql(space, stages=stages, filters=filters, candidates=candidates,
                                 top_k=top_k, rrf_k=rrf_k, has_terms=bool(simple_terms or terms),
                                 weights=weights, exact=exact, fts_pool=fts_pool,
                                 ocr_weighting=ocr_weighting, filtered_walk=max_scan_tuples,
                                 part=part)
        return sql, {**params, **query_params}

    def settings_statement() -> tuple[str, dict[str, str]]:
        sets, params = _set_configs(search_settings(
            filters, candidates=candidates, ef_search=ef_search, max_scan_tuples=max_scan_tuples))
        return f"SELECT 1{sets}", params

    if not configured:
        set_sql, set_params = settings_statement()
        session.execute(text(set_sql), set_params)
    # Split only where both halves have work: the sparse stage, and dense or full text; and
    # not an unfiltered search in a space that posts every token (the lexical embedder): its
    # shortlist is the :cand best sums, ~1 ms, and the split measured no faster there
    # (bench/README.md "Two connections").
    splittable = (not exact and "sparse" in stages
                  and ("dense" in stages or ("fts" in stages and bool(simple_terms or terms)))
                  and (not filters.is_empty or posting_share(space.embedder) > 0))
    wanted = splittable and parallel is not False and (
        parallel or space.vectors >= PARALLEL_MIN_VECTORS)
    with search_in_flight(session, splittable=wanted) as engine:
        if engine is not None:
            shortlist_sql, shortlist_params = sparse_shortlist_statement(
                space, filters=filters, candidates=candidates)
            # The longer half runs on this connection (app.retrieval.parallel). A date range
            # has nothing to do with what a question is about: the dense walk goes the whole
            # FILTERED_MAX_SCAN_TUPLES deep to keep ~5 % of it, and dense + full text was the
            # longer half (10^6, mean ms: 26-31 against the shortlist's 21-22). A source the
            # question is about stops the walk early (13 against 21), and unfiltered the two
            # are even (9.1 against 9.3).
            rows = split_search(
                session, engine, settings=settings_statement(),
                first=statement(exact=False, part="first"),
                shortlist=(shortlist_sql, {**shortlist_params, **query_params}),
                final=statement(exact=False, part="final"),
                first_here=filters.date_from is not None or filters.date_to is not None)
        else:
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
    # One round trip for the active space and this search's settings.
    space = resolve_space(session, embedder, settings=search_settings(
        filters or SearchFilters(), candidates=max(candidates, top_k), ef_search=ef_search))
    t0 = time.perf_counter()
    qemb = embedder.embed_query(query)
    t1 = time.perf_counter()
    shortlist = max(top_k, candidates // 2) if rescorer else top_k
    hits = hybrid_search(session, space, query, qemb, filters=filters, top_k=shortlist,
                         candidates=max(candidates, top_k), rrf_k=rrf_k, stages=stages,
                         ef_search=ef_search, configured=True)
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
