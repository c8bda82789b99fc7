"""Vectors as pgvector stores them: dense BGE-M3 vectors as `halfvec`, lexical weights as
`sparsevec` pruned to what an HNSW index accepts. Shared by the ingest store and retrieval."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pgvector import HalfVector, SparseVector

# pgvector's HNSW index on sparsevec takes at most 1,000 non-zero elements per vector.
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
