"""BGE-M3 weights lookup (local, HF cache), availability, model ids, clear errors, lazy imports."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.core.errors import EmbedderUnavailableError
from ingest.embedders.bge_m3 import BgeM3Embedder, bge_m3_available
from ingest.embedders.m3_files import model_id_for

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def hf_cache(tmp_path: Path, tiny_m3_path: Path) -> Path:
    """A Hugging Face hub cache holding the tiny model as `homerag/tiny-m3` (the hub's layout)."""
    cache = tmp_path / "hub"
    repo = cache / "models--homerag--tiny-m3"
    shutil.copytree(tiny_m3_path, repo / "snapshots" / COMMIT)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)
    return cache


def _copy(tiny_m3_path: Path, dest: Path, *, drop: str | None = None) -> Path:
    shutil.copytree(tiny_m3_path, dest)
    if drop:
        (dest / drop).unlink()
    return dest


def test_hub_id_loads_from_the_hf_cache_without_network(hf_cache, tiny_m3_path, flag_embedder):
    emb = BgeM3Embedder("homerag/tiny-m3", device="cpu", backend="flag", cache_dir=hf_cache)
    assert emb.directory == hf_cache / "models--homerag--tiny-m3" / "snapshots" / COMMIT
    assert emb.model_id.startswith("homerag/tiny-m3#")
    # Same weights, same fingerprint as the local copy; same vectors.
    assert emb.model_id.rsplit("#", 1)[1] == flag_embedder.model_id.rsplit("#", 1)[1]
    text = "Vertrag über Strom, Laufzeit 24 Monate"
    assert np.allclose(emb.embed_query(text).dense, flag_embedder.embed_query(text).dense)
    emb.close()


def test_uncached_hub_model_offline_says_where_it_looked(tmp_path):
    cache = tmp_path / "empty-cache"
    cache.mkdir()
    with pytest.raises(EmbedderUnavailableError) as err:
        BgeM3Embedder("homerag/absent", device="cpu", cache_dir=cache)
    msg = str(err.value)
    assert "homerag/absent" in msg and str(cache) in msg and "HF_HUB_OFFLINE" in msg


def test_missing_directory_is_named(tmp_path):
    with pytest.raises(EmbedderUnavailableError, match=r"model directory .*nowhere does not exist"):
        BgeM3Embedder(str(tmp_path / "nowhere"), device="cpu")


def test_directory_without_sparse_head_is_refused(tmp_path, tiny_m3_path):
    # FlagEmbedding would silently initialise the head at random; we must not.
    broken = _copy(tiny_m3_path, tmp_path / "m3", drop="sparse_linear.pt")
    with pytest.raises(EmbedderUnavailableError, match=r"incomplete: missing sparse_linear\.pt"):
        BgeM3Embedder(str(broken), device="cpu")


def test_directory_without_weights_is_refused(tmp_path, tiny_m3_path):
    broken = _copy(tiny_m3_path, tmp_path / "m3", drop="model.safetensors")
    with pytest.raises(EmbedderUnavailableError, match=r"missing model\.safetensors"):
        BgeM3Embedder(str(broken), device="cpu")


def test_missing_cuda_device_is_a_clear_error(tiny_m3_path):
    with pytest.raises(EmbedderUnavailableError, match=r"HOMERAG_EMBED_DEVICE='cuda:99'"):
        BgeM3Embedder(str(tiny_m3_path), device="cuda:99")


def test_unknown_device_and_precision_are_named(tiny_m3_path):
    with pytest.raises(EmbedderUnavailableError, match=r"'tpu:0'"):
        BgeM3Embedder(str(tiny_m3_path), device="tpu:0")
    with pytest.raises(EmbedderUnavailableError, match=r"HOMERAG_EMBED_PRECISION='int4'"):
        BgeM3Embedder(str(tiny_m3_path), device="cpu", precision="int4")
    with pytest.raises(EmbedderUnavailableError, match="backend"):
        BgeM3Embedder(str(tiny_m3_path), device="cpu", backend="onnx")  # type: ignore[arg-type]


def test_flagembedding_not_installed_says_how_to_install(tiny_m3_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "FlagEmbedding", None)  # what a missing package looks like
    with pytest.raises(EmbedderUnavailableError, match=r"pip install \.\[bge\]"):
        BgeM3Embedder(str(tiny_m3_path), device="cpu", backend="flag")


def test_availability(tiny_m3_path, hf_cache, tmp_path, monkeypatch):
    assert bge_m3_available(str(tiny_m3_path))
    assert bge_m3_available("homerag/tiny-m3", cache_dir=hf_cache)
    assert not bge_m3_available(str(tmp_path / "nowhere"))
    broken = _copy(tiny_m3_path, tmp_path / "m3", drop="colbert_linear.pt")
    assert not bge_m3_available(str(broken))
    # Not cached: unavailable offline; "downloadable" when the hub is allowed.
    assert not bge_m3_available("homerag/absent", cache_dir=hf_cache)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE")
    assert bge_m3_available("homerag/absent", cache_dir=hf_cache)
    # Probing the hub fails here (the test guard blocks the network): not available.
    assert not bge_m3_available("homerag/absent", cache_dir=hf_cache, probe_hub=True)


def test_model_id_follows_the_weights(tmp_path, tiny_m3_path):
    import torch

    same = _copy(tiny_m3_path, tmp_path / "same")
    other = _copy(tiny_m3_path, tmp_path / "other")
    head = torch.nn.Linear(48, 1)
    torch.save(head.state_dict(), other / "sparse_linear.pt")
    fp = lambda d: model_id_for(str(d), d).rsplit("#", 1)[1]  # noqa: E731
    assert fp(same) == fp(tiny_m3_path)
    assert fp(other) != fp(tiny_m3_path)
    assert model_id_for("BAAI/bge-m3", same).startswith("BAAI/bge-m3#")


def test_importing_the_embedders_does_not_import_torch():
    modules = ["ingest.embedders", "ingest.embedders.bge_m3", "ingest.embedders.m3_common"]
    modules += [m for m in ("app.http.app", "app.retrieval") if importlib.util.find_spec(m)]
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "heavy = [m for m in ('torch', 'FlagEmbedding', 'transformers') if m in sys.modules]\n"
        + "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "", f"imported at module level: {out.stdout.strip()}"
