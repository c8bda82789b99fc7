"""Use case: syncs that run in the background of a server (the web's "sync now", an upload's
ingest, retrying one file) with their progress, one at a time per source.

Jobs live in the process's Runtime (`rt.extras`), so a server shows what it is running; a job
is a thread that calls `app.services.sync.sync` with a progress sink that records every item's
outcome. A second "sync now" of a busy source is refused (BusyError); an upload's ingest waits
for the running one instead, so no upload is lost. Only the last MAX_KEPT finished jobs are kept.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.core.errors import BusyError, HomeragError, NotFoundError

if TYPE_CHECKING:
    from app.core.protocols import Source
    from app.services.runtime import Runtime
    from ingest.pipeline import IngestReport, ItemOutcome

log = logging.getLogger(__name__)

MAX_KEPT = 50
_ids = itertools.count(1)


@dataclass
class Job:
    """One background sync: its state, progress, and the outcome of each item it touched."""

    id: int
    source: str
    kind: str  # sync | upload | retry
    state: str = "queued"  # queued | running | done | failed
    total: int | None = None
    done: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    current: str | None = None
    error: str | None = None
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    # origin -> outcome (status, code, message, document_id): every item that was not unchanged
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)
    watch: tuple[str, ...] = ()  # origins the caller waits for (an upload's files)
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "source": self.source, "kind": self.kind, "state": self.state,
            "total": self.total, "done": self.done,
            "counts": {k: self.counts.get(k, 0)
                       for k in ("indexed", "unchanged", "failed", "skipped", "removed")},
            "current": self.current, "error": self.error,
            "started_at": _iso(self.started_at), "finished_at": _iso(self.finished_at),
            "problems": [{"origin": o, **v} for o, v in self.outcomes.items()
                         if v["status"] in ("failed", "skipped")][:100],
        }
        if self.watch:
            out["files"] = [{"origin": o, **self.outcomes.get(
                o, {"status": "waiting" if not self.finished else "unchanged"})}
                for o in self.watch]
        return out


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


class _JobProgress:
    """The pipeline's ProgressSink, writing into a Job (read by the status endpoint)."""

    def __init__(self, job: Job) -> None:
        self.job = job

    def start(self, source: str, total: int | None) -> None:
        self.job.total = total

    def advance(self, outcome: ItemOutcome) -> None:
        job = self.job
        job.done += 1
        job.counts[outcome.status] += 1
        job.current = outcome.origin
        if outcome.status != "unchanged":
            job.outcomes[outcome.origin] = {
                "status": outcome.status, "code": outcome.code, "message": outcome.message,
                "document_id": outcome.document_id}

    def note(self, message: str) -> None:
        self.job.current = message

    def finish(self, report: IngestReport) -> None:
        self.job.runs.append({"run_id": report.run_id, "status": report.status,
                              "error": report.error})


@dataclass
class _Registry:
    guard: threading.Lock = field(default_factory=threading.Lock)
    jobs: dict[int, Job] = field(default_factory=dict)
    source_locks: dict[str, threading.Lock] = field(default_factory=dict)
    threads: list[threading.Thread] = field(default_factory=list)

    def lock_for(self, name: str) -> threading.Lock:
        with self.guard:
            return self.source_locks.setdefault(name, threading.Lock())

    def add(self, job: Job) -> None:
        with self.guard:
            self.jobs[job.id] = job
            finished = [j.id for j in self.jobs.values() if j.finished]
            for old in finished[:max(0, len(finished) - MAX_KEPT)]:
                del self.jobs[old]


def _registry(rt: Runtime) -> _Registry:
    reg = rt.extras.get("jobs")
    if reg is None:
        reg = rt.extras.setdefault("jobs", _Registry())
    return reg  # type: ignore[no-any-return]


def start_sync(rt: Runtime, source: Source, *, kind: str = "sync", wait: bool = False,
               retry_failed: bool = False, watch: Sequence[str] = (),
               after: Callable[[Job], None] | None = None) -> Job:
    """Sync `source` in a background thread and return its Job at once.

    A source already syncing in this process: with `wait`, the job queues behind it; without,
    BusyError. (Another process syncing it is handled by the pipeline's database lock.)"""
    reg = _registry(rt)
    lock = reg.lock_for(source.name)
    if not wait and not lock.acquire(blocking=False):
        raise BusyError(f"source {source.name!r} is already being synced; wait for it to finish")
    job = Job(id=next(_ids), source=source.name, kind=kind, watch=tuple(watch))
    reg.add(job)

    def run() -> None:
        from app.services.sync import sync

        if wait:
            lock.acquire()
        try:
            job.state = "running"
            result = sync(rt, [source], trigger="web", retry_failed=retry_failed,
                          progress=_JobProgress(job))
            failed = [r for r in result.reports if r.status != "completed"]
            job.error = failed[0].error if failed else None
            job.state = "failed" if failed else "done"
        except HomeragError as exc:  # a broken owner file, the database gone: one line
            job.error, job.state = str(exc), "failed"
        except Exception as exc:  # a background thread must record its failure, not vanish
            log.exception("background sync of %s failed", source.name)
            job.error, job.state = f"internal error: {exc}", "failed"
        finally:
            job.finished_at = time.time()
            job.current = None
            lock.release()
            if after is not None:
                after(job)

    thread = threading.Thread(target=run, name=f"sync-{job.id}", daemon=True)
    reg.threads = [t for t in reg.threads if t.is_alive()] + [thread]
    thread.start()
    return job


def get_job(rt: Runtime, job_id: int) -> Job:
    job = _registry(rt).jobs.get(job_id)
    if job is None:
        raise NotFoundError(f"job {job_id} does not exist (finished long ago, or the server "
                            "restarted)")
    return job


def list_jobs(rt: Runtime, *, source: str | None = None) -> list[Job]:
    """The jobs this process knows, newest first."""
    jobs = sorted(_registry(rt).jobs.values(), key=lambda j: -j.id)
    return [j for j in jobs if source is None or j.source == source]


def running_job(rt: Runtime, source: str) -> Job | None:
    return next((j for j in list_jobs(rt, source=source) if not j.finished), None)


def wait_for_jobs(rt: Runtime, timeout: float = 60.0) -> bool:
    """Wait until every background job of this process has finished (tests, shutdown)."""
    deadline = time.monotonic() + timeout
    for thread in list(_registry(rt).threads):
        thread.join(max(0.0, deadline - time.monotonic()))
    return all(not t.is_alive() for t in _registry(rt).threads)
