"""The reference BGE-M3 backend: FlagEmbedding's `BGEM3FlagModel` (imports torch, FlagEmbedding).

Kept as the yardstick our fast path is tested against, and selectable with `backend="flag"`.
FlagEmbedding sorts by token length inside each call; we also hand it length-sorted groups of
texts so one call never pre-tokenizes a whole corpus, and always pass lists (a bare str would
return a single result instead of a list).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from app.core.errors import EmbedderUnavailableError
from ingest.embedders.m3_common import (
    M3Vectors,
    count_batches,
    length_order,
    lexical_weights_to_sparse,
    normalize_rows,
    restore_order,
)

# Texts per FlagEmbedding call, in batches: FlagEmbedding re-runs the first batch of each call
# to probe the batch size, so calls should hold many batches.
_BATCHES_PER_CALL = 16


class FlagM3Backend:
    """BGE-M3 through `FlagEmbedding.BGEM3FlagModel`, on one device."""

    name = "flagembedding"

    def __init__(
        self,
        directory: Path,
        *,
        device: torch.device,
        dtype: torch.dtype,
        batch_size: int,
        max_sparse_terms: int | None,
    ) -> None:
        try:
            from FlagEmbedding import BGEM3FlagModel
        except ImportError as exc:
            raise EmbedderUnavailableError(
                f"FlagEmbedding is not installed ({exc}); install the BGE-M3 extra with "
                "`pip install .[bge]`"
            ) from exc
        self.device = device
        self.dtype = dtype
        self.batch_size = batch_size
        self.max_sparse_terms = max_sparse_terms
        try:
            self.model = BGEM3FlagModel(
                str(directory),
                devices=[str(device)],
                use_fp16=dtype == torch.float16,
                use_bf16=dtype == torch.bfloat16,
                normalize_embeddings=True,
                batch_size=batch_size,
            )
        except (OSError, ValueError) as exc:
            raise EmbedderUnavailableError(
                f"cannot load BGE-M3 from {directory}: {str(exc).splitlines()[0]}"
            ) from exc
        check_heads_loaded(self.model.model, directory)
        self.tokenizer = self.model.tokenizer
        self.vocab_size = len(self.tokenizer)

    def encode(
        self, texts: Sequence[str], *, max_length: int, colbert: bool = False
    ) -> list[M3Vectors]:
        texts = list(texts)
        if not texts:
            return []
        order = length_order([len(t) for t in texts])
        groups = count_batches(order, self.batch_size * _BATCHES_PER_CALL)
        results = [self._encode_group([texts[i] for i in g], max_length, colbert) for g in groups]
        return restore_order(groups, results, len(texts))

    def _encode_group(self, texts: list[str], max_length: int, colbert: bool) -> list[M3Vectors]:
        out = self.model.encode(
            texts,  # a list, never a bare str
            batch_size=self.batch_size,
            max_length=max_length,
            return_dense=True,
            return_sparse=True,
            return_colbert_vecs=colbert,
        )
        dense = normalize_rows(out["dense_vecs"])
        lexical = out["lexical_weights"]
        multi = out["colbert_vecs"] if colbert else [None] * len(texts)
        return [
            M3Vectors(
                dense=dense[i],
                sparse=lexical_weights_to_sparse(lexical[i], self.max_sparse_terms),
                colbert=None if multi[i] is None else np.asarray(multi[i], dtype=np.float32),
            )
            for i in range(len(texts))
        ]

    def close(self) -> None:
        self.model.stop_self_pool()


def check_heads_loaded(m3_model: torch.nn.Module, directory: Path) -> None:
    """Raise unless the ColBERT and sparse heads in use are the ones stored in `directory`."""
    for attr, name in (
        ("colbert_linear", "colbert_linear.pt"),
        ("sparse_linear", "sparse_linear.pt"),
    ):
        stored = torch.load(directory / name, map_location="cpu", weights_only=True)
        live = getattr(m3_model, attr).state_dict()
        same = stored.keys() == live.keys() and all(
            torch.equal(stored[k].to(live[k].dtype), live[k].detach().cpu()) for k in stored
        )
        if not same:
            raise EmbedderUnavailableError(
                f"{directory / name} was not loaded by FlagEmbedding (its {attr} head is "
                "randomly initialised); check the FlagEmbedding version"
            )
