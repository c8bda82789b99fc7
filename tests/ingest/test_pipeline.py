"""The ingest pipeline against the real embedded PostgreSQL: incremental, atomic, resilient."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from app.core.errors import BusyError
from app.core.models import Chunk, ChunkEmbedding, Document, IngestItem, IngestRun, SourceItem
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources.folder import FolderSource


class CountingEmbedder(LexicalHashEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    def embed_documents(self, texts):
        self.embedded.extend(texts)
        return super().embed_documents(texts)


class CountingParsers:
    """Wraps the default parsers and counts parse() calls (in a file: parsing runs in worker
    processes, which append one line per call)."""

    def __init__(self, log: Path) -> None:
        from ingest.parsers import DEFAULT_PARSERS

        self.log = log
        log.touch()

        class Wrapped:
            def __init__(self, inner) -> None:
                self.inner = inner
                self.name, self.version = inner.name, inner.version

            def score(self, inp):
                return self.inner.score(inp)

            def parse(self, inp):
                with open(log, "a", encoding="utf-8") as fh:
                    fh.write(inp.item.origin + "\n")
                return self.inner.parse(inp)

        self.parsers = [Wrapped(p) for p in DEFAULT_PARSERS]

    @property
    def calls(self) -> list[str]:
        return self.log.read_text(encoding="utf-8").splitlines()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "gym.md").write_text(
        "# Gym membership\n\nThe gym contract renews every twelve months. "
        "The notice period is three months before renewal.\n", encoding="utf-8")
    (root / "car.txt").write_text(
        "Car insurance policy. The annual premium is 612 euros, paid in January.\n",
        encoding="utf-8")
    sub = root / "letters"
    sub.mkdir()
    (sub / "landlord.txt").write_text(
        "Dear tenant, the rent rises to 950 euros from March. Kind regards, your landlord.\n",
        encoding="utf-8")
    return root


@pytest.fixture
def run(clean_db, tmp_path: Path):
    embedder = CountingEmbedder()
    counting = CountingParsers(tmp_path / "parse-calls.log")

    def _run(folder: Path, **opts):
        options = IngestOptions(originals_dir=tmp_path / "originals", **opts)
        pipeline = Pipeline(clean_db, embedder=embedder, parsers=counting.parsers,
                            options=options)
        return pipeline.run(FolderSource("docs", folder))

    _run.embedder = embedder  # type: ignore[attr-defined]
    _run.parsers = counting  # type: ignore[attr-defined]
    return _run


def _count(db, model) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_ingest_folder_indexes_every_file_with_chunks_and_vectors(run, folder, clean_db):
    report = run(folder)
    assert report.status == "completed"
    assert report.counts["indexed"] == 3 and report.counts["failed"] == 0
    assert _count(clean_db, Document) == 3
    chunks = _count(clean_db, Chunk)
    assert chunks >= 3
    assert _count(clean_db, ChunkEmbedding) == chunks
    with clean_db.session() as s:
        doc = s.scalar(select(Document).where(Document.origin.endswith("gym.md")))
        assert doc.title and "Gym" in doc.title
        for chunk in s.scalars(select(Chunk).where(Chunk.document_id == doc.id)):
            assert doc.content[chunk.char_start:chunk.char_end] == chunk.text
        assert doc.blob_path and doc.sha256 in doc.blob_path


def test_reingest_of_unchanged_folder_parses_and_embeds_nothing(run, folder):
    run(folder)
    parsed, embedded = len(run.parsers.calls), len(run.embedder.embedded)
    report = run(folder)
    assert report.counts["unchanged"] == 3 and report.counts["indexed"] == 0
    assert len(run.parsers.calls) == parsed
    assert len(run.embedder.embedded) == embedded


def test_touched_file_with_same_bytes_is_hashed_but_not_parsed(run, folder):
    run(folder)
    path = folder / "car.txt"
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 100))
    parsed = len(run.parsers.calls)
    report = run(folder)
    assert report.counts["unchanged"] == 3
    assert len(run.parsers.calls) == parsed


def test_touched_file_stat_is_remembered_for_the_next_run(run, folder, clean_db):
    run(folder)
    path = folder / "car.txt"
    new_mtime = path.stat().st_mtime + 100
    os.utime(path, (path.stat().st_atime, new_mtime))
    run(folder)  # hashes car.txt once and records its new stat (batched at the end of the run)
    with clean_db.session() as s:
        stored = s.scalar(select(SourceItem.mtime).where(SourceItem.origin == str(path)))
    assert stored == pytest.approx(new_mtime)


def test_changed_file_replaces_its_chunks_and_keeps_its_id(run, folder, clean_db):
    run(folder)
    with clean_db.session() as s:
        doc_id = s.scalar(select(Document.id).where(Document.origin.endswith("car.txt")))
    (folder / "car.txt").write_text("Car insurance moved to a new insurer: premium 540 euros.\n",
                                    encoding="utf-8")
    report = run(folder)
    assert report.counts["indexed"] == 1 and report.counts["unchanged"] == 2
    with clean_db.session() as s:
        doc = s.get(Document, doc_id)
        assert "540 euros" in doc.content
        texts = s.scalars(select(Chunk.text).where(Chunk.document_id == doc_id)).all()
        assert texts and all("612" not in t for t in texts)
        orphans = s.scalar(text("SELECT count(*) FROM chunk_embeddings ce "
                                "LEFT JOIN chunks c ON c.id = ce.chunk_id WHERE c.id IS NULL"))
        assert orphans == 0


def test_identical_content_is_embedded_once(run, folder):
    (folder / "copy-of-car.txt").write_bytes((folder / "car.txt").read_bytes())
    run(folder)
    assert len(run.embedder.embedded) == len(set(run.embedder.embedded))


def test_bad_file_is_recorded_and_the_run_carries_on(run, folder, clean_db):
    (folder / "broken.txt").write_bytes(bytes(range(256)) * 40)  # binary disguised as text
    report = run(folder)
    assert report.status == "completed"
    assert report.counts["indexed"] == 3 and report.counts["failed"] == 1
    problem = report.problems[0]
    assert problem.origin.endswith("broken.txt") and "broken.txt" in problem.message
    with clean_db.session() as s:
        item = s.scalar(select(SourceItem).where(SourceItem.origin.endswith("broken.txt")))
        assert item.status == "failed" and item.code and item.message
        assert s.scalar(select(func.count()).select_from(IngestItem)
                        .where(IngestItem.status == "failed")) == 1


def test_failed_rewrite_keeps_the_previous_version_searchable(run, folder, clean_db):
    run(folder)
    (folder / "car.txt").write_bytes(b"\x00\x01\x02\xff" * 500)
    report = run(folder)
    assert report.counts["failed"] == 1
    with clean_db.session() as s:
        doc = s.scalar(select(Document).where(Document.origin.endswith("car.txt")))
        assert "612 euros" in doc.content
        assert s.scalar(select(func.count()).select_from(Chunk)
                        .where(Chunk.document_id == doc.id)) >= 1


def test_unchanged_failed_file_is_not_retried_unless_asked(run, folder):
    (folder / "broken.txt").write_bytes(bytes(range(256)) * 40)
    run(folder)
    calls = len(run.parsers.calls)
    assert run(folder).counts["unchanged"] == 4
    assert len(run.parsers.calls) == calls
    report = run(folder, retry_failed=True)
    assert report.counts["failed"] == 1 and len(run.parsers.calls) == calls + 1


def test_deleted_file_is_removed_from_the_index(run, folder, clean_db):
    run(folder)
    (folder / "letters" / "landlord.txt").unlink()
    report = run(folder)
    assert report.counts["removed"] == 1
    with clean_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 2
        assert s.scalar(select(func.count()).select_from(SourceItem)) == 2


def test_missing_folder_fails_the_run_and_removes_nothing(run, folder, clean_db, tmp_path):
    run(folder)
    moved = tmp_path / "elsewhere"
    folder.rename(moved)
    report = run(folder)
    assert report.status == "failed" and "not found" in report.error
    assert _count(clean_db, Document) == 3


def test_busy_source_is_refused_without_waiting(run, folder, clean_db):
    with clean_db.engine.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(hashtext('homerag:source:docs'))"))
        with pytest.raises(BusyError, match="docs"):
            run(folder, wait_for_lock=False)
        other.execute(text("SELECT pg_advisory_unlock(hashtext('homerag:source:docs'))"))
    assert run(folder).status == "completed"


def test_run_left_running_by_a_killed_process_is_marked_interrupted(run, folder, clean_db):
    first = run(folder)
    with clean_db.session() as s:
        s.execute(text("UPDATE ingest_runs SET status = 'running', finished_at = NULL "
                       "WHERE id = :i"), {"i": first.run_id})
    run(folder)
    with clean_db.session() as s:
        assert s.get(IngestRun, first.run_id).status == "interrupted"


def test_a_new_parser_version_parses_its_documents_again(run, folder):
    run(folder)
    text_parsers = [p for p in run.parsers.parsers if p.name == "text"]
    assert text_parsers
    for p in text_parsers:
        p.version = p.version + "-next"
    calls = len(run.parsers.calls)
    report = run(folder)
    assert report.counts["indexed"] == 3 and len(run.parsers.calls) == calls + 3
    assert run(folder).counts["unchanged"] == 3  # and then they are settled again


def test_reparse_option_parses_everything_again(run, folder):
    run(folder)
    assert run(folder, reparse=True).counts["indexed"] == 3


def test_mbox_in_a_folder_read_only_in_part_keeps_its_other_messages(clean_db, tmp_path,
                                                                     monkeypatch, caplog):
    """A mail store that cannot be read to its end is not taken for deleted mail."""
    import mailbox

    from ingest.sources.mbox import MboxSource
    from tests.mail.mailgen import build_message

    folder = tmp_path / "docs"
    folder.mkdir()
    box = mailbox.mbox(folder / "Archive.mbox")
    for i in range(3):
        msg = mailbox.mboxMessage(build_message(subject=f"Invoice {i}",
                                                message_id=f"<inv{i}@example.org>",
                                                body=f"Invoice number {i} for 4{i} euros."))
        msg.set_from("shop@example.org", (2024, 5, 1 + i, 9, 0, 0, 0, 1, 0))
        box.add(msg)
    box.flush()
    box.close()

    def pipeline():
        return Pipeline(clean_db, embedder=LexicalHashEmbedder(), options=IngestOptions())

    first = pipeline().run(FolderSource("docs", folder))
    assert first.counts["indexed"] == 3

    real_scan = MboxSource.scan

    def scan_then_break(self, known):
        for n, item in enumerate(real_scan(self, known)):
            if n == 1:
                raise OSError("disk read error")
            yield item

    monkeypatch.setattr(MboxSource, "scan", scan_then_break)
    again = pipeline().run(FolderSource("docs", folder))
    assert again.status == "completed"
    assert again.counts["unchanged"] == 3 and again.counts["removed"] == 0
    assert "not read to its end" in caplog.text
    assert _count(clean_db, Document) == 3
