"""Reciprocal rank fusion (pure): the Python twin of the SQL fusion in `queries.py`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

DEFAULT_RRF_K = 60


def rrf(ranked: Mapping[str, Sequence[int]], k: int = DEFAULT_RRF_K,
        weights: Mapping[str, float] | None = None) -> list[tuple[int, float, dict[str, int]]]:
    """Fuse ranked lists: score(x) = sum over lists of weight / (k + rank), ranks from 1.

    Items are chunk ids. Returns (id, score, {list name: rank}) sorted by score, ties broken by
    the best single rank and then by id, exactly like the SQL version.
    """
    scores: dict[int, float] = {}
    ranks: dict[int, dict[str, int]] = {}
    for name, items in ranked.items():
        w = 1.0 if weights is None else weights.get(name, 1.0)
        for rank, item in enumerate(items, start=1):
            if name in ranks.get(item, {}):
                continue  # a list repeating an item counts once, at its best rank
            scores[item] = scores.get(item, 0.0) + w / (k + rank)
            ranks.setdefault(item, {})[name] = rank
    return sorted(
        ((item, scores[item], ranks[item]) for item in scores),
        key=lambda t: (-t[1], min(t[2].values()), t[0]),
    )
