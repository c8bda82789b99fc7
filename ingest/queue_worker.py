"""One embedding worker: claim texts from the queue, embed them, store their vectors, repeat
(protocol and guarantees in ingest/queue.py). Database I/O and the embedder.

A heartbeat thread renews the worker's leases and its `embedding_workers` row every third of
the lease, so a batch may take longer than the lease while the worker lives; a killed worker
stops renewing and its texts go to another worker once the lease runs out.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from app.core.db import Database
from app.core.errors import EmbedderUnavailableError
from app.core.protocols import Embedder
from app.core.vectors import posting_share
from ingest import queue, store

log = logging.getLogger(__name__)


@dataclass(slots=True)
class BatchReport:
    """One batch a worker finished: what it embedded, reused and stored, and how long it took."""

    worker: str
    texts: int = 0  # embedded by the model
    reused: int = 0  # vectors already stored for the same text
    chunks: int = 0  # chunks that got their vectors
    tokens: int = 0  # tokens of the embedded texts
    failed: int = 0
    lost: int = 0  # leases another worker had taken over
    embed_s: float = 0.0
    hashes: list[str] = field(default_factory=list)  # the texts this batch settled


@dataclass(slots=True)
class WorkerReport:
    worker: str
    batches: int = 0
    texts: int = 0
    reused: int = 0
    chunks: int = 0
    tokens: int = 0
    failed: int = 0
    embed_s: float = 0.0
    wall_s: float = 0.0

    def add(self, b: BatchReport) -> None:
        self.batches += 1
        self.texts += b.texts
        self.reused += b.reused
        self.chunks += b.chunks
        self.tokens += b.tokens
        self.failed += b.failed
        self.embed_s += b.embed_s

    def to_json(self) -> dict[str, Any]:
        return {"worker": self.worker, "batches": self.batches, "texts": self.texts,
                "reused": self.reused, "chunks": self.chunks, "tokens": self.tokens,
                "failed": self.failed, "embed_s": round(self.embed_s, 3),
                "wall_s": round(self.wall_s, 3),
                "tokens_per_s": round(self.tokens / self.embed_s, 1) if self.embed_s else None}


def new_worker_id() -> str:
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class QueueWorker:
    """Drains one space's queue with one embedder (the space's own model)."""

    def __init__(self, db: Database, embedder: Embedder, *, space_id: int, sparse_dim: int,
                 batch: int = 32, lease_s: float = 120.0, max_attempts: int = 5,
                 poll_s: float = 1.0, device: str = "", worker_id: str | None = None,
                 on_batch: Callable[[BatchReport], None] | None = None) -> None:
        self.db = db
        self.embedder = embedder
        self.space_id = int(space_id)
        self.sparse_dim = int(sparse_dim)
        self.batch = max(1, int(batch))
        self.lease_s = float(lease_s)
        self.max_attempts = int(max_attempts)
        self.poll_s = float(poll_s)
        self.device = device
        self.id = worker_id or new_worker_id()
        self.on_batch = on_batch
        self.stop = threading.Event()

    # -- lifecycle ------------------------------------------------------------------------------
    def run(self, *, drain: bool = False) -> WorkerReport:
        """Work until `stop` is set, or with `drain` until the space's queue holds nothing but
        failed texts (texts leased by another worker, alive or dead, are waited for)."""
        report = WorkerReport(self.id)
        started = time.perf_counter()
        self._register()
        beat = threading.Thread(target=self._heartbeat, name="embed-heartbeat", daemon=True)
        beat.start()
        try:
            while not self.stop.is_set():
                b = self.run_batch()
                if b is None:
                    if drain and self._queue_empty():
                        break
                    self.stop.wait(self.poll_s)
                    continue
                report.add(b)
                if self.on_batch is not None:
                    self.on_batch(b)
        finally:
            self.stop.set()
            beat.join(timeout=5)
            self._unregister()
            report.wall_s = time.perf_counter() - started
        return report

    def run_batch(self) -> BatchReport | None:
        """Claim, embed and store one batch; None when nothing was claimable."""
        with self.db.session() as s:
            claimed = queue.claim(s, self.space_id, self.id, limit=self.batch,
                                  lease_s=self.lease_s, max_attempts=self.max_attempts)
        if not claimed:
            return None
        hashes = [c.content_hash for c in claimed]
        b = BatchReport(self.id, hashes=hashes)
        try:
            with self.db.session() as s:
                pending = queue.texts_of(s, self.space_id, hashes)
                reuse = store.reusable_embeddings(s, self.space_id, [p.content_hash
                                                                      for p in pending])
            todo = [p for p in pending if p.content_hash not in reuse]
            vectors: dict[str, Any] = dict(reuse)
            failed: dict[str, str] = {}
            t0 = time.perf_counter()
            vectors.update(self._embed(todo, failed))
            b.embed_s = time.perf_counter() - t0
            settled = [h for h in hashes if h not in failed]
            with self.db.session() as s:
                done = queue.complete(s, self.space_id, self.id, sparse_dim=self.sparse_dim,
                                      vectors=vectors, done=settled,
                                      posting_share=posting_share(self.embedder.name))
                for reason in sorted(set(failed.values())):
                    queue.release(s, self.space_id, self.id,
                                  [h for h, r in failed.items() if r == reason], error=reason,
                                  max_attempts=self.max_attempts)
                embedded = [p for p in todo if p.content_hash in vectors
                            and p.content_hash not in done.lost]
                b.texts = len(embedded)
                b.tokens = sum(p.tokens for p in embedded)
                b.reused = sum(1 for p in pending if p.content_hash in reuse)
                b.chunks, b.failed, b.lost = done.chunks, len(failed), len(done.lost)
                self._record(s, b)
        except BaseException:
            # Anything else (the embedder gone, the database gone, an interrupt): the texts go
            # back at once where the database still answers, else when the lease runs out.
            self._give_back(hashes)
            raise
        return b

    def _embed(self, todo: list[queue.PendingText], failed: dict[str, str]) -> dict[str, Any]:
        """Vectors by hash; a batch the model refuses is embedded text by text so only the bad
        text fails (its reason kept in `failed`). A lost device stops the worker."""
        if not todo:
            return {}
        try:
            return dict(zip((p.content_hash for p in todo),
                            self.embedder.embed_documents([p.text for p in todo]), strict=True))
        except EmbedderUnavailableError:
            raise
        except Exception as exc:
            if len(todo) == 1:
                first = (str(exc).strip().splitlines() or [""])[0]
                failed[todo[0].content_hash] = (f"the embedder refused the text "
                                                f"({type(exc).__name__}: {first[:300]})")
                return {}
        out: dict[str, Any] = {}
        for p in todo:
            out.update(self._embed([p], failed))
        return out

    # -- bookkeeping ------------------------------------------------------------------------------
    def _queue_empty(self) -> bool:
        with self.db.session() as s:
            return not s.execute(text(
                "SELECT 1 FROM embedding_jobs WHERE space_id = :sid AND failed_at IS NULL "
                "LIMIT 1"), {"sid": self.space_id}).first()

    def _register(self) -> None:
        with self.db.session() as s:
            s.execute(text(
                "INSERT INTO embedding_workers (id, host, pid, device, space_id) "
                "VALUES (:id, :host, :pid, :device, :sid)"),
                {"id": self.id, "host": socket.gethostname()[:200], "pid": os.getpid(),
                 "device": self.device[:100], "sid": self.space_id})

    def _record(self, s: Any, b: BatchReport) -> None:
        s.execute(text(
            "UPDATE embedding_workers SET batches = batches + 1, texts = texts + :texts, "
            "  reused = reused + :reused, chunks = chunks + :chunks, tokens = tokens + :tokens, "
            "  failures = failures + :failed, embed_seconds = embed_seconds + :secs, "
            "  last_seen_at = now() WHERE id = :id"),
            {"id": self.id, "texts": b.texts, "reused": b.reused, "chunks": b.chunks,
             "tokens": b.tokens, "failed": b.failed, "secs": b.embed_s})

    def _heartbeat(self) -> None:
        interval = max(0.2, self.lease_s / 3)
        while not self.stop.wait(interval):
            try:
                with self.db.session() as s:
                    queue.renew(s, self.id, lease_s=self.lease_s)
                    s.execute(text("UPDATE embedding_workers SET last_seen_at = now() "
                                   "WHERE id = :id"), {"id": self.id})
            except Exception as exc:  # the next beat tries again; the lease covers a gap
                log.warning("worker %s: heartbeat failed: %s", self.id, exc)

    def _give_back(self, hashes: list[str]) -> None:
        try:
            with self.db.session() as s:
                queue.release(s, self.space_id, self.id, hashes, error=None,
                              max_attempts=self.max_attempts)
        except Exception:  # the database is gone too: the lease runs out by itself
            log.debug("worker %s: could not give its texts back", self.id, exc_info=True)

    def _unregister(self) -> None:
        try:
            with self.db.session() as s:
                s.execute(text("UPDATE embedding_jobs SET leased_by = NULL, "
                               "lease_expires_at = NULL WHERE leased_by = :id"), {"id": self.id})
                s.execute(text("UPDATE embedding_workers SET status = 'stopped', "
                               "stopped_at = now(), last_seen_at = now() WHERE id = :id"),
                          {"id": self.id})
        except Exception:
            log.debug("worker %s: could not record its stop", self.id, exc_info=True)
