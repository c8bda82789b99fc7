"""Shortlist re-scoring: pure scores, BGE-M3 agreement with FlagEmbedding, cross-encoder, wiring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tiny_m3 import build_tiny_m3, build_tiny_reranker

from app.core.config import load_settings
from app.core.errors import EmbedderUnavailableError
from app.retrieval.rerank import (
    CrossEncoderRescorer,
    FlagCrossEncoder,
    M3Rescorer,
    M3Weights,
    RescoreChain,
    colbert_score,
    combine,
    dense_score,
    make_rescorer,
    passage_text,
    reorder,
    reranker_available,
    sparse_score,
)
from app.retrieval.types import Hit
from ingest.embedders.m3_common import M3Vectors


@pytest.fixture(scope="session")
def tiny_m3_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_m3(tmp_path_factory.mktemp("rerank-m3") / "model")


@pytest.fixture(scope="session")
def tiny_reranker_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_reranker(tmp_path_factory.mktemp("rerank-ce") / "model")


@pytest.fixture(scope="session")
def m3_embedder(tiny_m3_dir: Path):
    from ingest.embedders.bge_m3 import BgeM3Embedder

    return BgeM3Embedder(str(tiny_m3_dir), device="cpu")


def _hit(i: int, text: str, heading: str | None = None) -> Hit:
    return Hit(
        chunk_id=i,
        document_id=i,
        score=1.0 / (60 + i),
        text=text,
        path=f"/d/{i}.txt",
        title=None,
        page=None,
        heading=heading,
        ranks={"dense": i},
    )


# -- pure core --------------------------------------------------------------------------------
def test_colbert_score_is_mean_of_best_matches():
    q = np.array([[1.0, 0.0], [0.0, 1.0]])
    p = np.array([[0.6, 0.8], [1.0, 0.0], [0.0, -1.0]])
    # best for q0: 1.0 (p1); best for q1: 0.8 (p0) -> mean 0.9
    assert colbert_score(q, p) == pytest.approx(0.9)
    assert colbert_score(q, np.zeros((0, 2))) == 0.0


def test_sparse_and_dense_scores():
    assert sparse_score({1: 0.5, 7: 2.0}, {7: 0.25, 9: 3.0}) == pytest.approx(0.5)
    assert sparse_score({}, {7: 1.0}) == 0.0
    assert dense_score(np.array([0.6, 0.8]), np.array([0.0, 1.0])) == pytest.approx(0.8)


def test_combine_is_a_weighted_mean_over_present_modes():
    w = M3Weights()
    assert (w.dense, w.sparse, w.colbert) == (0.4, 0.2, 0.4)
    s = {"dense": 0.5, "sparse": 0.1, "colbert": 0.7}
    assert combine(s, w) == pytest.approx((0.4 * 0.5 + 0.2 * 0.1 + 0.4 * 0.7) / 1.0)
    assert combine({"dense": 0.5, "sparse": 0.1}, w) == pytest.approx((0.2 + 0.02) / 0.6)
    assert combine(s, M3Weights(dense=1, sparse=0, colbert=0)) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="weights"):
        M3Weights(dense=-1)


def test_reorder_sorts_by_score_keeps_ties_and_records_the_stage_rank():
    hits = [_hit(1, "a"), _hit(2, "b"), _hit(3, "c")]
    out = reorder(hits, [0.2, 0.9, 0.2], stage="m3")
    assert [h.chunk_id for h in out] == [2, 1, 3]
    assert [h.score for h in out] == [0.9, 0.2, 0.2]
    assert out[0].ranks == {"dense": 2, "m3": 1}
    with pytest.raises(ValueError, match="scores"):
        reorder(hits, [1.0], stage="m3")


def test_passage_text_matches_what_ingest_embeds():
    assert passage_text(_hit(1, "body", heading="5 Term")) == "5 Term\nbody"
    assert passage_text(_hit(1, "body")) == "body"


class FakeEncoder:
    """Vectors chosen by hand: the ColBERT score decides against the dense one."""

    def encode(self, texts, *, query=False, colbert=False):
        table = {
            "q": ([1.0, 0.0], {5: 1.0}, [[1.0, 0.0], [0.0, 1.0]]),
            "dense-only": ([1.0, 0.0], {}, [[1.0, 0.0], [-1.0, 0.0]]),
            "all-round": ([0.8, 0.6], {5: 1.0}, [[1.0, 0.0], [0.0, 1.0]]),
        }
        out = []
        for t in texts:
            d, s, c = table[t]
            out.append(M3Vectors(np.array(d), s, np.array(c) if colbert else None))
        return out


def test_m3_rescorer_orders_by_the_combined_score():
    hits = [_hit(1, "dense-only"), _hit(2, "all-round")]
    out = M3Rescorer(FakeEncoder()).rescore("q", hits)
    # dense-only: 0.4*1 + 0.2*0 + 0.4*0.5 = 0.6; all-round: 0.4*0.8 + 0.2*1 + 0.4*1 = 0.92
    assert [h.chunk_id for h in out] == [2, 1]
    assert [round(h.score, 6) for h in out] == [0.92, 0.6]
    assert M3Rescorer(FakeEncoder()).rescore("q", []) == []


# -- real models (tiny) -----------------------------------------------------------------------
def test_m3_rescorer_matches_flagembedding_compute_score(m3_embedder, tiny_m3_dir):
    from ingest.embedders.bge_m3 import BgeM3Embedder

    query = "Kündigungsfrist Vertrag Strom"
    texts = [
        "Der Stromvertrag hat eine Kündigungsfrist von drei Monaten.",
        "Monthly statement: rent 850 EUR paid to the landlord.",
        "Versicherung Beitrag jährlich 240 €, Verlängerung im Mai.",
    ]
    hits = [_hit(i, t) for i, t in enumerate(texts, start=1)]
    out = M3Rescorer(m3_embedder).rescore(query, hits)
    ref = BgeM3Embedder(str(tiny_m3_dir), device="cpu", backend="flag")
    flag = ref._backend.model  # FlagEmbedding's own scoring, one pair per batch (no padding)
    want = {
        i: flag.compute_score(
            [(query, t)], batch_size=1, weights_for_different_modes=[0.4, 0.2, 0.4]
        )["colbert+sparse+dense"]
        for i, t in enumerate(texts, start=1)
    }
    for h in out:
        assert h.score == pytest.approx(float(np.ravel(want[h.chunk_id])[0]), abs=1e-4)
    assert [h.chunk_id for h in out] == sorted(want, key=lambda i: -float(np.ravel(want[i])[0]))
    assert all("m3" in h.ranks for h in out)


def test_cross_encoder_scores_are_the_models_sigmoid_logits(tiny_reranker_dir):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    query = "notice period gym"
    passages = ["The gym contract has a notice period of three months.", "Holiday photos"]
    ce = FlagCrossEncoder(str(tiny_reranker_dir), device="cpu")
    got = ce.score(query, passages)
    tok = AutoTokenizer.from_pretrained(str(tiny_reranker_dir))
    model = AutoModelForSequenceClassification.from_pretrained(str(tiny_reranker_dir)).eval()
    with torch.no_grad():
        for p, g in zip(passages, got, strict=True):
            logit = model(**tok([(query, p)], return_tensors="pt")).logits.item()
            assert g == pytest.approx(1 / (1 + np.exp(-logit)), abs=1e-5)
    hits = [_hit(1, passages[0]), _hit(2, passages[1])]
    out = CrossEncoderRescorer(ce).rescore(query, hits)
    assert [h.score for h in out] == sorted(got, reverse=True)
    assert all("rerank" in h.ranks for h in out)


def test_reranker_is_available_only_when_its_weights_are_local(tiny_reranker_dir, tmp_path):
    assert reranker_available(str(tiny_reranker_dir))
    assert not reranker_available(str(tmp_path / "missing"))
    assert not reranker_available("BAAI/bge-reranker-v2-m3", cache_dir=str(tmp_path))


def test_make_rescorer_follows_settings(m3_embedder, tiny_reranker_dir, tmp_path):
    from ingest.embedders.lexical import LexicalHashEmbedder

    base = {"data_dir": tmp_path, "rerank_model": str(tmp_path / "no-reranker")}
    off = load_settings(**base, rerank="off")
    assert make_rescorer(off, LexicalHashEmbedder()) is None  # no multi-vectors, no reranker
    m3 = make_rescorer(load_settings(**base, rerank="off", rescore_weight_sparse=0.0), m3_embedder)
    assert isinstance(m3, M3Rescorer) and m3.weights == M3Weights(0.4, 0.0, 0.4)
    assert make_rescorer(off, m3_embedder, m3=False) is None
    assert isinstance(make_rescorer(load_settings(**base), m3_embedder), M3Rescorer)  # auto: absent
    with pytest.raises(EmbedderUnavailableError, match="no-reranker"):
        make_rescorer(load_settings(**base, rerank="on"), m3_embedder)
    auto = load_settings(data_dir=tmp_path, rerank_model=str(tiny_reranker_dir))
    chain = make_rescorer(auto, m3_embedder)
    assert isinstance(chain, RescoreChain)
    assert [type(s).__name__ for s in chain.steps] == ["M3Rescorer", "CrossEncoderRescorer"]
    hits = [_hit(1, "Strom Vertrag"), _hit(2, "Miete März")]
    out = chain.rescore("Stromvertrag", hits)
    assert {h.chunk_id for h in out} == {1, 2} and all(
        {"m3", "rerank"} <= set(h.ranks) for h in out
    )


# -- plugged into search ----------------------------------------------------------------------


def test_search_with_m3_rescoring_on_an_index_built_by_bge_m3(clean_db, tmp_path, m3_embedder):
    from app.retrieval import search_detailed
    from ingest.pipeline import IngestOptions, Pipeline
    from ingest.sources.folder import FolderSource

    root = tmp_path / "docs"
    root.mkdir()
    docs = {
        "strom.txt": "Der Stromvertrag hat eine Kündigungsfrist von drei Monaten.",
        "miete.txt": "Die Miete beträgt 850 € monatlich, zahlbar an den Vermieter.",
        "rent.txt": "Monthly statement: rent 850 EUR paid to the landlord.",
        "gym.txt": "The gym membership has a notice period of three months.",
    }
    for name, body in docs.items():
        (root / name).write_text(body, encoding="utf-8")
    Pipeline(clean_db, embedder=m3_embedder, options=IngestOptions()).run(FolderSource("d", root))
    rescorer = M3Rescorer(m3_embedder)
    with clean_db.session() as s:
        plain = search_detailed(s, m3_embedder, "Kündigungsfrist Stromvertrag", top_k=4)
        res = search_detailed(
            s, m3_embedder, "Kündigungsfrist Stromvertrag", top_k=4, rescorer=rescorer
        )
    assert {h.chunk_id for h in res.hits} == {h.chunk_id for h in plain.hits}
    assert all("m3" in h.ranks for h in res.hits)
    scores = [h.score for h in res.hits]
    assert scores == sorted(scores, reverse=True)
    direct = rescorer.rescore("Kündigungsfrist Stromvertrag", plain.hits)
    assert [h.chunk_id for h in res.hits] == [h.chunk_id for h in direct]
    assert res.timings_ms["rescore"] > 0
