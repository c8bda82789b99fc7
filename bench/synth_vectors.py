"""Synthetic chunks with BGE-M3's shapes for the search-at-scale bench (pure numpy; no I/O but
the dense matrix written to a memmap the caller names).

What a chunk gets, and why it is shaped so:
- **dense**: 1024-d, L2-normalised, stored as float16 (homerag stores `halfvec`). Not uniform
  random (HNSW finds neighbours in uniform 1024-d noise far harder than in text embeddings):
  a few thousand topic centroids (Zipf-sized topics) in a low-dimensional latent space
  (LATENT dims, decaying spectrum) mapped into 1024-d, per-chunk spread around the centroid,
  a small isotropic residual, and a direction common to all (text embeddings are anisotropic:
  two unrelated BGE-M3 passages have cosine ~0.3-0.45, a near duplicate ~0.9).
  `dense_stats` reports what the mixture gives (random-pair, nearest-neighbour and
  query-target cosines) so the figures can be judged.
- **text**: words from a Zipf law (s ~ 1) over a vocabulary whose head is real English/German
  stopwords and household words ("eur", "vertrag") and whose tail is generated pseudo-words;
  each topic adds its own 40 characteristic words, so full-text matches cluster by topic as on
  real text. Lengths lognormal (median ~160 words, a 512-token chunk is ~350).
- **sparse**: over the 250,002-token XLM-R vocabulary: each word maps to 1-3 token ids; a
  chunk's non-zeros are its distinct tokens (50-300), weights 0.01-0.35 growing with rarity
  like BGE-M3's lexical weights.
- **queries**: near a target chunk (as a real question is near the passage answering it):
  dense = the target moved towards its topic plus noise (cosine ~0.75 to the target), text =
  4-9 of the target's words (rarer ones likelier) plus a question word and a function word,
  sparse = those words' tokens (function words included, with their small weights).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

RUN_ALL = False  # helper module, not a bench

DIM = 1024
VOCAB_TOKENS = 250_002  # XLM-R / BGE-M3 sparse dimension
LATENT = 96
WORDS = 60_000
TOPIC_WORDS = 40
TOPIC_SHARE = 0.15  # share of a chunk's words drawn from its topic's own words
MIN_WEIGHT = 0.02   # lexical weights below this are dropped (BGE-M3's ReLU zeros)
# Dense mixture (unit vectors added, then normalised; see the module docstring).
COMMON = 0.7       # the direction shared by every text
SPREAD = 0.75      # a chunk's latent spread around its topic centroid (centroids: unit normal)
RESIDUAL = 0.25    # isotropic residual
QUERY_TARGET = 0.4  # a query: this much of its target chunk, the rest its topic
QUERY_NOISE = 0.45

_HEAD = ("the of and to in a is that for it on with as be by this are or at from der die und "
         "in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden "
         "aus er hat dass sie nach wird bei einer um am sind noch wie einem über einen so zum "
         "we you your our will have has been not which their may any all can date page eur "
         "euro amount account payment invoice contract vertrag rechnung konto betrag datum "
         "zahlung kunde customer number nummer total summe period monat month year jahr "
         "insurance versicherung tax steuer address adresse bank iban service").split()
_SYLL = ("ka lo mi ne ru ta be so fi da ge ho li ma no pe ra se ti vo wa ze bu ke sch ber "
         "ung en er lich keit hof burg stein wald feld bach mann ver ge be").split()
QUESTION_WORDS = ("what when how much where which who welche wann wie viel wo was").split()
_HEAD += QUESTION_WORDS


def vocabulary(seed: int = 7) -> np.ndarray:
    """WORDS words, most frequent first: real head words, then unique pseudo-words."""
    rng = np.random.default_rng(seed)
    words: list[str] = list(dict.fromkeys(_HEAD))
    seen = set(words)
    while len(words) < WORDS:
        n = int(rng.integers(2, 6))
        w = "".join(_SYLL[i] for i in rng.integers(0, len(_SYLL), n))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return np.array(words, dtype=object)


@dataclass
class Model:
    """Everything shared by chunks and queries (deterministic from the seed)."""

    n: int
    seed: int
    topics: int
    basis: np.ndarray          # (LATENT, DIM): latent -> dense
    common: np.ndarray         # (DIM,): direction shared by every text
    centroids: np.ndarray      # (topics, LATENT)
    topic_p: np.ndarray        # (topics,): topic sizes (Zipf)
    topic_words: np.ndarray    # (topics, TOPIC_WORDS) word ids
    word_cdf: np.ndarray       # (WORDS,) Zipf background
    words: np.ndarray          # (WORDS,) strings
    word_tokens: np.ndarray    # (WORDS, 2) token ids of each word, -1: none
    word_weight: np.ndarray    # (WORDS,) base lexical weight (rarer: higher)
    question_ids: np.ndarray   # word ids of QUESTION_WORDS

    @classmethod
    def build(cls, n: int, *, seed: int = 1) -> Model:
        rng = np.random.default_rng(seed)
        topics = int(min(4000, max(100, n // 250)))
        q, _ = np.linalg.qr(rng.standard_normal((DIM, LATENT)))
        spectrum = (1.0 + np.arange(LATENT)) ** -0.35
        basis = (q * spectrum).T.astype(np.float32)
        common = rng.standard_normal(DIM).astype(np.float32)
        common /= np.linalg.norm(common)
        centroids = rng.standard_normal((topics, LATENT)).astype(np.float32)
        topic_p = 1.0 / (1.0 + np.arange(topics)) ** 0.8
        topic_p = rng.permutation(topic_p / topic_p.sum())
        ranks = np.arange(WORDS, dtype=np.float64)
        zipf = 1.0 / (ranks + 2.7)
        word_cdf = np.cumsum(zipf / zipf.sum())
        topic_words = rng.integers(300, WORDS, size=(topics, TOPIC_WORDS))
        words = vocabulary(seed + 6)
        word_tokens = np.array([_tokens(str(w)) for w in words], dtype=np.int32)
        idf = np.log(ranks + 2.0) / np.log(WORDS + 2.0)
        # BGE-M3 gives function words small non-zero weights ("What" 0.084, "is" 0.081, "of"
        # 0.063 in FlagEmbedding's README example) and rare content tokens 0.25-0.35.
        word_weight = (0.045 + 0.26 * idf ** 2).astype(np.float32)
        return cls(n=n, seed=seed, topics=topics, basis=basis, common=common,
                   centroids=centroids, topic_p=topic_p, topic_words=topic_words,
                   word_cdf=word_cdf, words=words, word_tokens=word_tokens,
                   word_weight=word_weight,
                   question_ids=np.array([i for i, w in enumerate(words[:len(_HEAD)])
                                          if w in QUESTION_WORDS]))

    # -- dense ------------------------------------------------------------------------------
    def dense(self, rng: np.random.Generator, topic: np.ndarray) -> np.ndarray:
        """(len(topic), DIM) float32, unit rows."""
        latent = self.centroids[topic] + SPREAD * rng.standard_normal(
            (len(topic), LATENT), dtype=np.float32)
        return self.mix(_unit(latent @ self.basis),
                        _unit(rng.standard_normal((len(topic), DIM), dtype=np.float32)))

    def mix(self, signal: np.ndarray, noise: np.ndarray, *,
            residual: float | None = None) -> np.ndarray:
        """unit(COMMON x common + signal + residual x noise), all three unit vectors."""
        r = RESIDUAL if residual is None else residual
        return _unit(COMMON * self.common + signal + r * noise)

    # -- words ------------------------------------------------------------------------------
    def chunk_words(self, rng: np.random.Generator, topic: int, length: int) -> np.ndarray:
        ids = np.searchsorted(self.word_cdf, rng.random(length))
        ids = np.minimum(ids, WORDS - 1)
        own = rng.random(length) < TOPIC_SHARE
        if own.any():
            # Zipf inside the topic's own words too: a few of them dominate.
            pick = np.minimum((rng.pareto(1.2, own.sum()) * 3).astype(int), TOPIC_WORDS - 1)
            ids[own] = self.topic_words[topic][pick]
        return ids

    def sparse(self, word_ids: np.ndarray, rng: np.random.Generator, *,
               boost: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """(sorted token ids int32, weights float32) of these words: the max over words."""
        uniq = np.unique(word_ids)
        toks = self.word_tokens[uniq].ravel()
        weights = np.repeat(self.word_weight[uniq], 2)
        weights = weights * rng.uniform(0.6, 1.25, len(weights)).astype(np.float32) * boost
        # BGE-M3's ReLU leaves a few tokens at 0: the weakest go.
        keep = (toks >= 0) & (weights >= MIN_WEIGHT)
        toks, weights = toks[keep], weights[keep]
        order = np.lexsort((-weights, toks))
        toks, weights = toks[order], weights[order]
        first = np.ones(len(toks), dtype=bool)
        first[1:] = toks[1:] != toks[:-1]
        return toks[first].astype(np.int32), np.minimum(weights[first], 0.6).astype(np.float32)

    def text(self, word_ids: np.ndarray) -> str:
        return " ".join(self.words[word_ids].tolist())


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _tokens(word: str) -> list[int]:
    """Two slots of token ids for a word (short words one piece, the second slot -1)."""
    h = zlib.crc32(word.encode())
    first = 5 + (h * 2654435761) % (VOCAB_TOKENS - 5)
    second = 5 + (h * 40503 + 12345) % (VOCAB_TOKENS - 5) if len(word) > 8 else -1
    return [first, second]


@dataclass
class Block:
    """A slice of chunks [start, start + len) with everything the loader writes."""

    start: int
    topic: np.ndarray
    dense: np.ndarray            # float32 (rows, DIM)
    texts: list[str]
    sparse: list[tuple[np.ndarray, np.ndarray]]
    word_ids: list[np.ndarray]


def block(model: Model, topics: np.ndarray, *, start: int, stop: int) -> Block:
    """Chunks [start, stop) of topics `topics[start:stop]` (deterministic per start)."""
    rng = np.random.default_rng([model.seed, 2, start])
    topic = topics[start:stop]
    dense = model.dense(rng, topic)
    lengths = np.clip(rng.lognormal(np.log(160), 0.35, len(topic)), 40, 400).astype(int)
    word_ids = [model.chunk_words(rng, int(t), int(n)) for t, n in zip(topic, lengths,
                                                                        strict=True)]
    return Block(start=start, topic=topic, dense=dense, texts=[model.text(w) for w in word_ids],
                 sparse=[model.sparse(w, rng) for w in word_ids], word_ids=word_ids)


@dataclass
class Query:
    target: int               # chunk index the query was made from
    text: str
    dense: np.ndarray         # float32 (DIM,)
    sparse: dict[int, float]


def make_query(model: Model, rng: np.random.Generator, *, target: int, topic: int,
               target_dense: np.ndarray, target_words: np.ndarray) -> Query:
    """A question near `target`: its topic's direction, the target's rarer words."""
    lat = model.centroids[topic] + SPREAD * rng.standard_normal(LATENT).astype(np.float32)
    around = _unit(lat @ model.basis)
    q = _unit(QUERY_TARGET * target_dense + (1 - QUERY_TARGET) * around
              + QUERY_NOISE * _unit(rng.standard_normal(DIM).astype(np.float32)))
    uniq = np.unique(target_words)
    p = model.word_weight[uniq] ** 1.5
    take = min(len(uniq), int(rng.integers(4, 10)))
    chosen = rng.choice(uniq, size=take, replace=False, p=p / p.sum())
    # A question word and a function word (one of the 8 most frequent: "the", "of", ...).
    glue = np.array([rng.choice(model.question_ids), rng.integers(0, 8)])
    chosen = np.concatenate([glue, chosen])
    text = model.text(chosen)
    toks, weights = model.sparse(chosen, rng, boost=1.3)
    return Query(target=target, text=text, dense=q.astype(np.float32),
                 sparse=dict(zip(toks.tolist(), weights.tolist(), strict=True)))


def dense_stats(dense: np.ndarray, queries: list[Query], *, seed: int = 3,
                sample: int = 2000) -> dict[str, Any]:
    """Cosine figures of the mixture, to compare with real BGE-M3 passages."""
    rng = np.random.default_rng(seed)
    n = len(dense)
    idx = rng.choice(n, size=min(sample, n), replace=False)
    x = np.asarray(dense[np.sort(idx)], dtype=np.float32)
    other = np.asarray(dense[np.sort(rng.choice(n, size=len(idx), replace=False))],
                       dtype=np.float32)
    random_pair = float(np.mean(np.sum(x * other, axis=1)))
    sample = np.sort(idx)[:200]
    nn = _nearest_other(dense, np.asarray(dense[sample], dtype=np.float32), sample)
    qt = [float(np.dot(q.dense, np.asarray(dense[q.target], dtype=np.float32)))
          for q in queries]
    return {"random_pair_cos": round(random_pair, 3),
            "nearest_neighbour_cos": round(float(np.mean(nn)), 3),
            "query_target_cos": round(float(np.mean(qt)), 3) if qt else None}


def _nearest_other(dense: np.ndarray, x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Cosine of each row of `x` (rows `rows` of `dense`) to its nearest other row."""
    best = np.full(len(x), -1.0, dtype=np.float32)
    for s in range(0, len(dense), 100_000):
        sims = np.asarray(dense[s:s + 100_000], dtype=np.float32) @ x.T  # (block, sample)
        inside = (rows >= s) & (rows < s + len(sims))
        sims[rows[inside] - s, np.flatnonzero(inside)] = -1.0
        best = np.maximum(best, sims.max(axis=0))
    return best
