"""Two worker processes drain one queue; one is SIGKILLed mid-batch. The other finishes
everything: each text embedded and stored exactly once, the killed batch taken over after its
lease ran out (not before: a live worker's lease is renewed by its heartbeat)."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from qsupport import counts, ingest, pend, write_corpus
from sqlalchemy import text

from app.retrieval import search
from ingest.embedders.lexical import LexicalHashEmbedder

HERE = Path(__file__).resolve().parent
LEASE_S = 3.0


def _spawn(settings, log: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "HOMERAG_DATABASE_URL": settings.database_url,
           "HOMERAG_DATA_DIR": str(settings.data_dir), "HOMERAG_EMBEDDER": "lexical-hash",
           "HOMERAG_EMBED_LEASE_S": str(LEASE_S)}
    return subprocess.Popen([sys.executable, str(HERE / "worker_proc.py"), str(log), *extra],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _lines(log: Path, kind: str) -> list[list[str]]:
    if not log.exists():
        return []
    return [ln.split()[1:] for ln in log.read_text().splitlines() if ln.startswith(kind + " ")]


def _wait_for(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_sigkill_mid_batch_other_worker_finishes_everything_exactly_once(
        clean_db, settings, tmp_path):
    from app.services.embed_queue import queue_status
    from app.services.runtime import Runtime

    ingest(clean_db, write_corpus(tmp_path / "notes"))
    pend(clean_db)
    before = counts(clean_db)
    with clean_db.session() as s:
        rows = s.execute(text("SELECT content_hash, heading, text FROM chunks")).all()
    digest_of = {h: hashlib.sha256((f"{hd}\n{t}" if hd else t).encode()).hexdigest()
                 for h, hd, t in rows}
    assert before["jobs"] == len(digest_of) >= 20

    log_a, log_b = tmp_path / "a.log", tmp_path / "b.log"
    a = _spawn(settings, log_a, "--hang-at", "2", "--delay", "0.2")
    b = _spawn(settings, log_b, "--delay", "0.4")
    try:
        # A commits its first batch, then hangs inside its second: claimed, leased, unstored.
        _wait_for(lambda: len(_lines(log_a, "start")) >= 2, 120, "worker A's second batch")
        time.sleep(LEASE_S * 1.5)  # longer than a lease: A's heartbeat keeps it
        killed = set(_lines(log_a, "start")[1][1:])
        b_so_far = {d for ln in _lines(log_b, "start") for d in ln[1:]}
        assert not killed & b_so_far, "a live worker's batch was taken over"
        os.kill(a.pid, signal.SIGKILL)
        a.wait(timeout=30)
        out_b, _ = b.communicate(timeout=180)
    finally:
        for p in (a, b):
            if p.poll() is None:
                p.kill()
                p.wait()
    assert a.returncode == -signal.SIGKILL
    assert b.returncode == 0, out_b
    assert not _lines(log_b, "trouble") and not _lines(log_a, "trouble")

    # Storage: every chunk has exactly one vector row; nothing left in the queue.
    after = counts(clean_db)
    assert after["vectors"] == after["distinct_vectors"] == before["chunks"]
    assert after["pending"] == after["jobs"] == 0

    # Exactly once: the committed batches of A and B partition the texts.
    committed_a = {h for ln in _lines(log_a, "commit") for h in ln}
    committed_b = {h for ln in _lines(log_b, "commit") for h in ln}
    assert committed_a and not committed_a & committed_b
    assert committed_a | committed_b == set(digest_of)
    # B embedded each text once, never one A had stored, and took over the killed batch.
    embedded_b = [d for ln in _lines(log_b, "start") for d in ln[1:]]
    assert len(embedded_b) == len(set(embedded_b))
    assert not set(embedded_b) & {digest_of[h] for h in committed_a}
    assert killed <= set(embedded_b)
    assert set(embedded_b) == {digest_of[h] for h in committed_b}

    # The killed worker shows as lost once its heartbeat is two leases old.
    rt = Runtime(settings=settings.model_copy(update={"embed_lease_s": LEASE_S}), db=clean_db)

    def a_lost() -> bool:
        states = {w["pid"]: w["state"] for w in queue_status(rt)["workers"]}
        return states.get(a.pid) == "lost"

    _wait_for(a_lost, LEASE_S * 4, "the killed worker to show as lost")
    assert {w["state"] for w in queue_status(rt)["workers"] if w["pid"] == b.pid} == {"stopped"}
    with clean_db.session() as s:
        hits = search(s, LexicalHashEmbedder(), "radio contract K-1011", top_k=3)
    assert hits[0].path.endswith("note-11.txt")
