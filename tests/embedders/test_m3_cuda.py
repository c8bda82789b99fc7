"""The `gpu` tier: the fast BGE-M3 path on a CUDA device agrees with the CPU and FlagEmbedding.

Skipped where no CUDA device is visible (CI and the dev machine). On a machine with one:
`pytest -m gpu`. Runs the tiny generated model, so no weights are needed.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny_m3 import synthetic_corpus

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
]

TEXTS = [" ".join(synthetic_corpus(200, seed=5)[i : i + 1 + (i * 7) % 31]) for i in range(48)]


def _embedder(path, device: str, precision: str):
    from ingest.embedders.bge_m3 import BgeM3Embedder

    return BgeM3Embedder(str(path), device=device, precision=precision, backend="fast",
                         batch_size=16)  # type: ignore[arg-type]


@pytest.mark.parametrize("precision", ["fp32", "fp16", "bf16"])
def test_cuda_vectors_match_the_cpu(tiny_m3_path, fast_embedder, precision):
    gpu = _embedder(tiny_m3_path, "cuda", precision)
    try:
        on_gpu = gpu.encode(TEXTS, colbert=True)
    finally:
        gpu.close()
    on_cpu = fast_embedder.encode(TEXTS, colbert=True)
    floor = 0.9999 if precision == "fp32" else 0.995  # half precision rounds
    for a, b in zip(on_gpu, on_cpu, strict=True):
        assert float(np.dot(a.dense, b.dense)) >= floor
        shared = a.sparse.keys() & b.sparse.keys()
        assert len(shared) >= 0.9 * max(len(b.sparse), 1)
        assert float(np.min(np.sum(a.colbert * b.colbert, axis=1))) >= floor - 0.01


def test_cuda_query_embedding_is_warm_and_on_the_device(tiny_m3_path):
    gpu = _embedder(tiny_m3_path, "cuda", "fp16")
    try:
        first = gpu.embed_query("Kündigungsfrist Fitnessstudio")
        again = gpu.embed_query("Kündigungsfrist Fitnessstudio")
        assert np.allclose(first.dense, again.dense, atol=1e-3)
        assert torch.cuda.memory_allocated() > 0
    finally:
        gpu.close()
