"""Vectors as pgvector stores them: dense BGE-M3 vectors as `halfvec`, lexical weights as
`sparsevec` pruned to what an HNSW index accepts. Shared by the ingest store and retrieval."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pgvector import HalfVector, SparseVector

# Stored sparse vectors keep at most 1,000 non-zero elements: what pgvector's HNSW index on
# sparsevec accepts (homerag's first sparse index), and far more than a chunk has.
SPARSE_HNSW_LIMIT = 1000


def prune_sparse(weights: Mapping[int, float],
                 limit: int | None = SPARSE_HNSW_LIMIT) -> dict[int, float]:
    """Keep the `limit` largest positive finite weights (ties: lower token id first), sorted by
    id; `limit=None` keeps every positive one."""
    positive = [(int(k), float(v)) for k, v in weights.items()
                if v and v > 0 and math.isfinite(v)]
    if limit is not None and len(positive) > limit:
        positive.sort(key=lambda kv: (-kv[1], kv[0]))
        positive = positive[:limit]
    return dict(sorted(positive))


def to_halfvec(dense: Sequence[float] | NDArray[np.floating[Any]]) -> HalfVector:
    return HalfVector(np.asarray(dense, dtype=np.float32))


def to_sparsevec(weights: Mapping[int, float], dim: int) -> SparseVector:
    # SparseVector's dict form is 0-based like our token ids.
    return SparseVector(prune_sparse(weights), dim)


# The sparse stage's inverted index (table sparse_postings, app.retrieval.queries) keeps, for
# BGE-M3, the tokens of a chunk that weigh at least this share of its heaviest one. Size against
# recall, measured with bench/search_scale.py's BGE-M3-shaped chunks (~180 tokens each), recall@10
# of the stage against exact sparse scoring: 0.5 keeps ~73 postings a chunk, recall 0.995 at
# 10^4 chunks and 0.975 at 10^6; 0.6 keeps ~48 (0.96 at 10^4); the 32 heaviest tokens kept 0.87.
# BGE-M3's learned weights rank a chunk's tokens by importance: the weak ones left out are
# function words and common words, which add little to a score and make posting lists long.
# Other embedders' weights are term frequencies (lexical-hash): a word said once weighs least
# however rare it is, so every token is kept. The stage re-scores its shortlist with the whole
# stored vector: the share decides which chunks are found, not their scores.
POSTING_MIN_SHARE = 0.5
LEARNED_SPARSE_EMBEDDERS = frozenset({"bge-m3"})


def posting_share(embedder_name: str) -> float:
    """The share of a chunk's heaviest weight its postings keep, for a space's embedder."""
    return POSTING_MIN_SHARE if embedder_name in LEARNED_SPARSE_EMBEDDERS else 0.0


def posting_terms(weights: Mapping[int, float] | SparseVector,
                  share: float) -> list[tuple[int, float]]:
    """(token id, weight) of a chunk's postings: positive weights (as pruned for storage,
    `prune_sparse`) of at least `share` x the largest."""
    if isinstance(weights, SparseVector):
        weights = dict(zip(weights.indices(), weights.values(), strict=True))
    kept = prune_sparse(weights)
    if not kept or share <= 0:
        return list(kept.items())
    floor = share * max(kept.values())
    return [(k, v) for k, v in kept.items() if v >= floor]
