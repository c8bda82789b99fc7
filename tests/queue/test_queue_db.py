"""The embedding queue's protocol on the real embedded PostgreSQL: enqueue, claim with leases,
complete, expiry and take-over, reuse by content hash, failures, and what search sees."""

from __future__ import annotations

import threading
import time

import pytest
from qsupport import CountingEmbedder, counts, ingest, pend, space_id, write_corpus
from sqlalchemy import text

from app.retrieval import search
from ingest import queue
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.queue_worker import QueueWorker
from tests.support.postings import postings_count, postings_mismatches

LEX = LexicalHashEmbedder()


@pytest.fixture
def queued(clean_db, tmp_path):
    """The corpus ingested, then every document back in the queue (vectors gone)."""
    ingest(clean_db, write_corpus(tmp_path / "notes"))
    pend(clean_db)
    return clean_db


def _worker(db, emb=None, **kw) -> QueueWorker:
    opts = {"batch": 4, "lease_s": 30.0, "max_attempts": 3, "poll_s": 0.05} | kw
    return QueueWorker(db, emb or CountingEmbedder(), space_id=space_id(db),
                       sparse_dim=LEX.sparse_dim, **opts)


def test_enqueue_one_job_per_distinct_text(queued):
    c = counts(queued)
    assert c["vectors"] == 0 and c["pending"] == c["chunks"] > 0
    with queued.session() as s:
        distinct = s.scalar(text("SELECT count(DISTINCT content_hash) FROM chunks"))
    assert c["jobs"] == distinct < c["chunks"]  # the two copies share their text


def test_search_hides_a_document_until_all_its_chunks_have_vectors(queued):
    sid = space_id(queued)
    with queued.session() as s:
        assert search(s, LEX, "gym contract K-1000", top_k=5) == []  # full text would match
    # Give one of the gym note's two chunks its vector: still hidden (document-level).
    with queued.session() as s:
        doc = s.scalar(text("SELECT id FROM documents WHERE origin LIKE '%note-00.txt'"))
        chunk_id, body = s.execute(text(
            "SELECT c.id, c.text FROM chunks c WHERE c.document_id = :d ORDER BY ordinal "
            "LIMIT 1"), {"d": doc}).one()
        emb = LEX.embed_documents([body])[0]
        from app.core.vectors import to_halfvec, to_sparsevec

        s.execute(text("INSERT INTO chunk_embeddings VALUES (:s, :c, CAST(:d AS halfvec), "
                       "CAST(:sp AS sparsevec))"),
                  {"s": sid, "c": chunk_id, "d": to_halfvec(emb.dense).to_text(),
                   "sp": to_sparsevec(emb.sparse, LEX.sparse_dim).to_text()})
        s.execute(text("DELETE FROM embedding_pending WHERE chunk_id = :c"), {"c": chunk_id})
    with queued.session() as s:
        assert s.scalar(text("SELECT count(*) FROM embedding_pending WHERE document_id = :d"),
                        {"d": doc}) >= 1
        assert search(s, LEX, "gym contract K-1000", top_k=5) == []
    _worker(queued).run(drain=True)
    with queued.session() as s:
        hits = search(s, LEX, "gym contract K-1000", top_k=5)
    assert hits and hits[0].path.endswith("note-00.txt")


def test_worker_drains_everything_once_and_reuses_shared_texts(queued):
    before = counts(queued)
    emb = CountingEmbedder()
    report = _worker(queued, emb).run(drain=True)
    after = counts(queued)
    assert after["vectors"] == after["distinct_vectors"] == before["chunks"]
    assert after["pending"] == after["jobs"] == 0
    assert len(emb.embedded) == len(set(emb.embedded)) == before["jobs"]  # each text once
    assert report.chunks == before["chunks"] and report.texts == before["jobs"]
    assert postings_count(queued) > 0 and postings_mismatches(queued) == []
    with queued.session() as s:
        w = s.execute(text("SELECT status, texts, chunks, tokens FROM embedding_workers")).one()
    assert w[0] == "stopped" and w[1] == report.texts and w[2] == report.chunks and w[3] > 0


def test_stored_vector_of_the_same_text_is_reused_not_embedded(queued):
    _worker(queued).run(drain=True)
    pend(queued, "%copy-b.txt")  # its text is stored for copy-a
    emb = CountingEmbedder()
    report = _worker(queued, emb).run(drain=True)
    assert emb.embedded == [] and report.reused == 1 and report.chunks == 1
    assert counts(queued)["pending"] == 0
    assert postings_mismatches(queued) == []  # the reused vector's postings too


