"""Bulk imports: HNSW indexes dropped after `bulk_min_items` new documents and built at the end;
rebuilt by the next run when a bulk import died; left alone while another one is running."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, text

from app.core.models import ChunkEmbedding, Document, EmbeddingSpace
from app.retrieval import search
from ingest import bulk
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources.folder import FolderSource

TOPICS = ["boiler service", "car insurance", "gym membership", "electricity tariff",
          "rent increase", "dentist invoice", "school trip", "garden fence"]


def _notes(folder: Path, n: int, start: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + n):
        topic = TOPICS[i % len(TOPICS)]
        (folder / f"note-{i:03d}.md").write_text(
            f"# Note {i} about the {topic}\n\nReference HR-{i:05d}. The {topic} costs "
            f"{10 + i} euros per month and was agreed with vendor{i}.\n", encoding="utf-8")
    return folder


def _index_oids(db, space_id: int) -> dict[str, int]:
    with db.session() as s:
        rows = s.execute(text(
            "SELECT c.relname, c.oid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
            "WHERE (c.relname LIKE :p OR c.relname = :q) AND i.indisvalid"),
            {"p": f"ix_chunk_embeddings_space_{space_id}_%",
             "q": f"ix_sparse_postings_space_{space_id}"}).all()
    return {name: int(oid) for name, oid in rows}


def _space_id(db) -> int:
    with db.session() as s:
        return int(s.scalar(select(EmbeddingSpace.id)))


def _pipeline(db, **opts) -> Pipeline:
    return Pipeline(db, embedder=LexicalHashEmbedder(),
                    options=IngestOptions(embed_batch_chunks=8, **opts))


def test_large_import_rebuilds_the_indexes_once_and_search_finds_every_note(clean_db, tmp_path):
    folder = _notes(tmp_path / "notes", 4)
    _pipeline(clean_db, bulk_min_items=20).run(FolderSource("notes", folder))
    space_id = _space_id(clean_db)
    before = _index_oids(clean_db, space_id)
    assert len(before) == 2

    _notes(folder, 60, start=4)
    report = _pipeline(clean_db, bulk_min_items=20).run(FolderSource("notes", folder))

    assert report.status == "completed" and report.counts["indexed"] == 60
    assert report.index_build_s is not None  # went through the bulk path
    after = _index_oids(clean_db, space_id)
    assert set(after) == set(before) and after != before  # dropped, then built again
    with clean_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 64
        vectors = s.scalar(select(func.count()).select_from(ChunkEmbedding))
        assert vectors >= 64
        # The index is used and complete: each note is found by its own reference number.
        s.execute(text("SET LOCAL enable_seqscan = off"))
        for i in (0, 3, 17, 42, 63):
            hits = search(s, LexicalHashEmbedder(), f"HR-{i:05d} vendor{i}", top_k=3)
            assert hits and hits[0].path.endswith(f"note-{i:03d}.md")


def test_small_update_to_a_larger_index_keeps_the_indexes(clean_db, tmp_path):
    folder = _notes(tmp_path / "notes", 60)
    _pipeline(clean_db, bulk_min_items=0).run(FolderSource("notes", folder))
    space_id = _space_id(clean_db)
    before = _index_oids(clean_db, space_id)

    _notes(folder, 20, start=60)  # 20 new notes reach the threshold, but 80 rows are > 2 x 20
    report = _pipeline(clean_db, bulk_min_items=20).run(FolderSource("notes", folder))

    assert report.counts["indexed"] == 20 and report.index_build_s is None
    assert _index_oids(clean_db, space_id) == before


def test_indexes_lost_by_a_killed_bulk_import_are_built_by_the_next_run(clean_db, tmp_path):
    folder = _notes(tmp_path / "notes", 5)
    pipeline = _pipeline(clean_db)
    pipeline.run(FolderSource("notes", folder))
    space_id = _space_id(clean_db)
    with clean_db.session() as s:  # what a SIGKILL between drop and build leaves behind
        s.execute(text(f"DROP INDEX ix_chunk_embeddings_space_{space_id}_dense"))
        s.execute(text(f"DROP INDEX ix_sparse_postings_space_{space_id}"))
    assert _index_oids(clean_db, space_id) == {}

    report = pipeline.run(FolderSource("notes", folder))  # nothing changed in the folder

    assert report.counts["unchanged"] == 5
    assert len(_index_oids(clean_db, space_id)) == 2


def test_indexes_of_a_bulk_import_still_running_are_left_to_it(clean_db, tmp_path):
    folder = _notes(tmp_path / "notes", 5)
    pipeline = _pipeline(clean_db)
    pipeline.run(FolderSource("notes", folder))
    space_id = _space_id(clean_db)
    with clean_db.engine.connect() as loader:  # another process, mid-import
        loader.execute(text("SELECT pg_advisory_lock(hashtext(:k))"),
                       {"k": f"homerag:bulk:{space_id}"})
        loader.commit()
        with clean_db.session() as s:
            s.execute(text(f"DROP INDEX ix_sparse_postings_space_{space_id}"))
        pipeline.run(FolderSource("notes", folder))
        assert set(_index_oids(clean_db, space_id)) == {
            f"ix_chunk_embeddings_space_{space_id}_dense"}
        loader.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"),
                       {"k": f"homerag:bulk:{space_id}"})
        loader.commit()
    pipeline.run(FolderSource("notes", folder))
    assert len(_index_oids(clean_db, space_id)) == 2


def test_a_failing_bulk_import_still_builds_its_indexes(clean_db, tmp_path, monkeypatch):
    folder = _notes(tmp_path / "notes", 40)
    pipeline = _pipeline(clean_db, bulk_min_items=10)
    calls = {"n": 0}
    original = pipeline.embedder.embed_documents

    def embed_then_break(texts):
        calls["n"] += 1
        if calls["n"] > 3:  # after bulk mode began: the embedder goes away mid-import
            from app.core.errors import EmbedderUnavailableError

            raise EmbedderUnavailableError("the GPU fell off the bus")
        return original(texts)

    monkeypatch.setattr(pipeline.embedder, "embed_documents", embed_then_break)
    report = pipeline.run(FolderSource("notes", folder))

    assert report.status == "failed" and "GPU" in (report.error or "")
    assert report.index_build_s is not None
    assert len(_index_oids(clean_db, _space_id(clean_db))) == 2


def test_missing_indexes_names_exactly_the_dropped_one(clean_db, tmp_path):
    _pipeline(clean_db).run(FolderSource("notes", _notes(tmp_path / "notes", 3)))
    space_id = _space_id(clean_db)
    with clean_db.engine.connect() as conn:
        assert bulk.missing_indexes(conn, space_id) == []
        conn.execute(text(f"DROP INDEX ix_chunk_embeddings_space_{space_id}_dense"))
        assert bulk.missing_indexes(conn, space_id) == [
            f"ix_chunk_embeddings_space_{space_id}_dense"]
        conn.rollback()


def test_first_import_into_an_empty_space_builds_the_indexes_at_the_end(clean_db, tmp_path):
    """No graph to keep current: the first batch already goes the bulk way, whatever the
    threshold, and search uses the indexes built at the end."""
    folder = _notes(tmp_path / "notes", 30)
    report = _pipeline(clean_db, bulk_min_items=2000).run(FolderSource("notes", folder))
    assert report.status == "completed" and report.counts["indexed"] == 30
    assert report.index_build_s is not None
    space_id = _space_id(clean_db)
    assert len(_index_oids(clean_db, space_id)) == 2
    with clean_db.session() as s:
        # The postings were vacuumed with the build: their pages are all-visible, so the
        # sparse stage's index-only scans need not visit the table.
        pages, visible = s.execute(text(
            "SELECT relpages, relallvisible FROM pg_class WHERE relname = 'sparse_postings'")).one()
        assert pages > 0 and visible == pages
        s.execute(text("SET LOCAL enable_seqscan = off"))
        hits = search(s, LexicalHashEmbedder(), "HR-00017 vendor17", top_k=3)
        assert hits and hits[0].path.endswith("note-017.md")

    _notes(folder, 5, start=30)  # then a small update to the now larger index stays live
    before = _index_oids(clean_db, space_id)
    again = _pipeline(clean_db, bulk_min_items=2000).run(FolderSource("notes", folder))
    assert again.counts["indexed"] == 5 and again.index_build_s is None
    assert _index_oids(clean_db, space_id) == before


def test_bulk_load_off_keeps_the_indexes_even_for_a_first_import(clean_db, tmp_path):
    report = _pipeline(clean_db, bulk_min_items=0).run(
        FolderSource("notes", _notes(tmp_path / "notes", 12)))
    assert report.counts["indexed"] == 12 and report.index_build_s is None
