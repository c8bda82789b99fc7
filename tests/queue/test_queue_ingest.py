"""Ingest with the queue switched on (HOMERAG_EMBED_QUEUE=true): passages are stored without
vectors and queued, nothing of them is searchable until `homerag worker` (the real command, in
its own process) has embedded them; vectors stored for the same text are reused at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from qsupport import counts, write_corpus
from sqlalchemy import text

from app.retrieval import search
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.sources.folder import FolderSource

LEX = LexicalHashEmbedder()


def _homerag(settings, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOMERAG_DATABASE_URL": settings.database_url,
           "HOMERAG_DATA_DIR": str(settings.data_dir), "HOMERAG_EMBEDDER": "lexical-hash"}
    return subprocess.run([sys.executable, "-m", "app", *args], env=env, capture_output=True,
                          text=True, timeout=300, cwd=settings.data_dir)


def test_queued_ingest_then_worker_command(clean_db, settings, tmp_path):
    from app.services.runtime import Runtime
    from app.services.sync import sync

    rt = Runtime(settings=settings.model_copy(update={"embed_queue": True}), db=clean_db)
    root = write_corpus(tmp_path / "notes")
    result = sync(rt, [FolderSource("notes", root)])
    assert result.completed and result.reports[0].counts["indexed"] == 14
    c = counts(clean_db)
    assert c["chunks"] > 0 and c["vectors"] == 0 and c["pending"] == c["chunks"]
    with clean_db.session() as s:
        assert search(s, LEX, "gym contract K-1000", top_k=5) == []  # nothing half-searchable
        assert s.scalar(text("SELECT status FROM embedding_spaces")) == "active"

    status = _homerag(settings, "worker", "--status", "--json")
    assert status.returncode == 0, status.stderr
    (space,) = json.loads(status.stdout)["spaces"]
    assert space["pending_chunks"] == c["chunks"] and space["pending_documents"] == 14

    run = _homerag(settings, "worker", "--drain", "--batch", "8", "--json")
    assert run.returncode == 0, run.stderr
    lines = [json.loads(ln) for ln in run.stdout.splitlines()]
    summary = lines[-1]
    assert summary["chunks"] == c["chunks"] and summary["texts"] == c["jobs"]
    assert sum(b["chunks"] for b in lines[:-1]) == c["chunks"]
    after = counts(clean_db)
    assert after["vectors"] == c["chunks"] and after["pending"] == after["jobs"] == 0
    with clean_db.session() as s:
        hits = search(s, LEX, "gym contract K-1000", top_k=5)
    assert hits[0].path.endswith("note-00.txt")

    # A re-sync: a changed note is queued again; a new file repeating a stored text reuses its
    # vector at once (no queue, searchable straight away).
    (root / "note-01.txt").write_text("The phone contract was cancelled in June.", "utf-8")
    (root / "copy-c.txt").write_text((root / "copy-a.txt").read_text("utf-8"), "utf-8")
    sync(rt, [FolderSource("notes", root)])
    with clean_db.session() as s:
        waiting = s.execute(text(
            "SELECT d.origin FROM embedding_pending p JOIN documents d ON d.id = p.document_id"
        )).scalars().all()
        assert [o.rsplit("/", 1)[-1] for o in waiting] == ["note-01.txt"]
        assert search(s, LEX, "Identical boilerplate automatically", top_k=5)
        assert not any(h.path.endswith("note-01.txt")
                       for h in search(s, LEX, "phone contract cancelled June", top_k=5))
    run = _homerag(settings, "worker", "--drain", "--json")
    assert run.returncode == 0 and json.loads(run.stdout.splitlines()[-1])["texts"] == 1
    with clean_db.session() as s:
        hits = search(s, LEX, "phone contract cancelled June", top_k=1)
    assert hits[0].path.endswith("note-01.txt")


def test_worker_stops_cleanly_on_sigterm(clean_db, settings, tmp_path):
    import signal
    import time

    from qsupport import ingest

    ingest(clean_db, write_corpus(tmp_path / "notes", {"a.txt": "one note"}))
    env = {**os.environ, "HOMERAG_DATABASE_URL": settings.database_url,
           "HOMERAG_DATA_DIR": str(settings.data_dir), "HOMERAG_EMBEDDER": "lexical-hash"}
    proc = subprocess.Popen([sys.executable, "-m", "app", "worker", "--json"], env=env,
                            cwd=settings.data_dir, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:  # waiting (nothing queued) once its row is there
            with clean_db.session() as s:
                if s.scalar(text("SELECT count(*) FROM embedding_workers "
                                 "WHERE status = 'running'")):
                    break
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert json.loads(out.splitlines()[-1])["chunks"] == 0
    with clean_db.session() as s:
        assert s.scalar(text("SELECT status FROM embedding_workers")) == "stopped"