def test_claims_are_exclusive_between_concurrent_workers(queued):
    sid = space_id(queued)
    got: dict[str, list[str]] = {}

    def take(name: str) -> None:
        with queued.session() as s:
            got[name] = [c.content_hash for c in queue.claim(
                s, sid, name, limit=1000, lease_s=30, max_attempts=3)]
            time.sleep(0.3)  # both transactions open at once

    threads = [threading.Thread(target=take, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not set(got["a"]) & set(got["b"])
    assert len(got["a"]) + len(got["b"]) == counts(queued)["jobs"]


def test_expired_lease_is_taken_over_and_the_late_worker_writes_nothing(queued):
    sid = space_id(queued)
    with queued.session() as s:
        mine = queue.claim(s, sid, "dead", limit=3, lease_s=0.5, max_attempts=5)
    hashes = [c.content_hash for c in mine]
    with queued.session() as s:  # leased: nobody else gets them
        others = {c.content_hash for c in queue.claim(s, sid, "b", limit=1000, lease_s=30,
                                                      max_attempts=5)}
        assert not others & set(hashes)
        queue.release(s, sid, "b", sorted(others), error=None, max_attempts=5)
    time.sleep(0.8)
    with queued.session() as s:
        taken = [c for c in queue.claim(s, sid, "b", limit=1000, lease_s=30, max_attempts=5)
                 if c.content_hash in hashes]
    assert sorted(c.content_hash for c in taken) == sorted(hashes)
    assert all(c.attempts == 2 for c in taken)
    # The first worker comes back late: it no longer holds the lease, so it writes nothing.
    with queued.session() as s:
        texts = queue.texts_of(s, sid, hashes)
        vectors = dict(zip([t.content_hash for t in texts],
                           LEX.embed_documents([t.text for t in texts]), strict=True))
        done = queue.complete(s, sid, "dead", sparse_dim=LEX.sparse_dim, vectors=vectors,
                              done=hashes, posting_share=0.0)
    assert done.chunks == 0 and done.lost == sorted(hashes)
    assert counts(queued)["vectors"] == 0


class PickyEmbedder(CountingEmbedder):
    """Refuses any batch holding a text with the word 'radio' (a text the model chokes on)."""

    def embed_documents(self, texts):
        if any("radio" in t for t in texts):
            raise ValueError("token ids out of range")
        return super().embed_documents(texts)


def test_a_text_the_model_refuses_fails_alone_and_is_listed_after_its_attempts(queued):
    for _ in range(3):  # max_attempts=3; the back-off is skipped by clearing the wait
        w = _worker(queued, PickyEmbedder())
        while w.run_batch() is not None:
            pass
        with queued.session() as s:
            s.execute(text("UPDATE embedding_jobs SET lease_expires_at = NULL "
                           "WHERE failed_at IS NULL"))
    c = counts(queued)
    with queued.session() as s:
        failed = queue.failed_texts(s)
        radio = s.scalar(text("SELECT count(*) FROM chunks WHERE text LIKE '%radio%'"))
    assert c["pending"] == radio and c["jobs"] == len(failed) == radio
    assert all("token ids out of range" in f["reason"] and f["attempts"] == 3 for f in failed)
    assert all(f["origin"].endswith("note-11.txt") for f in failed)
    with queued.session() as s:
        hits = search(s, LEX, "radio contract K-1011", top_k=5)
        assert hits and not any(h.path.endswith("note-11.txt") for h in hits)  # never half in
        assert search(s, LEX, "gym contract", top_k=1)  # the others are in
        assert queue.retry_failed(s) == radio
    _worker(queued).run(drain=True)
    assert counts(queued)["pending"] == 0


def test_ingest_during_completion_strands_no_chunk(queued):
    """A worker completing text H while an ingest adds another chunk with text H: whichever
    commits first, the new chunk ends with its vector (see ingest/queue.py)."""
    sid = space_id(queued)
    with queued.session() as s:
        h, doc = s.execute(text("SELECT c.content_hash, c.document_id FROM chunks c JOIN "
                                "documents d ON d.id = c.document_id "
                                "WHERE d.origin LIKE '%copy-a.txt'")).one()
        claimed = queue.claim(s, sid, "w", limit=1000, lease_s=30, max_attempts=5)
    assert h in {c.content_hash for c in claimed}
    # The ingest's transaction: a new chunk (copy-c) with text H, pending, job upserted; open.
    ingest_conn = queued.engine.connect()
    tx = ingest_conn.begin()
    new_doc = ingest_conn.execute(text(
        "INSERT INTO documents (source_id, origin, sha256, size_bytes, media_type, kind) "
        "SELECT source_id, origin || '-c', sha256, size_bytes, media_type, kind FROM documents "
        "WHERE id = :d RETURNING id"), {"d": doc}).scalar()
    ingest_conn.execute(text(
        "INSERT INTO chunks (document_id, ordinal, text, heading, char_start, char_end, "
        "token_count, content_hash) SELECT :n, ordinal, text, heading, char_start, char_end, "
        "token_count, content_hash FROM chunks WHERE document_id = :d"), {"n": new_doc, "d": doc})
    from sqlalchemy.orm import Session

    with Session(bind=ingest_conn) as ingest_session:
        queue.enqueue_documents(ingest_session, sid, [new_doc])
        ingest_session.flush()
    finished = threading.Event()

    def complete_all() -> None:
        with queued.session() as s:
            hashes = [c.content_hash for c in claimed]
            texts = queue.texts_of(s, sid, hashes)
            vectors = dict(zip([t.content_hash for t in texts],
                               LEX.embed_documents([t.text for t in texts]), strict=True))
            queue.complete(s, sid, "w", sparse_dim=LEX.sparse_dim, vectors=vectors, done=hashes,
                           posting_share=0.0)
        finished.set()

    t = threading.Thread(target=complete_all)
    t.start()
    time.sleep(0.5)
    assert not finished.is_set()  # the worker waits for the ingest's lock on job H
    tx.commit()
    ingest_conn.close()
    t.join(timeout=10)
    assert finished.is_set()
    with queued.session() as s:
        assert s.scalar(text("SELECT count(*) FROM chunk_embeddings ce JOIN chunks c ON "
                             "c.id = ce.chunk_id WHERE c.document_id = :n"), {"n": new_doc}) == 1
        assert s.scalar(text("SELECT count(*) FROM embedding_pending WHERE document_id = :n"),
                        {"n": new_doc}) == 0
    assert counts(queued)["pending"] == 0


def test_queue_depth_and_status_figures(queued):
    with queued.session() as s:
        (d,) = queue.depth(s)
    c = counts(queued)
    assert (d.pending_chunks, d.texts_ready, d.texts_leased, d.texts_failed) == (
        c["chunks"], c["jobs"], 0, 0)
    assert d.pending_documents == 14 and d.pending_tokens > 0 and d.oldest_s >= 0
