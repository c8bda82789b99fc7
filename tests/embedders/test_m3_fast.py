"""The fast BGE-M3 backend agrees with FlagEmbedding, batches by tokens, survives OOM, cleans up."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from tiny_m3 import synthetic_corpus

from app.core.errors import EmbedderUnavailableError
from ingest.embedders.m3_fast import FastM3Backend, sparse_top


def _mixed_texts(n: int = 60, seed: int = 13) -> list[str]:
    corpus = synthetic_corpus(200, seed=seed)
    texts = [" ".join(corpus[i : i + (i * 5) % 23 + 1]) for i in range(n)]
    return [*texts, "", "x", "Kündigung"]


def _backend(path, cls=FastM3Backend, **kw):
    kw.setdefault("max_batch_tokens", 1024)
    kw.setdefault("max_sparse_terms", 1000)
    return cls(path, device=torch.device("cpu"), dtype=torch.float32, **kw)


def test_fast_path_agrees_with_flagembedding(fast_embedder, flag_embedder, tiny_m3_path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_m3_path))
    vocab_text = " ".join(
        tok.convert_tokens_to_string([t]) for t in tok.convert_ids_to_tokens(range(5, 3000))
    )
    texts = [*_mixed_texts(), vocab_text]  # the last one is pruned to 1,000 terms by both
    ours = fast_embedder.encode(texts, colbert=True)
    ref = flag_embedder.encode(texts, colbert=True)
    assert len(ours[-1].sparse) == len(ref[-1].sparse) == 1000
    for text, a, b in zip(texts, ours, ref, strict=True):
        assert float(np.dot(a.dense, b.dense)) >= 0.999, text[:40]
        assert a.sparse.keys() == b.sparse.keys(), text[:40]
        assert max((abs(a.sparse[k] - b.sparse[k]) for k in a.sparse), default=0) < 1e-3
        assert a.colbert.shape == b.colbert.shape
        assert float(np.min(np.sum(a.colbert * b.colbert, axis=1))) >= 0.999


def test_token_budget_changes_batches_not_results(tiny_m3_path):
    texts = _mixed_texts(40)
    big = _backend(tiny_m3_path, max_batch_tokens=100_000)
    small = _backend(tiny_m3_path, max_batch_tokens=64)  # most texts alone, some over budget
    a = big.encode(texts, max_length=8192)
    b = small.encode(texts, max_length=8192)
    assert big.stats["batches"] == 1 and small.stats["batches"] > 20
    assert small.stats["padded_tokens"] < big.stats["padded_tokens"]  # less padding
    assert big.stats["tokens"] == small.stats["tokens"]
    for x, y in zip(a, b, strict=True):
        assert np.allclose(x.dense, y.dense, atol=1e-5)
        assert x.sparse.keys() == y.sparse.keys()


class _OomAbove(FastM3Backend):
    """Fails like a full GPU for batches of more than `rows_ok` texts."""

    rows_ok = 2
    attempts: list[int]

    def _forward(self, ids, mask, *, query=False):
        self.attempts = [*getattr(self, "attempts", []), ids.shape[0]]
        if ids.shape[0] > self.rows_ok:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 8.00 GiB")
        return super()._forward(ids, mask, query=query)


def test_out_of_memory_halves_the_batch_and_retries(tiny_m3_path, fast_embedder):
    texts = [f"Rechnung {i}: Strom {i * 7},00 € fällig am 0{i % 9 + 1}.03.2024" for i in range(12)]
    backend = _backend(tiny_m3_path, _OomAbove, max_batch_tokens=4096)
    got = backend.encode(texts, max_length=8192)
    assert backend.stats["oom_splits"] >= 3  # 12 -> 6 -> 3 -> 2 + 1
    assert backend.max_batch_tokens < 4096  # the budget stays lowered for later batches
    done = [rows for rows in backend.attempts if rows <= 2]
    assert sum(done) == 1 + 12  # the warm-up query, then every text exactly once
    want = fast_embedder.encode(texts)
    for x, y in zip(got, want, strict=True):
        assert np.allclose(x.dense, y.dense, atol=1e-5)
        assert x.sparse.keys() == y.sparse.keys()


def test_out_of_memory_on_a_single_text_is_a_clear_error(tiny_m3_path):
    backend = _backend(tiny_m3_path, _OomAbove)
    backend.rows_ok = 0
    with pytest.raises(EmbedderUnavailableError, match=r"one text of \d+ tokens does not fit"):
        backend.encode(["ein Text", "noch ein Text"], max_length=8192)


class _BrokenTokenizer(FastM3Backend):
    def _tokenize(self, texts, max_length):
        if threading.current_thread().name == "m3-tokenize":
            raise ValueError("tokenizer exploded")
        return super()._tokenize(texts, max_length)


def _tokenizer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "m3-tokenize"]


def test_worker_thread_errors_reach_the_caller_and_the_thread_ends(tiny_m3_path):
    backend = _backend(tiny_m3_path, _BrokenTokenizer)
    with pytest.raises(ValueError, match="tokenizer exploded"):
        backend.encode(["a", "b", "c"], max_length=8192)
    assert _tokenizer_threads() == []


def test_worker_thread_stops_when_the_device_side_fails(tiny_m3_path):
    backend = _backend(tiny_m3_path, _OomAbove, max_batch_tokens=16)
    backend.rows_ok = -1  # every batch fails, even single texts
    with pytest.raises(EmbedderUnavailableError):
        backend.encode(_mixed_texts(30), max_length=8192)
    for t in _tokenizer_threads():
        t.join(timeout=5)
    assert _tokenizer_threads() == []


def test_single_query_path_equals_batch_path(fast_embedder):
    texts = ["Kündigungsfrist Fitnessstudio", "monthly rent 850 EUR"]
    batch = fast_embedder.encode(texts, query=True)
    for text, b in zip(texts, batch, strict=True):
        one = fast_embedder.encode([text], query=True)[0]
        assert np.allclose(one.dense, b.dense, atol=1e-5)
        assert one.sparse == pytest.approx(b.sparse, abs=1e-5)


def test_sparse_top_takes_max_per_token_and_prunes_with_lower_id_on_ties():
    ids = torch.tensor([[7, 5, 7, 9, 5, 1], [4, 4, 4, 8, 1, 1]])
    w = torch.tensor([[0.2, 0.5, 0.9, 0.5, 0.1, 0.0], [0.3, 0.7, 0.1, 0.0, 0.0, 0.0]])
    seg_ids, seg_w = sparse_top(ids, w, None)
    rows = [
        {int(i): round(float(v), 6) for i, v in zip(r_ids, r_w, strict=True) if v > 0}
        for r_ids, r_w in zip(seg_ids, seg_w, strict=True)
    ]
    assert rows == [{5: 0.5, 7: 0.9, 9: 0.5}, {4: 0.7}]
    seg_ids, seg_w = sparse_top(ids, w, 2)
    assert seg_ids.shape == (2, 2)
    assert {int(i) for i, v in zip(seg_ids[0], seg_w[0], strict=True) if v > 0} == {7, 5}
