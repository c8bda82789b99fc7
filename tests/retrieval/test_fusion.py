"""Reciprocal rank fusion, the pure twin of the SQL fusion."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.retrieval.fusion import rrf


def test_rrf_ranks_item_found_by_both_lists_first() -> None:
    fused = rrf({"dense": [1, 2, 3], "fts": [4, 1, 5]}, k=60)
    assert next(item for item, _, _ in fused) == 1
    top = fused[0]
    assert top[2] == {"dense": 1, "fts": 2}
    assert abs(top[1] - (1 / 61 + 1 / 62)) < 1e-12


def test_rrf_ties_broken_by_best_rank_then_id() -> None:
    # 2 and 3 each appear once at rank 1 of a list: same score, same best rank -> by id.
    fused = rrf({"a": [3], "b": [2]}, k=60)
    assert [i for i, _, _ in fused] == [2, 3]
    # 7 (rank 1 in a) beats 8 (rank 2 in a) even though both appear once.
    fused = rrf({"a": [7, 8]}, k=60)
    assert [i for i, _, _ in fused] == [7, 8]


def test_rrf_weights_change_the_order() -> None:
    lists = {"dense": [1, 2], "fts": [2, 1]}
    assert next(i for i, _, _ in rrf(lists, weights={"dense": 2.0, "fts": 1.0})) == 1
    assert next(i for i, _, _ in rrf(lists, weights={"dense": 1.0, "fts": 2.0})) == 2


def test_rrf_counts_a_repeated_item_once_per_list() -> None:
    fused = {i: s for i, s, _ in rrf({"a": [5, 5, 6]}, k=10)}
    assert fused[5] == 1 / 11
    assert fused[6] == 1 / 13


@given(st.dictionaries(st.sampled_from(["dense", "sparse", "fts"]),
                       st.lists(st.integers(1, 50), unique=True, max_size=20), max_size=3))
def test_rrf_scores_are_sorted_and_complete(lists: dict[str, list[int]]) -> None:
    fused = rrf(lists, k=60)
    scores = [s for _, s, _ in fused]
    assert scores == sorted(scores, reverse=True)
    assert {i for i, _, _ in fused} == {i for items in lists.values() for i in items}
    for _item, score, ranks in fused:
        assert abs(score - sum(1 / (60 + r) for r in ranks.values())) < 1e-12
