"""A changed document keeps its unchanged passages (ingest/kept_chunks.py): same chunk ids and
vectors, only the new passages written, and everything it keeps in its new place."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text

from app.core.models import Chunk, ChunkEmbedding, Document
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources.folder import FolderSource
from tests.support.postings import postings_mismatches


def _section(n: int) -> str:
    words = " ".join(f"clause{n}word{i}" for i in range(25))
    return f"## Section {n}\n\nSection {n} of the lease: {words}.\n"


def _notes(*sections: int) -> str:
    return "# Lease notes\n\n" + "\n".join(_section(n) for n in sections)


@pytest.fixture
def sync(clean_db, tmp_path: Path):
    def _sync(folder: Path):
        options = IngestOptions(originals_dir=tmp_path / "originals", chunk_tokens=80,
                                chunk_overlap=0, workers=0)
        return Pipeline(clean_db, embedder=LexicalHashEmbedder(), options=options).run(
            FolderSource("docs", folder))
    return _sync


@pytest.fixture
def notes(sync, tmp_path: Path):
    """Writes lease.md with these sections and syncs its folder; returns the run's report."""
    folder = tmp_path / "docs"
    folder.mkdir()

    def _write_and_sync(*sections: int):
        (folder / "lease.md").write_text(_notes(*sections), encoding="utf-8")
        return sync(folder)
    return _write_and_sync


def _chunks(db) -> list[tuple[int, int, str, int, int]]:
    """(id, ordinal, text, char_start, char_end) of the one document, in order."""
    with db.session() as s:
        return [tuple(r) for r in s.execute(
            select(Chunk.id, Chunk.ordinal, Chunk.text, Chunk.char_start, Chunk.char_end)
            .order_by(Chunk.ordinal)).all()]


def _check_places(db) -> None:
    """Ordinals 0..n-1 and every chunk's offsets pointing at its own text in the new content."""
    with db.session() as s:
        content = s.scalar(select(Document.content))
        vectors = set(s.scalars(select(ChunkEmbedding.chunk_id)))
    rows = _chunks(db)
    assert [r[1] for r in rows] == list(range(len(rows)))
    for cid, _, body, start, end in rows:
        assert body.split()[-1] in content[start:end], (cid, body[:40])
        assert cid in vectors
    assert postings_mismatches(db) == []


def test_appended_section_keeps_every_earlier_chunk(notes, clean_db):
    notes(1, 2, 3, 4)
    before = _chunks(clean_db)
    assert len(before) >= 4
    with clean_db.session() as s:
        vectors_before = s.scalar(text("SELECT count(*) FROM chunk_embeddings"))
    report = notes(1, 2, 3, 4, 5)
    assert report.counts["indexed"] == 1
    after = _chunks(clean_db)
    kept = {r[0] for r in before} & {r[0] for r in after}
    # No earlier passage written again, but the last: the chunker may close it differently
    # now that text follows it.
    assert {r[0] for r in before[:-1]} <= kept
    new = [r for r in after if r[0] not in kept]
    assert new and len(new) <= len(after) - len(before) + 1
    assert any("clause5" in r[2] for r in new)
    with clean_db.session() as s:
        assert s.scalar(text("SELECT count(*) FROM chunk_embeddings")) == len(after)
        assert vectors_before == len(before)
        # the new passage is searchable by its words
        assert s.scalar(text("SELECT count(*) FROM chunks "
                             "WHERE tsv @@ to_tsquery('simple', 'clause5word7')")) >= 1
    _check_places(clean_db)


def test_passages_that_move_keep_their_ids_and_take_their_new_places(notes, clean_db):
    notes(1, 2, 3)
    ids_by_text = {r[2]: r[0] for r in _chunks(clean_db)}
    # A section inserted at the top and two swapped: every kept passage changes its ordinal.
    notes(9, 3, 2, 1)
    after = _chunks(clean_db)
    for cid, _, body, _, _ in after:
        if body in ids_by_text:
            assert cid == ids_by_text[body]
    assert sum(body in ids_by_text for _, _, body, _, _ in after) >= 3
    _check_places(clean_db)


def test_repeated_passages_each_keep_one_stored_chunk(notes, clean_db):
    notes(1, 1, 2)
    first = _chunks(clean_db)
    report = notes(1, 1, 1, 2)  # a third copy
    assert report.counts["indexed"] == 1 and not report.problems
    after = _chunks(clean_db)
    assert len({r[0] for r in after}) == len(after)
    assert {r[0] for r in first} <= {r[0] for r in after}
    _check_places(clean_db)


def test_a_shortened_document_loses_the_passages_it_dropped(notes, clean_db):
    notes(1, 2, 3)
    notes(1)
    texts = " ".join(r[2] for r in _chunks(clean_db))
    assert "clause1word3" in texts and "clause2" not in texts and "clause3" not in texts
    with clean_db.session() as s:
        orphans = s.scalar(text("SELECT count(*) FROM sparse_postings sp WHERE NOT EXISTS ("
                                "SELECT 1 FROM chunks c WHERE c.id = sp.chunk_id)"))
    assert orphans == 0
    _check_places(clean_db)
