"""Pure helpers shared by the BGE-M3 backends: output type, sparse conversion and pruning, batching.

No torch here (numpy only), so these are unit-tested without a model.

Sparse pruning: pgvector's HNSW index on `sparsevec` accepts at most 1,000 non-zero elements per
vector, so every lexical-weight vector keeps its 1,000 largest weights (ties broken by the lower
token id, so the result is deterministic) and drops zeros and negatives. BGE-M3 gives a weight per
*distinct* token, so only passages with more than 1,000 distinct tokens lose anything; what they
lose are their weakest terms, which contribute least to the inner product with any query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.core.vectors import SPARSE_HNSW_LIMIT, prune_sparse


@dataclass(frozen=True, slots=True)
class M3Vectors:
    """What BGE-M3 gives for one text: dense (normalised), sparse {token id: weight}, ColBERT.

    `colbert` is (tokens - 1, dim), L2-normalised rows, present only when asked for.
    """

    dense: np.ndarray
    sparse: dict[int, float]
    colbert: np.ndarray | None = field(default=None)


def lexical_weights_to_sparse(
    lexical: Mapping[Any, Any], limit: int | None = SPARSE_HNSW_LIMIT
) -> dict[int, float]:
    """FlagEmbedding's {"token id as str": numpy float} to a pruned {int: float}."""
    return prune_sparse({int(k): float(v) for k, v in lexical.items()}, limit)


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    """float32 rows scaled to unit L2 norm (zero rows stay zero)."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


def length_order(lengths: Sequence[int]) -> list[int]:
    """Indices from longest to shortest (stable), so batches hold texts of similar length."""
    return sorted(range(len(lengths)), key=lambda i: -lengths[i])


def count_batches(order: Sequence[int], size: int) -> list[list[int]]:
    """Consecutive runs of at most `size` indices."""
    if size < 1:
        raise ValueError(f"batch size must be positive, got {size}")
    return [list(order[i : i + size]) for i in range(0, len(order), size)]


def token_budget_batches(
    order: Sequence[int],
    lengths: Sequence[int],
    *,
    max_tokens: int,
    max_batch: int | None = None,
) -> list[list[int]]:
    """Group length-sorted indices so that (rows x longest row) stays within `max_tokens`.

    Padding makes a batch cost its row count times its longest row, so the budget is on that
    product. A single text longer than the budget still gets a batch of its own.
    """
    if max_tokens < 1:
        raise ValueError(f"token budget must be positive, got {max_tokens}")
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        n = max(1, lengths[i])
        new_longest = max(longest, n)
        full = max_batch is not None and len(current) >= max_batch
        if current and (new_longest * (len(current) + 1) > max_tokens or full):
            batches.append(current)
            current, new_longest = [], n
        current.append(i)
        longest = new_longest
    if current:
        batches.append(current)
    return batches


def restore_order(
    batches: Iterable[Sequence[int]], results: Iterable[Sequence[Any]], n: int
) -> list[Any]:
    """Put per-batch results back at their input positions."""
    out: list[Any] = [None] * n
    for idx, res in zip(batches, results, strict=True):
        for i, r in zip(idx, res, strict=True):
            out[i] = r
    if any(r is None for r in out):
        raise ValueError("batches did not cover every input")
    return out
