"""Pure BGE-M3 helpers: sparse conversion and pruning, length-sorted batching, order restoring."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from app.core.vectors import SPARSE_HNSW_LIMIT, prune_sparse
from ingest.embedders.m3_common import (
    count_batches,
    length_order,
    lexical_weights_to_sparse,
    normalize_rows,
    restore_order,
    token_budget_batches,
)


def test_lexical_weights_to_sparse_converts_string_ids_and_numpy_floats():
    lexical = {"17": np.float32(0.5), "3": np.float16(0.25), "250001": np.float64(1.5)}
    sparse = lexical_weights_to_sparse(lexical)
    assert sparse == {3: 0.25, 17: 0.5, 250001: 1.5}
    assert all(type(k) is int for k in sparse)
    assert all(type(v) is float for v in sparse.values())


def test_prune_sparse_keeps_the_largest_weights_up_to_the_hnsw_limit():
    rng = random.Random(1)
    weights = {i: rng.random() + 0.001 for i in range(2500)}
    pruned = prune_sparse(weights)
    assert SPARSE_HNSW_LIMIT == 1000
    assert len(pruned) == 1000
    threshold = sorted(weights.values(), reverse=True)[999]
    assert all(v >= threshold for v in pruned.values())
    assert all(weights[k] == v for k, v in pruned.items())
    assert list(pruned) == sorted(pruned)  # sorted by token id, as sparsevec stores them


def test_prune_sparse_drops_zeros_negatives_and_non_finite():
    assert prune_sparse({1: 0.0, 2: -0.5, 3: math.nan, 4: math.inf, 5: 0.1}) == {5: 0.1}


def test_prune_sparse_breaks_ties_by_lower_token_id():
    assert prune_sparse({9: 1.0, 4: 1.0, 7: 1.0, 1: 0.5}, limit=2) == {4: 1.0, 7: 1.0}


def test_prune_sparse_without_limit_keeps_everything_positive():
    weights = dict.fromkeys(range(1500), 1.0)
    assert len(prune_sparse(weights, None)) == 1500


def test_normalize_rows_gives_unit_rows_and_keeps_zero_rows():
    m = normalize_rows(np.array([[3.0, 4.0], [0.0, 0.0]], dtype=np.float16))
    assert m.dtype == np.float32
    assert np.allclose(m, [[0.6, 0.8], [0.0, 0.0]])


def test_length_order_is_longest_first_and_stable():
    assert length_order([3, 9, 3, 1, 9]) == [1, 4, 0, 2, 3]


def test_count_batches_splits_and_rejects_zero():
    assert count_batches([4, 2, 0, 1, 3], 2) == [[4, 2], [0, 1], [3]]
    with pytest.raises(ValueError, match="batch size"):
        count_batches([1], 0)


def test_token_budget_batches_bound_rows_times_longest_row():
    lengths = [100, 10, 50, 50, 400, 10, 10, 10]
    order = length_order(lengths)
    batches = token_budget_batches(order, lengths, max_tokens=200)
    assert [i for b in batches for i in b] == order  # every input once, in sorted order
    for b in batches:
        longest = max(lengths[i] for i in b)
        assert len(b) == 1 or longest * len(b) <= 200
    # 400 tokens alone (over budget, still embedded); 2 x 100; 4 x 50; the rest.
    assert batches == [[4], [0, 2], [3, 1, 5, 6], [7]]
    assert token_budget_batches(order, lengths, max_tokens=10_000, max_batch=3)[0] == order[:3]


def test_token_budget_batches_fill_up_to_the_budget():
    lengths = [10] * 25
    batches = token_budget_batches(list(range(25)), lengths, max_tokens=100)
    assert [len(b) for b in batches] == [10, 10, 5]


def test_restore_order_puts_results_back_and_detects_gaps():
    batches = [[2, 0], [1]]
    assert restore_order(batches, [["c", "a"], ["b"]], 3) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="cover"):
        restore_order([[0]], [["a"]], 2)
