"""SentenceTransformerEmbedder: any sentence-transformers model from a local directory, for
owners without a spare GPU (all-MiniLM-L6-v2, multilingual-e5-small, bge-small ...).

Dense vectors come from the model (L2-normalised, so inner product = cosine). The model has no
sparse head, so the sparse vector is the lexical hashing of `LexicalHashEmbedder` (token ids in
2^18 buckets): hybrid search keeps three signals (dense, hashed-token sparse, PostgreSQL full
text) fused by RRF, as with BGE-M3, only the sparse one is lexical rather than learned.
`sparse="none"` gives empty sparse vectors instead: the sparse stage then finds nothing and
search is dense + full text.

Importing this module is cheap: sentence-transformers (and torch) load in the constructor, from
the local directory only (HF_HUB_OFFLINE is set for the process, as for a local BGE-M3).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from app.core.errors import EmbedderUnavailableError
from app.core.types import Embedding

__all__ = ["SentenceTransformerEmbedder", "model_fingerprint"]

SparseMode = Literal["lexical", "none"]
_WEIGHTS = ("model.safetensors", "pytorch_model.bin", "model.onnx")
# The E5 family was trained with these prefixes and most copies do not declare them.
_E5_PROMPTS = {"query": "query: ", "document": "passage: "}


def model_fingerprint(directory: Path) -> str:
    """8 hex digits over the model's config files and its weights' sizes (cheap, no hashing of
    the weights themselves): the space changes when the model does."""
    h = hashlib.sha256()
    for name in ("config.json", "modules.json", "sentence_bert_config.json",
                 "config_sentence_transformers.json", *_WEIGHTS):
        path = directory / name
        if path.is_file():
            h.update(name.encode())
            h.update(str(path.stat().st_size).encode() if name in _WEIGHTS else path.read_bytes())
    return h.hexdigest()[:8]


class SentenceTransformerEmbedder:
    """A sentence-transformers model on one device. Thread-safe: one forward pass at a time.

    Args:
        model: a local directory holding a sentence-transformers model (modules.json, or a plain
            transformers model that sentence-transformers mean-pools).
        device: "auto" (sentence-transformers picks: CUDA if present, else CPU), "cpu", "cuda:1" ...
        batch_size: texts per forward pass.
        max_length: passage truncation in tokens (capped at the model's own limit; all-MiniLM
            reads 256 word pieces, so the end of a 512-token chunk is not in its vector).
        sparse: "lexical" (hashed tokens, the default) or "none".

    Raises:
        EmbedderUnavailableError: no such directory, sentence-transformers not installed, or the
            model does not load.
    """

    name = "sentence-transformers"

    def __init__(self, model: str | Path, *, device: str = "auto", batch_size: int = 32,
                 max_length: int = 8192, sparse: SparseMode = "lexical") -> None:
        directory = Path(model).expanduser()
        if not directory.is_dir():
            raise EmbedderUnavailableError(
                f"HOMERAG_EMBED_MODEL: {model} is not a directory (the sentence-transformers "
                "embedder loads a model from a local path only)")
        if not any((directory / f).is_file() for f in ("modules.json", "config.json")):
            raise EmbedderUnavailableError(
                f"HOMERAG_EMBED_MODEL: {directory} holds no sentence-transformers model "
                "(no modules.json or config.json)")
        if sparse not in ("lexical", "none"):
            raise EmbedderUnavailableError(f"unknown sparse mode {sparse!r} (lexical or none)")
        self.directory = directory.resolve()
        self.sparse_mode = sparse
        self.batch_size = max(1, int(batch_size))
        self._lock = threading.Lock()
        os.environ["HF_HUB_OFFLINE"] = "1"  # a local model never looks for updates on the hub
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderUnavailableError(
                f"sentence-transformers is not installed ({exc}); install the extra with "
                "`pip install .[bge]`") from exc
        try:
            self._model: Any = SentenceTransformer(
                str(self.directory), device=None if device == "auto" else device,
                local_files_only=True)
        except Exception as exc:  # any loading failure is one line naming the model
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise EmbedderUnavailableError(
                f"sentence-transformers could not load {self.directory}: {first}") from exc
        self.device = str(self._model.device)
        dim = (self._model.get_embedding_dimension()
               if hasattr(self._model, "get_embedding_dimension")
               else self._model.get_sentence_embedding_dimension())
        if not dim:
            raise EmbedderUnavailableError(f"{self.directory}: the model does not say its dimension")
        self.dim = int(dim)
        model_max = int(self._model.max_seq_length or max_length)
        self.max_length = max(2, min(int(max_length), model_max))
        self._model.max_seq_length = self.max_length
        self._prompts = self._find_prompts()
        self._lexical: Any = None
        if sparse == "lexical":
            from ingest.embedders.lexical import LexicalHashEmbedder

            self._lexical = LexicalHashEmbedder()
            self.sparse_dim = self._lexical.sparse_dim
        else:
            self.sparse_dim = 2**18  # the column needs a size; every vector is empty
        self.model_id = (f"{self.directory}#{model_fingerprint(self.directory)}"
                         f"?sparse={'lexical-hash-v1' if sparse == 'lexical' else 'none'}")

    def _find_prompts(self) -> dict[str, str]:
        """Query/passage prefixes: the model's own (config_sentence_transformers.json), else the
        E5 convention for a directory named like an E5 model, else none."""
        declared = dict(getattr(self._model, "prompts", None) or {})
        query = declared.get("query")
        document = declared.get("document") or declared.get("passage")
        if query is None and "e5" in self.directory.name.lower():
            return dict(_E5_PROMPTS)
        return {k: v for k, v in (("query", query), ("document", document)) if v}

    def __repr__(self) -> str:
        return (f"SentenceTransformerEmbedder(model_id={self.model_id!r}, "
                f"device={self.device!r})")

    def _encode(self, texts: list[str], *, kind: str) -> np.ndarray:
        prefix = self._prompts.get(kind, "")
        with self._lock:
            try:
                vectors = self._model.encode(
                    [prefix + t for t in texts], batch_size=self.batch_size,
                    normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
            except RuntimeError as exc:  # device lost, out of memory: say where, once
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise EmbedderUnavailableError(
                    f"sentence-transformers failed on {self.device}: {first}") from exc
        return np.asarray(vectors, dtype=np.float32)

    def _sparse(self, texts: list[str]) -> list[dict[int, float]]:
        if self._lexical is None:
            return [{} for _ in texts]
        return [dict(e.sparse) for e in self._lexical.embed_documents(texts)]

    # -- Embedder protocol ---------------------------------------------------------------------
    def embed_documents(self, texts: Sequence[str]) -> list[Embedding]:
        if isinstance(texts, str):
            raise TypeError("embed_documents takes a sequence of texts, not a single str")
        texts = list(texts)
        if not texts:
            return []
        dense = self._encode(texts, kind="document")
        return [Embedding(dense=d, sparse=s)
                for d, s in zip(dense, self._sparse(texts), strict=True)]

    def embed_query(self, text: str) -> Embedding:
        dense = self._encode([text], kind="query")[0]
        return Embedding(dense=dense, sparse=self._sparse([text])[0])

    def info(self) -> dict[str, Any]:
        """What `status` and /api/health show about this embedder."""
        return {"name": self.name, "model_id": self.model_id, "dim": self.dim,
                "sparse_dim": self.sparse_dim, "sparse": self.sparse_mode,
                "device": self.device, "max_length": self.max_length,
                "prompts": self._prompts}
