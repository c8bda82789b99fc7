"""Chunks carry their document's source, kind and date (migration 0012): filtered searches test
them on the chunk, so they must stay equal to the document's however either is written."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from app.core.types import ParsedDocument, TextBlock
from app.core.vectors import to_halfvec, to_sparsevec
from app.retrieval import resolve_space, search
from app.retrieval.queries import hybrid_sql
from app.retrieval.types import SearchFilters
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources.folder import FolderSource

EMB = LexicalHashEmbedder()
MISMATCHES = """
SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id
WHERE c.source_id IS DISTINCT FROM d.source_id OR c.kind IS DISTINCT FROM d.kind
   OR c.occurred_at IS DISTINCT FROM d.occurred_at"""


class DatedParser:
    """Files named <kind>-<day>.txt: that kind, dated that day of March 2026."""

    name, version = "test-dated", "1"

    def score(self, inp):
        return 100

    def parse(self, inp):
        kind, day = inp.item.name.removesuffix(".txt").split("-")[:2]
        return ParsedDocument(blocks=[TextBlock(inp.data.decode())], title=inp.item.name,
                              kind=kind, occurred_at=datetime(2026, 3, int(day), tzinfo=UTC))


def _ingest(db, tmp_path: Path, source: str, files: dict[str, str]) -> None:
    root = tmp_path / source
    root.mkdir()
    for name, body in files.items():
        (root / name).write_text(body, encoding="utf-8")
    Pipeline(db, embedder=EMB, parsers=[DatedParser()], options=IngestOptions()).run(
        FolderSource(source, root))


@pytest.fixture
def two_sources(clean_db, tmp_path: Path):
    _ingest(clean_db, tmp_path, "bank", {
        f"letter-{d}.txt": f"Letter {d}: the water bill for the flat rose again this month."
        for d in range(1, 11)})
    _ingest(clean_db, tmp_path, "post", {
        f"contract-{d}.txt": f"Contract {d}: the water supply for the flat, fixed price."
        for d in range(11, 16)})
    return clean_db


def test_ingest_copies_the_documents_source_kind_and_date_onto_every_chunk(two_sources):
    with two_sources.session() as s:
        assert s.scalar(text("SELECT count(*) FROM chunks WHERE source_id IS NULL")) == 0
        assert s.execute(text(MISMATCHES)).all() == []


def test_a_documents_update_carries_to_its_chunks_and_to_the_filters(two_sources):
    with two_sources.session() as s:
        doc_id = s.scalar(text("SELECT id FROM documents WHERE origin LIKE '%letter-3.txt'"))
        before = search(s, EMB, "water bill", top_k=20,
                        filters=SearchFilters(kinds=("contract",)))
        assert doc_id not in {h.document_id for h in before}
        post = s.scalar(text("SELECT id FROM sources WHERE name = 'post'"))
        s.execute(text("UPDATE documents SET kind = 'contract', source_id = :post, "
                       "occurred_at = '2026-05-02T00:00:00Z' WHERE id = :id"),
                  {"id": doc_id, "post": post})
        assert s.execute(text(MISMATCHES)).all() == []
        may = search(s, EMB, "water bill", top_k=20, filters=SearchFilters(
            kinds=("contract",), sources=("post",), date_from=date(2026, 5, 1),
            date_to=date(2026, 5, 31)))
        assert {h.document_id for h in may} == {doc_id}
        march = search(s, EMB, "water bill", top_k=20, filters=SearchFilters(
            sources=("bank",), date_from=date(2026, 3, 1), date_to=date(2026, 3, 31)))
        assert len(march) == 9 and doc_id not in {h.document_id for h in march}


def test_a_chunk_written_without_them_takes_its_documents(two_sources):
    """Another writer (a restore, a script) that leaves them out still gets filtered right."""
    with two_sources.session() as s:
        doc_id, source_id = s.execute(text(
            "SELECT id, source_id FROM documents WHERE origin LIKE '%contract-12.txt'")).one()
        s.execute(text("INSERT INTO chunks (document_id, ordinal, text, char_start, char_end, "
                       "token_count, content_hash) VALUES (:d, 99, 'extra', 0, 5, 1, 'x')"),
                  {"d": doc_id})
        row = s.execute(text("SELECT source_id, kind, occurred_at FROM chunks "
                             "WHERE document_id = :d AND ordinal = 99"), {"d": doc_id}).one()
        assert row == (source_id, "contract", datetime(2026, 3, 12, tzinfo=UTC))


def test_source_and_date_filters_are_tested_on_the_chunk_not_its_document(two_sources):
    """No stage reads a document to test the filter (at 10^6 chunks that lookup per candidate
    was most of a filtered search, bench/README.md): only the hits' own rows are joined."""
    with two_sources.session() as s:
        space = resolve_space(s, EMB)
        emb = EMB.embed_query("water")
        sql, params = hybrid_sql(space, stages=("dense", "sparse", "fts"), candidates=10,
                                 top_k=5, rrf_k=60, has_terms=True, filters=SearchFilters(
                                     sources=("bank",), kinds=("letter",),
                                     date_from=date(2026, 3, 2)))
        params.update(qd=to_halfvec(emb.dense).to_text(),
                      qs=to_sparsevec(emb.sparse, space.sparse_dim).to_text(),
                      terms="'water'", terms_simple="'water'", qt=[], qw=[])
        plan = "\n".join(s.execute(text("EXPLAIN " + sql), params).scalars())
        hits = s.execute(text(sql), params).all()
    assert plan.count(" on documents") == 1  # the final join of the hits
    assert hits and len(hits) <= 5


