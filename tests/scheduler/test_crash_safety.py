"""Crash safety: `homerag ingest` killed with SIGKILL mid-sync, then run again, leaves every
item indexed exactly once and no half-written document (the real CLI, the test database)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from app.core.models import Chunk, Document, IngestRun, SourceItem
from tests.support.postings import postings_mismatches

N_FILES = 500
WORDS = ["Vertrag", "Rechnung", "Heizung", "Strom", "Miete", "Versicherung", "invoice", "contract", "boiler", "tariff", "notice", "renewal", "payment", "account", "statement", "letter"]


def _corpus(root: Path) -> Path:
    folder = root / "corpus"
    folder.mkdir()
    for i in range(N_FILES):
        body = " ".join(WORDS[(i * 7 + j) % len(WORDS)] + str(j % 13) for j in range(700))
        (folder / f"note-{i:04d}.md").write_text(f"# Note {i}\n\n{body}\n\nEnd of note {i}.\n")
    return folder


def _env(pg_url: str, data_dir: Path, bulk_min_items: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMERAG_")}
    env.update(HOMERAG_DATABASE_URL=pg_url, HOMERAG_DATA_DIR=str(data_dir),
               HOMERAG_EMBEDDER="lexical-hash", HOMERAG_BULK_INDEX_MIN_ITEMS=str(bulk_min_items))
    return env


def _hnsw_indexes(db) -> int:
    """The space's search indexes present: its dense graph and its postings' B-tree."""
    with db.session() as s:
        return s.scalar(text("SELECT count(*) FROM pg_indexes "
                             "WHERE indexname LIKE 'ix_chunk_embeddings_space_%' "
                             "OR indexname LIKE 'ix_sparse_postings_space_%'")) or 0


def _consistency(db) -> None:
    """Every stored document is whole: its chunks, their vectors and its ledger row agree."""
    with db.session() as s:
        bad = s.execute(text("""
            SELECT d.origin, count(c.id) AS chunks, si.chunk_count, count(e.chunk_id) AS vectors
            FROM documents d
            LEFT JOIN chunks c ON c.document_id = d.id
            LEFT JOIN chunk_embeddings e ON e.chunk_id = c.id
            LEFT JOIN source_items si ON si.document_id = d.id
            GROUP BY d.id, si.chunk_count
            HAVING count(c.id) = 0 OR si.chunk_count IS NULL OR count(c.id) <> si.chunk_count
                OR count(e.chunk_id) <> count(c.id)
        """)).all()
        assert bad == []
        orphans = s.scalar(select(func.count()).select_from(SourceItem).where(
            SourceItem.status == "indexed", SourceItem.document_id.is_(None)))
        assert orphans == 0


@pytest.mark.parametrize("bulk_min_items", [0, 20], ids=["live-index", "bulk-import"])
def test_sigkill_mid_sync_then_rerun_indexes_everything_exactly_once(clean_db, pg_url, data_dir,
                                                                      tmp_path, bulk_min_items):
    """With bulk_min_items=20 the kill lands after the import dropped its HNSW indexes."""
    folder = _corpus(tmp_path)
    env = _env(pg_url, data_dir, bulk_min_items)
    cmd = [sys.executable, "-m", "app", "ingest", str(folder), "--json"]
    proc = subprocess.Popen(cmd, env=env, cwd=data_dir, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    killed_at = 0
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            with clean_db.session() as s:
                killed_at = s.scalar(select(func.count()).select_from(Document)) or 0
            bulk_started = bulk_min_items and killed_at and _hnsw_indexes(clean_db) == 0
            if killed_at >= 50 and (not bulk_min_items or bulk_started):
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.05)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "ingest finished before it could be killed"
    assert 0 < killed_at < N_FILES
    assert _hnsw_indexes(clean_db) == (0 if bulk_min_items else 2)
    _consistency(clean_db)  # nothing half-written, even right after the kill
    with clean_db.session() as s:
        assert s.scalar(select(IngestRun.status)) == "running"  # it never got to say otherwise

    done = subprocess.run(cmd, env=env, cwd=data_dir, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    _consistency(clean_db)
    with clean_db.session() as s:
        origins = s.scalars(select(Document.origin)).all()
        assert len(origins) == N_FILES and len(set(origins)) == N_FILES
        assert s.scalar(select(func.count(func.distinct(Chunk.document_id)))) == N_FILES
        statuses = s.scalars(select(IngestRun.status).order_by(IngestRun.id)).all()
        assert statuses == ["interrupted", "completed"]
    assert _hnsw_indexes(clean_db) == 2  # the rerun built what the killed import had dropped
    assert postings_mismatches(clean_db) == []  # and every vector has exactly its postings
    # And once more: nothing left to do.
    again = subprocess.run(cmd, env=env, cwd=data_dir, capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 0 and f'"unchanged": {N_FILES}' in again.stdout, again.stdout
