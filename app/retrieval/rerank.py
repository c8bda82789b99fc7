"""Shortlist re-scoring after fusion: BGE-M3 dense + sparse + ColBERT, then an optional cross-encoder.

Pure core (score functions, weighted combination, re-ordering) plus thin adapters that call the
models. ColBERT multi-vectors are computed on the fly for the shortlist (a 512-token chunk has
~1 MB of them; storing them per chunk is not worth it). Combined score, as in BGE-M3's
`compute_score`: (w_d * dense + w_s * sparse + w_c * colbert) / (w_d + w_s + w_c), with the
authors' suggested weights dense 0.4, sparse 0.2, colbert 0.4 as the default (settings
HOMERAG_RESCORE_WEIGHT_*). The cross-encoder (`BAAI/bge-reranker-v2-m3` through FlagEmbedding)
only runs when its weights are present locally; it is never downloaded.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from app.retrieval.types import Hit

if TYPE_CHECKING:
    from app.core.config import Settings
    from ingest.embedders.m3_common import M3Vectors


# -- pure core ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class M3Weights:
    """Weights of BGE-M3's three scores (the authors' suggestion by default)."""

    dense: float = 0.4
    sparse: float = 0.2
    colbert: float = 0.4

    def __post_init__(self) -> None:
        values = (self.dense, self.sparse, self.colbert)
        if min(values) < 0 or sum(values) <= 0:
            raise ValueError(f"rescore weights must be >= 0 and not all 0, got {values}")


def dense_score(q: np.ndarray, p: np.ndarray) -> float:
    """Inner product of normalised dense vectors (cosine)."""
    return float(np.dot(np.asarray(q, dtype=np.float32), np.asarray(p, dtype=np.float32)))


def sparse_score(q: Mapping[int, float], p: Mapping[int, float]) -> float:
    """Lexical matching score: sum of weight products over shared tokens."""
    if len(p) < len(q):
        q, p = p, q
    return float(sum(w * p[t] for t, w in q.items() if t in p))


def colbert_score(q: np.ndarray, p: np.ndarray) -> float:
    """Late interaction: mean over query vectors of the best inner product with a passage vector."""
    if len(q) == 0 or len(p) == 0:
        return 0.0
    sims = np.asarray(q, dtype=np.float32) @ np.asarray(p, dtype=np.float32).T
    return float(sims.max(axis=1).mean())


def m3_scores(q: M3Vectors, p: M3Vectors) -> dict[str, float]:
    """The three BGE-M3 scores of one passage for one query."""
    scores = {"dense": dense_score(q.dense, p.dense), "sparse": sparse_score(q.sparse, p.sparse)}
    if q.colbert is not None and p.colbert is not None:
        scores["colbert"] = colbert_score(q.colbert, p.colbert)
    return scores


def combine(scores: Mapping[str, float], weights: M3Weights) -> float:
    """Weighted mean over the scores present (a missing mode drops out of the denominator)."""
    w = {"dense": weights.dense, "sparse": weights.sparse, "colbert": weights.colbert}
    used = [k for k in scores if w.get(k, 0.0) > 0]
    total = sum(w[k] for k in used)
    return sum(w[k] * scores[k] for k in used) / total if total else 0.0


def reorder(hits: Sequence[Hit], scores: Sequence[float], *, stage: str) -> list[Hit]:
    """Hits sorted by new score (ties keep fused order); score replaced, rank under `stage` added."""
    if len(hits) != len(scores):
        raise ValueError(f"{len(scores)} scores for {len(hits)} hits")
    order = sorted(range(len(hits)), key=lambda i: (-scores[i], i))
    return [
        dataclasses.replace(hits[i], score=float(scores[i]), ranks={**hits[i].ranks, stage: rank})
        for rank, i in enumerate(order, start=1)
    ]


def passage_text(hit: Hit) -> str:
    """The text a chunk was embedded as (heading line + text), so scores compare like with like."""
    return f"{hit.heading}\n{hit.text}" if hit.heading else hit.text


# -- seams ----------------------------------------------------------------------------------------
@runtime_checkable
class M3Encoder(Protocol):
    """What the ColBERT rescorer needs from BGE-M3 (BgeM3Embedder has it)."""

    def encode(
        self, texts: Sequence[str], *, query: bool = False, colbert: bool = False
    ) -> list[M3Vectors]: ...


class CrossEncoder(Protocol):
    """Scores (query, passage) pairs; higher is more relevant."""

    def score(self, query: str, passages: Sequence[str]) -> list[float]: ...


# -- rescorers (the `Rescorer` protocol of app.retrieval: rescore(query, hits) -> hits) ----------
class M3Rescorer:
    """Re-scores a shortlist with BGE-M3's dense + sparse + ColBERT scores, in one forward pass."""

    stage = "m3"

    def __init__(self, encoder: M3Encoder, weights: M3Weights | None = None) -> None:
        self.encoder = encoder
        self.weights = weights or M3Weights()

    def rescore(self, query: str, hits: Sequence[Hit]) -> list[Hit]:
        if not hits:
            return []
        q = self.encoder.encode([query], query=True, colbert=True)[0]
        passages = self.encoder.encode([passage_text(h) for h in hits], colbert=True)
        scores = [combine(m3_scores(q, p), self.weights) for p in passages]
        return reorder(hits, scores, stage=self.stage)


