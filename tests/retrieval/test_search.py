"""Hybrid retrieval in SQL against the real embedded PostgreSQL + pgvector."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from app.core.errors import InvalidInputError, NotFoundError
from app.core.types import ParsedDocument, TextBlock
from app.core.vectors import to_halfvec, to_sparsevec
from app.retrieval import hybrid_search, resolve_space, search
from app.retrieval.fusion import rrf
from app.retrieval.queries import hybrid_sql
from app.retrieval.types import SearchFilters
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources.folder import FilesSource, FolderSource

EMB = LexicalHashEmbedder()

DOCS = {
    "gym.md": "# Gym\n\nThe gym membership has a notice period of three months.",
    "insurance.txt": "Household insurance: premium 240 euros per year, renewal in May.",
    "rent.txt": "The landlord raises the rent to 950 euros from March.",
    "holiday.txt": "Holiday photos from the lake; we swam every morning.",
    "kuendigung.txt": "Die Kündigungsfrist für das Fitnessstudio beträgt drei Monate zum Vertragsende.",
}


class KindParser:
    """Text parser that marks files named contract-* as contracts with a date (for filters)."""

    name, version = "test-kind", "1"

    def score(self, inp):
        return 100

    def parse(self, inp):
        body = inp.data.decode()
        name = inp.item.name
        kind = "contract" if name.startswith("contract") else "note"
        day = int(name.split("-")[1].split(".")[0]) if "-" in name else 1
        return ParsedDocument(blocks=[TextBlock(body)], title=name, kind=kind,
                              occurred_at=datetime(2026, 1, day, tzinfo=UTC),
                              metadata={"from": f"sender{day}@example.org",
                                        "has_attachments": day % 2 == 0})


@pytest.fixture
def corpus(clean_db, tmp_path: Path):
    root = tmp_path / "corpus"
    root.mkdir()
    for name, body in DOCS.items():
        (root / name).write_text(body, encoding="utf-8")
    Pipeline(clean_db, embedder=EMB, options=IngestOptions()).run(FolderSource("corpus", root))
    return clean_db


def _titles(hits) -> list[str]:
    return [Path(h.path).name for h in hits]


def test_search_finds_the_passage_with_the_answer_first(corpus):
    with corpus.session() as s:
        hits = search(s, EMB, "notice period gym membership", top_k=3)
    assert _titles(hits)[0] == "gym.md"
    top = hits[0]
    assert top.page is None and "The gym membership has a notice period" in top.text
    assert set(top.ranks) == {"dense", "sparse", "fts"}


def test_search_stemmed_full_text_matches_german_compound_forms(corpus):
    with corpus.session() as s:
        hits = search(s, EMB, "Kündigungsfrist Fitnessstudio", top_k=2, stages=("fts",))
    assert _titles(hits) == ["kuendigung.txt"]


@pytest.mark.parametrize("stage", ["dense", "sparse", "fts"])
def test_each_stage_alone_ranks_the_matching_document_first(corpus, stage):
    with corpus.session() as s:
        hits = search(s, EMB, "landlord rent euros March", top_k=2, stages=(stage,))
    assert _titles(hits)[0] == "rent.txt"
    assert set(hits[0].ranks) == {stage}


def test_sql_fusion_matches_the_python_twin(corpus):
    query = "insurance premium euros renewal"
    with corpus.session() as s:
        space = resolve_space(s, EMB)
        q = EMB.embed_query(query)
        per_stage = {
            st: [h.chunk_id for h in hybrid_search(s, space, query, q, top_k=50, stages=(st,))]
            for st in ("dense", "sparse", "fts")
        }
        fused = hybrid_search(s, space, query, q, top_k=50)
    expected = rrf(per_stage, k=60)
    assert [h.chunk_id for h in fused] == [i for i, _, _ in expected]
    for hit, (_, score, ranks) in zip(fused, expected, strict=True):
        assert hit.score == pytest.approx(score)
        assert dict(hit.ranks) == ranks


def test_empty_query_and_bad_stage_are_clear_errors(corpus):
    with corpus.session() as s:
        with pytest.raises(InvalidInputError, match="empty"):
            search(s, EMB, "   ")
        with pytest.raises(InvalidInputError, match="stage"):
            search(s, EMB, "rent", stages=("dense", "telepathy"))


def test_search_on_empty_index_says_so(clean_db):
    with clean_db.session() as s, pytest.raises(NotFoundError, match="ingest"):
        search(s, EMB, "rent")


def test_search_with_another_embedder_than_the_index_is_refused(corpus):
    other = LexicalHashEmbedder(dim=128)
    with corpus.session() as s, pytest.raises(InvalidInputError, match="built with"):
        search(s, other, "rent")


@pytest.fixture
def filtered_corpus(clean_db, tmp_path: Path):
    """300 notes and 6 contracts on the same topic: filters must still return k rows."""
    root = tmp_path / "many"
    root.mkdir()
    paths = []
    for i in range(300):
        p = root / f"note{i:03d}-{1 + i % 28}.txt"
        p.write_text(f"Electricity tariff note {i}: the electricity price per kWh went up.",
                     encoding="utf-8")
        paths.append(p)
    for i in range(6):
        p = root / f"contract{i}-{10 + i}.txt"
        p.write_text(f"Contract {i}: electricity supply, price per kWh fixed for 24 months.",
                     encoding="utf-8")
        paths.append(p)
    Pipeline(clean_db, embedder=EMB, parsers=[KindParser()], options=IngestOptions()).run(
        FilesSource(paths))
    return clean_db


def test_filtered_search_still_returns_k_rows(filtered_corpus):
    with filtered_corpus.session() as s:
        hits = search(s, EMB, "electricity price per kWh", top_k=5, candidates=20,
                      filters=SearchFilters(kinds=("contract",)), stages=("dense",))
    assert len(hits) == 5
    assert all(h.kind == "contract" for h in hits)


def test_date_document_and_metadata_filters(filtered_corpus):
    with filtered_corpus.session() as s:
        by_date = search(s, EMB, "electricity contract", top_k=10,
                         filters=SearchFilters(kinds=("contract",), date_from=date(2026, 1, 12),
                                               date_to=date(2026, 1, 13)))
        assert sorted(h.occurred_at.day for h in by_date) == [12, 13]
        one = by_date[0].document_id
        only = search(s, EMB, "electricity", filters=SearchFilters(document_ids=(one,)))
        assert {h.document_id for h in only} == {one}
        sender = search(s, EMB, "electricity contract", top_k=10,
                        filters=SearchFilters(kinds=("contract",),
                                              metadata={"from": "SENDER14@"}))
        assert [h.metadata["from"] for h in sender] == ["sender14@example.org"]
        attached = search(s, EMB, "electricity contract", top_k=10,
                          filters=SearchFilters(kinds=("contract",),
                                                metadata={"has_attachments": True}))
        assert attached and all(h.metadata["has_attachments"] for h in attached)


def test_dense_candidates_can_use_the_space_hnsw_index(corpus):
    """The cast expression and space predicate match the partial index (sorting disabled so
    the planner must take an ordered index path; on a table this small it would rather sort).
    The sparse stage's index: tests/retrieval/test_sparse_postings.py."""
    part = "dense"
    with corpus.session() as s:
        space = resolve_space(s, EMB)
        s.execute(text("SET LOCAL enable_sort = off"))
        emb = EMB.embed_query("gym")
        sql, params = hybrid_sql(space, stages=(part,), filters=SearchFilters(), candidates=5,
                                 top_k=5, rrf_k=60, has_terms=False)
        params.update(qd=to_halfvec(emb.dense).to_text(),
                      qs=to_sparsevec(emb.sparse, space.sparse_dim).to_text())
        plan = "\n".join(s.execute(text("EXPLAIN " + sql), params).scalars())
    assert f"Index Scan using ix_chunk_embeddings_space_{space.id}_{part}" in plan
