"""Embedders behind the `Embedder` protocol, and `make_embedder()` that picks one from settings.

- "bge-m3": BAAI/bge-m3 through FlagEmbedding (dense + sparse), the product default where its
  weights are present or downloadable. torch/FlagEmbedding are imported inside its adapter only.
- "lexical-hash": a deterministic hashed-token embedder for offline demos and tests. Lexical,
  not semantic, and shown as such.
- "sentence-transformers": any sentence-transformers model from a local directory
  (HOMERAG_EMBED_MODEL=/path), dense from the model, sparse from the lexical hashing
  (ingest/embedders/st.py). For owners without a spare GPU.
- "auto": the embedder that built the active index if there is one; else BGE-M3 if usable;
  else lexical-hash (with a notice).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from app.core.errors import ConfigError

if TYPE_CHECKING:
    from app.core.config import Settings
    from app.core.protocols import Embedder

log = logging.getLogger(__name__)


def make_lexical() -> Embedder:
    from ingest.embedders.lexical import LexicalHashEmbedder

    return LexicalHashEmbedder()


def make_bge_m3(settings: Settings) -> Embedder:
    from ingest.embedders.bge_m3 import BgeM3Embedder

    return BgeM3Embedder(
        settings.embed_model,
        device=settings.embed_device,
        precision=settings.embed_precision,
        batch_size=settings.embed_batch_size,
        max_length=settings.embed_max_length,
        backend=settings.embed_backend,
    )


def make_sentence_transformer(settings: Settings, model: str | None = None) -> Embedder:
    from ingest.embedders.st import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(
        model or settings.embed_model,
        device=settings.embed_device,
        batch_size=settings.embed_batch_size,
        max_length=settings.embed_max_length,
    )


def bge_m3_usable(settings: Settings) -> bool:
    try:
        from ingest.embedders.bge_m3 import bge_m3_available
    except ImportError:
        return False
    try:
        return bool(bge_m3_available(settings.embed_model))
    except Exception:  # any probe failure means "not usable", never a crash at start-up
        return False


def make_embedder(settings: Settings, *, active_embedder: str | None = None) -> Embedder:
    """Build the configured embedder. `active_embedder` is the one that built the active index."""
    choice = settings.embedder
    if choice == "lexical-hash":
        return make_lexical()
    if choice == "bge-m3":
        return make_bge_m3(settings)
    if choice == "sentence-transformers":
        return make_sentence_transformer(settings)
    if choice != "auto":  # pragma: no cover - validated by Settings
        raise ConfigError(f"HOMERAG_EMBEDDER: unknown embedder {choice!r}")
    if active_embedder == "lexical-hash":
        return make_lexical()
    if active_embedder == "sentence-transformers":
        return make_sentence_transformer(settings)
    if bge_m3_usable(settings):
        return make_bge_m3(settings)
    if active_embedder == "bge-m3":
        # The index was built with BGE-M3 but it cannot be loaded now: say so, don't switch.
        return make_bge_m3(settings)
    log.info("BGE-M3 weights not found; using the lexical-hash embedder (not semantic)")
    return make_lexical()
