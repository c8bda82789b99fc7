"""BgeM3Embedder: BGE-M3 dense + sparse (+ ColBERT) behind the `Embedder` protocol.

Importing this module is cheap: torch, transformers and FlagEmbedding are imported inside the
constructor. The weights are resolved to a local directory first (see `m3_files`), so loading
never reaches the network. Sparse vectors are pruned to the HNSW limit (see `m3_common`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from app.core.errors import EmbedderUnavailableError
from app.core.types import Embedding
from ingest.embedders.m3_common import SPARSE_HNSW_LIMIT, M3Vectors
from ingest.embedders.m3_files import (
    bge_m3_available,
    looks_like_path,
    model_id_for,
    read_config,
    resolve_model_dir,
)

if TYPE_CHECKING:
    from ingest.embedders.m3_fast import FastM3Backend
    from ingest.embedders.m3_flag import FlagM3Backend

__all__ = ["BgeM3Embedder", "bge_m3_available"]

Backend = Literal["fast", "flag"]
# BGE-M3 was trained with queries up to 512 tokens; FlagEmbedding uses the same default.
QUERY_MAX_LENGTH = 512


class BgeM3Embedder:
    """BGE-M3 on one device. Thread-safe: one forward pass at a time.

    Args:
        model: hub id ("BAAI/bge-m3", looked up in the HF cache) or a local directory.
        device: "auto" (cuda:0 if present, else cpu), "cpu", "cuda", "cuda:1" ...
        precision: "fp16" | "bf16" | "fp32" on CUDA; the CPU always computes in fp32.
        batch_size: texts per forward pass.
        max_length: passage truncation in tokens (queries: at most 512).
        backend: "fast" = our high-throughput path (`m3_fast`), the default; "flag" =
            FlagEmbedding's BGEM3FlagModel, the reference implementation it is tested against.
        max_batch_tokens: token budget per forward pass for the fast path (rows x longest
            row); default batch_size x 512. Halved automatically on CUDA out-of-memory.
        compile_queries: CUDA only, fast path: torch.compile the query path (CUDA graphs per
            query length bucket). Experimental; off by default.
        max_sparse_terms: keep the largest N lexical weights (pgvector HNSW allows 1,000).
        cache_dir: Hugging Face hub cache (default: HF_HUB_CACHE).
        allow_download: fetch missing hub weights (default: unless HF_HUB_OFFLINE is set).

    Raises:
        EmbedderUnavailableError: weights missing, runtime not installed, device missing or busy.
    """

    name = "bge-m3"

    def __init__(
        self,
        model: str = "BAAI/bge-m3",
        *,
        device: str = "auto",
        precision: str = "fp16",
        batch_size: int = 32,
        max_length: int = 8192,
        backend: Backend = "fast",
        max_batch_tokens: int | None = None,
        compile_queries: bool = False,
        max_sparse_terms: int | None = SPARSE_HNSW_LIMIT,
        cache_dir: Path | str | None = None,
        allow_download: bool | None = None,
    ) -> None:
        if batch_size < 1 or max_length < 2:
            raise EmbedderUnavailableError(
                f"BGE-M3 needs batch_size >= 1 and max_length >= 2, got {batch_size} and {max_length}"
            )
        if backend not in ("fast", "flag"):
            raise EmbedderUnavailableError(
                f"unknown BGE-M3 backend {backend!r} (use 'fast' or 'flag')"
            )
        self.directory = resolve_model_dir(
            model, cache_dir=cache_dir, allow_download=allow_download
        )
        if looks_like_path(model):
            # A local model must never make transformers look for updates on the hub.
            os.environ["HF_HUB_OFFLINE"] = "1"
        config = read_config(self.directory)
        self.dim = int(config["hidden_size"])  # type: ignore[call-overload]
        self.model_id = model_id_for(model, self.directory)
        positions = int(config.get("max_position_embeddings", 514)) - 2  # type: ignore[call-overload]
        self.max_length = min(max_length, positions)
        self.query_max_length = min(QUERY_MAX_LENGTH, self.max_length)
        self.batch_size = batch_size
        self.backend_name = backend
        self._lock = threading.Lock()

        try:
            from ingest.embedders.m3_torch import prepare_device
        except ImportError as exc:
            raise EmbedderUnavailableError(
                f"torch is not installed ({exc}); install the BGE-M3 extra with `pip install .[bge]`"
            ) from exc
        device_obj, dtype = prepare_device(device, precision, config)
        self.device = str(device_obj)
        self.dtype = str(dtype).removeprefix("torch.")
        self._backend: FastM3Backend | FlagM3Backend
        if backend == "fast":
            from ingest.embedders.m3_fast import FastM3Backend

            self._backend = FastM3Backend(
                self.directory,
                device=device_obj,
                dtype=dtype,
                max_batch_tokens=max_batch_tokens or batch_size * 512,
                max_sparse_terms=max_sparse_terms,
                compile_queries=compile_queries,
            )
        else:
            from ingest.embedders.m3_flag import FlagM3Backend

            self._backend = FlagM3Backend(
                self.directory,
                device=device_obj,
                dtype=dtype,
                batch_size=batch_size,
                max_sparse_terms=max_sparse_terms,
            )
        self.sparse_dim = self._backend.vocab_size

    def __repr__(self) -> str:
        return (
            f"BgeM3Embedder(model_id={self.model_id!r}, device={self.device!r}, "
            f"dtype={self.dtype!r}, backend={self.backend_name!r})"
        )

    # -- Embedder protocol ---------------------------------------------------------------------
    def embed_documents(self, texts: Sequence[str]) -> list[Embedding]:
        return [Embedding(dense=v.dense, sparse=v.sparse) for v in self.encode(texts)]

    def embed_query(self, text: str) -> Embedding:
        _check_text(text)
        v = self.encode([text], query=True)[0]
        return Embedding(dense=v.dense, sparse=v.sparse)

    # -- beyond the protocol -------------------------------------------------------------------
    def embed_multivector(self, texts: Sequence[str], *, query: bool = False) -> list[np.ndarray]:
        """ColBERT vectors per text: (tokens - 1, dim) float32, rows L2-normalised."""
        return [v.colbert for v in self.encode(texts, query=query, colbert=True)]  # type: ignore[misc]

    def encode(
        self, texts: Sequence[str], *, query: bool = False, colbert: bool = False
    ) -> list[M3Vectors]:
        """Dense, sparse and optionally ColBERT vectors in one forward pass, in input order."""
        if isinstance(texts, str):
            raise TypeError("BgeM3Embedder takes a sequence of texts, not a single str")
        texts = list(texts)
        for t in texts:
            _check_text(t)
        if not texts:
            return []
        max_length = self.query_max_length if query else self.max_length
        with self._lock:
            try:
                return self._backend.encode(texts, max_length=max_length, colbert=colbert)
            except RuntimeError as exc:  # device lost, CUDA errors: say where, once
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise EmbedderUnavailableError(f"BGE-M3 failed on {self.device}: {first}") from exc

    def info(self) -> dict[str, Any]:
        """What `status` and /api/health show about this embedder."""
        return {
            "name": self.name,
            "model_id": self.model_id,
            "dim": self.dim,
            "sparse_dim": self.sparse_dim,
            "device": self.device,
            "dtype": self.dtype,
            "backend": self.backend_name,
            "max_length": self.max_length,
        }

    def close(self) -> None:
        """Release the model (and its GPU memory)."""
        with self._lock:
            self._backend.close()


def _check_text(text: object) -> None:
    if not isinstance(text, str):
        raise TypeError(f"BgeM3Embedder embeds str, got {type(text).__name__}")