class CrossEncoderRescorer:
    """Re-orders a shortlist by a cross-encoder's relevance scores."""

    stage = "rerank"

    def __init__(self, scorer: CrossEncoder) -> None:
        self.scorer = scorer

    def rescore(self, query: str, hits: Sequence[Hit]) -> list[Hit]:
        if not hits:
            return []
        scores = self.scorer.score(query, [passage_text(h) for h in hits])
        return reorder(hits, scores, stage=self.stage)


class RescoreChain:
    """Several rescorers in turn (ColBERT first, then the cross-encoder)."""

    def __init__(self, steps: Sequence[Any]) -> None:
        self.steps = list(steps)

    def rescore(self, query: str, hits: Sequence[Hit]) -> list[Hit]:
        out = list(hits)
        for step in self.steps:
            out = step.rescore(query, out)
        return out


# -- cross-encoder adapter ------------------------------------------------------------------------
class FlagCrossEncoder:
    """`BAAI/bge-reranker-v2-m3` (or a compatible model) through FlagEmbedding's FlagReranker.

    Scores are sigmoid-normalised to 0..1. Loads from a local directory only.
    """

    def __init__(
        self,
        model: str,
        *,
        device: str = "auto",
        precision: str = "fp16",
        max_length: int = 1024,
        cache_dir: str | None = None,
    ) -> None:
        from app.core.errors import EmbedderUnavailableError
        from ingest.embedders.m3_files import BGE_EXTRA_HINT, resolve_model_dir, runtime_installed

        if not runtime_installed():
            raise EmbedderUnavailableError(
                f"the cross-encoder needs torch and FlagEmbedding ({BGE_EXTRA_HINT})")
        self.directory = resolve_model_dir(
            model,
            cache_dir=cache_dir,
            allow_download=False,
            heads=(),
            what="cross-encoder",
            setting="HOMERAG_RERANK_MODEL",
        )
        try:
            from FlagEmbedding import FlagReranker

            from ingest.embedders.m3_torch import resolve_device, resolve_dtype
        except ImportError as exc:
            raise EmbedderUnavailableError(
                f"FlagEmbedding is not installed ({exc}); install it with `pip install .[bge]`"
            ) from exc
        dev = resolve_device(device)
        dtype = resolve_dtype(precision, dev)
        self.model_id = str(self.directory)
        self.max_length = max_length
        self._lock = threading.Lock()
        self._model = FlagReranker(
            str(self.directory),
            use_fp16=str(dtype) == "torch.float16",
            devices=[str(dev)],
            max_length=max_length,
            normalize=True,
        )

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        if not passages:
            return []
        pairs = [(query, p) for p in passages]  # always a list of pairs
        with self._lock:
            scores = self._model.compute_score(pairs, max_length=self.max_length, normalize=True)
        return [float(s) for s in scores]


def reranker_available(model: str, *, cache_dir: str | None = None) -> bool:
    """Cross-encoder weights present locally (directory or HF cache); never downloads."""
    from app.core.errors import EmbedderUnavailableError
    from ingest.embedders.m3_files import resolve_model_dir, runtime_installed

    if not runtime_installed():
        return False
    try:
        resolve_model_dir(model, cache_dir=cache_dir, allow_download=False, heads=())
    except EmbedderUnavailableError:
        return False
    return True


def weights_from_settings(settings: Settings) -> M3Weights:
    return M3Weights(
        dense=settings.rescore_weight_dense,
        sparse=settings.rescore_weight_sparse,
        colbert=settings.rescore_weight_colbert,
    )


def make_rescorer(
    settings: Settings,
    embedder: object,
    *,
    m3: bool | None = None,
    rerank: bool | None = None,
    cross_encoder: CrossEncoder | None = None,
) -> M3Rescorer | CrossEncoderRescorer | RescoreChain | None:
    """The rescorer for these settings, or None when no stage is on.

    Args:
        m3: BGE-M3 re-scoring (default: settings.colbert_rescore); needs an embedder with
            `encode(..., colbert=True)`, i.e. BGE-M3; ignored for other embedders.
        rerank: cross-encoder (default: settings.rerank; "auto" = on when its weights exist).
        cross_encoder: an already built cross-encoder (kept warm by the caller).

    Raises:
        EmbedderUnavailableError: rerank forced on ("on" or True) but its weights are missing.
    """
    steps: list[Any] = []
    use_m3 = settings.colbert_rescore if m3 is None else m3
    if use_m3 and isinstance(embedder, M3Encoder):
        steps.append(M3Rescorer(embedder, weights_from_settings(settings)))
    if rerank is None:
        mode = settings.rerank
        rerank = mode == "on" or (
            mode == "auto"
            and (cross_encoder is not None or reranker_available(settings.rerank_model))
        )
    if rerank:
        scorer = cross_encoder or FlagCrossEncoder(
            settings.rerank_model,
            device=settings.embed_device,
            precision=settings.embed_precision,
        )
        steps.append(CrossEncoderRescorer(scorer))
    if not steps:
        return None
    return steps[0] if len(steps) == 1 else RescoreChain(steps)
