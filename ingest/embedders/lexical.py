"""LexicalHashEmbedder: a deterministic, dependency-light stand-in for BGE-M3 (pure, numpy only).

It is *lexical*, not semantic: tokens (and their 5-letter prefixes, a cheap stemmer for German
compounds and English inflections) are hashed into a normalised dense vector, and tokens alone
into sparse weights. Rankings are stable across runs and machines, which is what the offline demo
and the tests need. Named for what it is everywhere the owner can see it.
"""

from __future__ import annotations

import math
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from app.core.text import STOPWORDS
from app.core.types import Embedding

_TOKEN = re.compile(r"\w+", re.UNICODE)

def tokenize(text: str) -> list[str]:
    """Lower-cased, accent-folded word tokens without stopwords."""
    text = text.lower()
    # Speed (the embedder's hot spot was a Python loop over every character): ASCII text is its
    # own NFKD form and has no combining marks; otherwise each distinct mark present (one or
    # two in German: the diaeresis) is removed with str.replace. Same tokens as before.
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        for mark in [ch for ch in set(text) if unicodedata.combining(ch)]:
            text = text.replace(mark, "")
    return [t for t in _TOKEN.findall(text) if t not in STOPWORDS and (len(t) > 1 or t.isdigit())]


@lru_cache(maxsize=500_000)
def _bucket(feature: str, buckets: int) -> tuple[int, float]:
    h = zlib.crc32(feature.encode("utf-8"))
    return h % buckets, (1.0 if (h >> 31) & 1 else -1.0)


@lru_cache(maxsize=500_000)
def _features(token: str, dim: int, sparse_dim: int, prefix_len: int) -> tuple[int, float, int,
                                                                               float, int]:
    """(dense index, sign, prefix index, prefix sign (0: no prefix), sparse index) of a token,
    computed once per distinct token (household text repeats its words a lot)."""
    idx, sign = _bucket(token, dim)
    pidx, psign = 0, 0.0
    if len(token) > prefix_len:
        pidx, psign = _bucket("p:" + token[:prefix_len], dim)
    sidx = zlib.crc32(("s:" + token).encode("utf-8")) % sparse_dim
    return idx, sign, pidx, psign, sidx


class LexicalHashEmbedder:
    """Hashed-token dense + sparse vectors. Deterministic; no model, no GPU."""

    name = "lexical-hash"

    def __init__(self, dim: int = 256, sparse_dim: int = 2**18, prefix_len: int = 5) -> None:
        self.dim = dim
        self.sparse_dim = sparse_dim
        self.prefix_len = prefix_len
        self.model_id = f"homerag/lexical-hash-v1?dim={dim}&sparse={sparse_dim}&prefix={prefix_len}"

    def _embed(self, text: str) -> Embedding:
        counts = Counter(tokenize(text))
        dense = np.zeros(self.dim, dtype=np.float32)
        sparse: dict[int, float] = {}
        dim, sdim, plen = self.dim, self.sparse_dim, self.prefix_len
        for token, tf in counts.items():
            weight = 1.0 + math.log(tf)
            idx, sign, pidx, psign, sidx = _features(token, dim, sdim, plen)
            dense[idx] += sign * weight
            if psign:
                dense[pidx] += psign * weight * 0.5
            sparse[sidx] = sparse.get(sidx, 0.0) + weight
        norm = float(np.linalg.norm(dense))
        if norm > 0:
            dense /= norm
        snorm = math.sqrt(sum(v * v for v in sparse.values()))
        if snorm > 0:
            sparse = {k: v / snorm for k, v in sparse.items()}
        return Embedding(dense=dense, sparse=sparse)

    def embed_documents(self, texts: Sequence[str]) -> list[Embedding]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> Embedding:
        return self._embed(text)
