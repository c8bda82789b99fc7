"""Use cases of the embedding queue (ingest/queue.py): run a worker, show the queue, retry what
failed, and the ingest side's switch.

The queue is on when HOMERAG_EMBED_QUEUE=true: `homerag ingest`, the scheduler and uploads then
store chunks without vectors (reusing stored vectors of the same text) and queue the rest;
`homerag worker --device cuda:N` processes on any host that reaches the database embed them.
Off (the default), ingest embeds in-process as before and no worker is needed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInputError

if TYPE_CHECKING:
    from app.core.protocols import DocumentHook, Embedder
    from app.services.runtime import Runtime
    from ingest.queue_worker import BatchReport, WorkerReport

log = logging.getLogger(__name__)

__all__ = ["WorkerOptions", "queue_status", "queued_ingest", "retry_failed", "run_worker"]

# A worker whose heartbeat is older than this many leases is shown as lost (killed, host down).
LOST_AFTER_LEASES = 2


def queued_ingest(rt: Runtime, hooks: Sequence[DocumentHook]) -> tuple[Embedder, list[Any]]:
    """The embedder and hooks of an ingest that queues its embedding: a stand-in with the active
    space's identity (no model loaded on this host) and the hook that queues each document's
    chunks. With no space yet, the configured model is built once to create it."""
    from ingest.queue import DeferredEmbedder, QueueHook
    from ingest.store import active_space, space_name

    with rt.db.session() as s:
        space = active_space(s)
        ident = None if space is None else DeferredEmbedder(
            name=space.embedder, model_id=space.model_id, dim=space.dim,
            sparse_dim=space.sparse_dim)
    if ident is None:
        ident = DeferredEmbedder.like(rt.embedder())
    return ident, [*hooks, QueueHook(space_name(ident))]


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """What `homerag worker` was asked for (None: the setting)."""

    device: str | None = None
    batch: int | None = None
    lease_s: float | None = None
    drain: bool = False
    poll_s: float = 1.0


def run_worker(rt: Runtime, options: WorkerOptions, *, embedder: Embedder | None = None,
               on_batch: Callable[[BatchReport], None] | None = None,
               stop: threading.Event | None = None) -> WorkerReport:
    """Embed queued texts of the active space until stopped (or, with `drain`, until the queue
    holds nothing but failed texts). The model is the active space's, on `device`; with no
    space yet, the configured one (which creates the space). `embedder`: tests and benchmarks.
    """
    from ingest.queue_worker import QueueWorker
    from ingest.spaces import embedder_for_space
    from ingest.store import active_space, ensure_space

    settings = rt.settings
    update: dict[str, Any] = {}
    if options.device:
        update["embed_device"] = options.device
    if options.batch:
        update["embed_batch_size"] = options.batch
    worker_settings = settings.model_copy(update=update) if update else settings
    with rt.db.session() as s:
        space = active_space(s)
        if space is not None:
            s.expunge(space)
    if embedder is None:
        if space is not None:
            embedder = embedder_for_space(space, worker_settings)
        else:
            from ingest.embedders import make_embedder

            embedder = make_embedder(worker_settings)
    with rt.db.session() as s:
        space = ensure_space(s, embedder) if space is None else space
        if (space.embedder, space.model_id) != (embedder.name, embedder.model_id):
            raise InvalidInputError(
                f"the active space was built by {space.embedder} ({space.model_id}); this "
                f"worker's model is {embedder.name} ({embedder.model_id})")
        space_id, sparse_dim = int(space.id), int(space.sparse_dim)
    worker = QueueWorker(
        rt.db, embedder, space_id=space_id, sparse_dim=sparse_dim,
        batch=options.batch or settings.embed_batch_size,
        lease_s=options.lease_s or settings.embed_lease_s,
        max_attempts=settings.embed_max_attempts, poll_s=options.poll_s,
        device=str(getattr(embedder, "device", options.device or settings.embed_device)),
        on_batch=on_batch)
    if stop is not None:  # the caller's stop (a signal handler) ends the loop after its batch
        def relay() -> None:
            stop.wait()
            worker.stop.set()

        threading.Thread(target=relay, daemon=True).start()
    log.info("worker %s: embedding into space %s with %s", worker.id, space_id, embedder)
    return worker.run(drain=options.drain)


def queue_status(rt: Runtime) -> dict[str, Any]:
    """The queue per space, the workers (alive, stopped, lost) and texts given up on."""
    from sqlalchemy import text

    from ingest.queue import depth, failed_texts

    lost_after = rt.settings.embed_lease_s * LOST_AFTER_LEASES
    with rt.db.session() as s:
        spaces = [d.to_json() for d in depth(s)]
        rows = s.execute(text(
            "SELECT w.id, w.host, w.pid, w.device, w.space_id, w.status, w.started_at, "
            "       w.last_seen_at, w.batches, w.texts, w.reused, w.chunks, w.tokens, "
            "       w.failures, w.embed_seconds, "
            "       extract(epoch FROM now() - w.last_seen_at) AS quiet_s "
            "FROM embedding_workers w "
            "WHERE w.status = 'running' OR w.stopped_at > now() - interval '1 day' "
            "ORDER BY w.started_at DESC LIMIT 100")).mappings().all()
        failed = failed_texts(s)
    workers = []
    for r in rows:
        state = r["status"]
        if state == "running" and float(r["quiet_s"] or 0) > lost_after:
            state = "lost"
        secs = float(r["embed_seconds"] or 0)
        workers.append({
            "id": r["id"], "host": r["host"], "pid": r["pid"], "device": r["device"],
            "space_id": r["space_id"], "state": state,
            "started_at": r["started_at"].isoformat(),
            "last_seen_at": r["last_seen_at"].isoformat(), "batches": r["batches"],
            "texts": r["texts"], "reused": r["reused"], "chunks": r["chunks"],
            "tokens": r["tokens"], "failures": r["failures"], "embed_seconds": round(secs, 3),
            "tokens_per_s": round(r["tokens"] / secs, 1) if secs else None})
    return {"enabled": bool(rt.settings.embed_queue), "spaces": spaces, "workers": workers,
            "failed": failed}


def retry_failed(rt: Runtime) -> int:
    """Put every failed text back in the queue; returns how many."""
    from ingest.queue import retry_failed as reset

    with rt.db.session() as s:
        return reset(s)
