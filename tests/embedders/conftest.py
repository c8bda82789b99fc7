"""Fixtures for the embedder tests: the tiny BGE-M3-shaped model, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_m3 import build_tiny_m3


@pytest.fixture(scope="session")
def tiny_m3_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny XLM-RoBERTa model with BGE-M3 heads and a trained tokenizer (see tests/tiny_m3.py)."""
    return build_tiny_m3(tmp_path_factory.mktemp("tiny-m3") / "model")


@pytest.fixture(scope="session")
def flag_embedder(tiny_m3_path: Path):
    """BgeM3Embedder on the FlagEmbedding reference backend, on CPU (shared: loading is slow)."""
    from ingest.embedders.bge_m3 import BgeM3Embedder

    emb = BgeM3Embedder(str(tiny_m3_path), device="cpu", backend="flag", batch_size=4)
    yield emb
    emb.close()
