"""Embedders behind the `Embedder` protocol, and `make_embedder()` that picks one from settings.

BGE-M3 (FlagEmbedding, torch) is imported lazily inside its adapter: nothing heavy at import.
"""

from __future__ import annotations