class HeaderDateParser:
    """The date from the first line ('date: 2026-03-07'), the rest as text."""

    name, version = "test-header-date", "1"

    def score(self, inp):
        return 100

    def parse(self, inp):
        head, _, body = inp.data.decode().partition("\n")
        day = datetime.fromisoformat(head.removeprefix("date: ")).replace(tzinfo=UTC)
        return ParsedDocument(blocks=[TextBlock(body)], title=inp.item.name, kind="letter",
                              occurred_at=day)


def test_a_redated_document_keeps_its_unchanged_passages_under_the_new_date(clean_db, tmp_path):
    """A re-sync that keeps passages (ingest/kept_chunks.py) rewrites the document's date but
    not those chunk rows: they must still answer a search for the new date, not the old."""
    folder = tmp_path / "letters"
    folder.mkdir()
    letter = folder / "tax.txt"
    sections = "\n\n".join(f"Section {n}: the tax office assessment, item {n} of the "
                           f"letter, " + " ".join(f"w{n}x{i}" for i in range(40))
                           for n in range(6))
    options = IngestOptions(chunk_tokens=80, chunk_overlap=0, workers=0)

    def sync(day: str) -> None:
        letter.write_text(f"date: {day}\n{sections}", encoding="utf-8")
        Pipeline(clean_db, embedder=EMB, parsers=[HeaderDateParser()], options=options).run(
            FolderSource("letters", folder))

    sync("2026-03-07")
    with clean_db.session() as s:
        before = set(s.scalars(text("SELECT id FROM chunks")))
    assert len(before) >= 3
    sync("2026-09-01")
    with clean_db.session() as s:
        after = set(s.scalars(text("SELECT id FROM chunks")))
        assert before & after  # passages were kept, not rewritten
        assert s.execute(text(MISMATCHES)).all() == []
        september = search(s, EMB, "tax office assessment", top_k=20,
                           filters=SearchFilters(date_from=date(2026, 9, 1),
                                                 date_to=date(2026, 9, 1)))
        march = search(s, EMB, "tax office assessment", top_k=20,
                       filters=SearchFilters(date_from=date(2026, 3, 1),
                                             date_to=date(2026, 3, 31)))
    assert {h.chunk_id for h in september} == after and march == []
