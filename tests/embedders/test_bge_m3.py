"""BgeM3Embedder on the tiny model, on both backends (fast, FlagEmbedding reference), on CPU."""

from __future__ import annotations

import numpy as np
import pytest
from tiny_m3 import HIDDEN, synthetic_corpus

from app.core.protocols import Embedder
from ingest.embedders.bge_m3 import BgeM3Embedder

SPECIAL_IDS = {0, 1, 2, 3}  # <s> <pad> </s> <unk>: never lexical terms


def _manual_m3(path, text):
    """BGE-M3's three outputs computed by hand from the stored files (transformers + torch)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path))
    model = AutoModel.from_pretrained(str(path)).eval()
    colbert, sparse = torch.nn.Linear(HIDDEN, HIDDEN), torch.nn.Linear(HIDDEN, 1)
    colbert.load_state_dict(torch.load(path / "colbert_linear.pt", weights_only=True))
    sparse.load_state_dict(torch.load(path / "sparse_linear.pt", weights_only=True))
    enc = tok([text], return_tensors="pt")
    with torch.no_grad():
        h = model(**enc).last_hidden_state[0]
        dense = torch.nn.functional.normalize(h[0], dim=-1).numpy()
        weights = torch.relu(sparse(h)).squeeze(-1).tolist()
        multi = torch.nn.functional.normalize(colbert(h[1:]), dim=-1).numpy()
    lexical: dict[int, float] = {}
    for tid, w in zip(enc["input_ids"][0].tolist(), weights, strict=True):
        if tid not in SPECIAL_IDS and w > 0:
            lexical[tid] = max(w, lexical.get(tid, 0.0))
    return dense, lexical, multi


def test_outputs_match_a_hand_computed_m3_with_the_stored_heads(m3, tiny_m3_path):
    # Proves the stored colbert_linear.pt and sparse_linear.pt are the heads in use
    # (FlagEmbedding would otherwise initialise them at random and only log it).
    text = "Kontoauszug März: Miete 850,00 € an den Vermieter überwiesen."
    dense, lexical, multi = _manual_m3(tiny_m3_path, text)
    got = m3.encode([text], colbert=True)[0]
    assert np.allclose(got.dense, dense, atol=1e-5)
    assert got.sparse.keys() == lexical.keys() and len(lexical) > 5
    assert all(abs(got.sparse[k] - lexical[k]) < 1e-5 for k in lexical)
    assert got.colbert is not None and got.colbert.shape == multi.shape
    assert np.allclose(got.colbert, multi, atol=1e-5)


def test_embedder_satisfies_protocol_and_reports_its_shape(m3, tiny_m3_path):
    assert isinstance(m3, Embedder)
    assert m3.name == "bge-m3"
    assert m3.dim == HIDDEN
    assert m3.sparse_dim == 3000  # tokenizer vocabulary
    assert m3.model_id.startswith(f"{tiny_m3_path}#")
    assert len(m3.model_id.rsplit("#", 1)[1]) == 8
    assert m3.device == "cpu" and m3.dtype == "float32"
    assert m3.info()["backend"] in ("fast", "flag")


def test_documents_are_normalised_float32_with_int_keyed_sparse(m3):
    texts = synthetic_corpus(6, seed=11)
    embs = m3.embed_documents(texts)
    assert len(embs) == 6
    for e in embs:
        dense = np.asarray(e.dense)
        assert dense.shape == (HIDDEN,) and dense.dtype == np.float32
        assert abs(float(np.linalg.norm(dense)) - 1.0) < 1e-5
        assert e.sparse and all(type(k) is int and type(v) is float for k, v in e.sparse.items())
        assert all(v > 0 for v in e.sparse.values())
        assert not (e.sparse.keys() & SPECIAL_IDS)
        assert max(e.sparse) < m3.sparse_dim


def test_different_texts_get_different_vectors(m3):
    a, b = m3.embed_documents(["Stromrechnung Januar 2024", "car insurance renewal notice"])
    assert float(np.dot(a.dense, b.dense)) < 0.99
    assert a.sparse.keys() != b.sparse.keys()


def test_batch_order_is_restored_after_length_sorting(m3):
    corpus = synthetic_corpus(40, seed=5)
    # Mixed lengths in scrambled order: 1 to 40 sentences joined.
    texts = [" ".join(corpus[: (i * 7) % 13 + 1]) for i in range(11)] + ["kurz", ""]
    together = m3.embed_documents(texts)
    for text, emb in zip(texts, together, strict=True):
        alone = m3.embed_documents([text])[0]
        assert np.allclose(emb.dense, alone.dense, atol=1e-4), text[:40]
        assert emb.sparse.keys() == alone.sparse.keys()


def test_embedding_is_deterministic(m3):
    texts = synthetic_corpus(5, seed=21)
    first = m3.embed_documents(texts)
    second = m3.embed_documents(texts)
    for a, b in zip(first, second, strict=True):
        assert np.array_equal(a.dense, b.dense)
        assert a.sparse == b.sparse


def test_query_path_matches_document_path_for_short_text(m3):
    text = "Wann endet die Kündigungsfrist der Hausratversicherung?"
    q = m3.embed_query(text)
    d = m3.embed_documents([text])[0]
    assert np.allclose(q.dense, d.dense, atol=1e-6)
    assert q.sparse == pytest.approx(d.sparse)


def test_query_path_truncates_at_512_tokens(m3, tiny_m3_path):
    long_text = " ".join(synthetic_corpus(120, seed=8))  # well over 512 tokens
    capped = BgeM3Embedder(str(tiny_m3_path), device="cpu", backend=m3.backend_name, max_length=512)
    q = m3.embed_query(long_text)
    assert np.allclose(q.dense, capped.embed_documents([long_text])[0].dense, atol=1e-5)
    assert not np.allclose(q.dense, m3.embed_documents([long_text])[0].dense, atol=1e-3)
    assert m3.query_max_length == 512


@pytest.mark.parametrize("backend", ["fast", "flag"])
def test_sparse_is_pruned_to_the_largest_weights(tiny_m3_path, backend):
    text = " ".join(synthetic_corpus(10, seed=4))
    full = BgeM3Embedder(str(tiny_m3_path), device="cpu", backend=backend, max_sparse_terms=None)
    top5 = BgeM3Embedder(str(tiny_m3_path), device="cpu", backend=backend, max_sparse_terms=5)
    all_terms = full.embed_documents([text])[0].sparse
    kept = top5.embed_documents([text])[0].sparse
    assert len(all_terms) > 5 and len(kept) == 5
    assert kept == dict(sorted(sorted(all_terms.items(), key=lambda kv: -kv[1])[:5]))


def test_sparse_of_a_long_passage_stops_at_the_hnsw_limit(m3, tiny_m3_path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_m3_path))
    # A passage that uses most of the vocabulary: far more than 1,000 distinct tokens.
    text = " ".join(
        tok.convert_tokens_to_string([t]) for t in tok.convert_ids_to_tokens(range(5, 3000))
    )
    emb = m3.embed_documents([text])[0]
    unpruned = BgeM3Embedder(
        str(tiny_m3_path), device="cpu", backend=m3.backend_name, max_sparse_terms=None
    )
    assert len(unpruned.embed_documents([text])[0].sparse) > 1100
    assert len(emb.sparse) == 1000
    assert all(v > 0 for v in emb.sparse.values())


def test_multivector_rows_are_normalised_and_one_per_token(m3, tiny_m3_path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_m3_path))
    texts = ["Rechnung Nr. 4711 vom 03.02.2024", "monthly statement"]
    vecs = m3.embed_multivector(texts)
    for text, v in zip(texts, vecs, strict=True):
        assert v.shape == (len(tok(text)["input_ids"]) - 1, HIDDEN)  # all tokens but <s>
        assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)


def test_bad_arguments_are_refused(m3):
    with pytest.raises(TypeError, match="sequence of texts"):
        m3.embed_documents("one string")
    with pytest.raises(TypeError, match="str"):
        m3.embed_documents([b"bytes"])
    assert m3.embed_documents([]) == []
