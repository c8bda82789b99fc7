"""Fixtures for the embedder tests: the tiny BGE-M3-shaped model, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_m3 import build_tiny_m3


@pytest.fixture(scope="session")
def tiny_m3_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny XLM-RoBERTa model with BGE-M3 heads and a trained tokenizer (see tests/tiny_m3.py)."""
    return build_tiny_m3(tmp_path_factory.mktemp("tiny-m3") / "model")


def _embedder(path: Path, backend: str):
    from ingest.embedders.bge_m3 import BgeM3Embedder

    # Small batches so that the tests cross batch boundaries.
    return BgeM3Embedder(str(path), device="cpu", backend=backend, batch_size=4)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def flag_embedder(tiny_m3_path: Path):
    """BgeM3Embedder on the FlagEmbedding reference backend, on CPU (shared: loading is slow)."""
    emb = _embedder(tiny_m3_path, "flag")
    yield emb
    emb.close()


@pytest.fixture(scope="session")
def fast_embedder(tiny_m3_path: Path):
    """BgeM3Embedder on our fast backend (the default), on CPU."""
    emb = _embedder(tiny_m3_path, "fast")
    yield emb
    emb.close()


@pytest.fixture(params=["fast", "flag"])
def m3(request: pytest.FixtureRequest):
    """Each backend in turn: the behaviour of BgeM3Embedder must not depend on it."""
    return request.getfixturevalue(f"{request.param}_embedder")
