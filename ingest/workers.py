"""Parsing in worker processes: each item is parsed and chunked in a child that can be killed.

One mechanism for two needs. Isolation (issue 12): a parse that runs past its wall-clock budget
is killed, one that needs more memory than its budget (RLIMIT_AS in the worker) fails, a parser
that crashes the interpreter (a segfault in a C library) takes only its worker down; each is one
failure of that file, and the run goes on with a fresh worker. Throughput (issue 14): N workers
(default: one per core) parse and chunk while the main process embeds and writes.

Workers are forked from the pipeline's process when the first item needs parsing, so they inherit
the parsers, the chunker and their settings without pickling (and nothing is forked when nothing
changed). A worker talks to the main process over two pipes of its own (never a shared queue: a
killed worker must not leave a lock held) and keeps its state in a small shared array, so the
main process always knows which item a worker is on and since when, even when it is busy writing:

    main ──jobs──▶ [reader thread ─▶ inbox] ─▶ parse+chunk ─▶ [outbox ─▶ sender thread] ──▶ main

`Pipeline(workers=0)` parses in its own process instead (`InlinePool`): no budgets, for debugging.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import queue
import resource
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from app.core.errors import ErrorCode
from app.core.types import RawItem
from ingest.preparing import (
    ParseFailure,
    ParseSettings,
    Prepared,
    crash_message,
    memory_failure,
    original_not_kept,
    run_job,
    timeout_failure,
)

log = logging.getLogger(__name__)

MB = 1024 * 1024


# -- the worker process ----------------------------------------------------------------------------
_IDLE = -1.0


def _limit_memory(memory_mb: int | None) -> None:
    """Cap this process's address space at what it has now plus the budget (a fork inherits
    the parent's mappings, which are not the parse's doing)."""
    if not memory_mb:
        return
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            size_kb = next(int(line.split()[1]) for line in fh if line.startswith("VmSize:"))
    except (OSError, StopIteration, ValueError):
        return
    limit = size_kb * 1024 + memory_mb * MB
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _die_with_parent() -> None:
    """Linux: SIGKILL this worker when the main process dies (a killed sync leaves no parsers)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _worker_main(settings: ParseSettings, jobs: Connection, results: Connection,
                 state: Any, memory_mb: int | None, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    import faulthandler

    faulthandler.disable()  # a crash is reported as one line by the main process, not dumped
    _die_with_parent()
    if os.getppid() != parent:
        os._exit(0)
    inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
    outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()

    def pump_in() -> None:
        try:
            while True:
                inbox.put(jobs.recv())
        except (EOFError, OSError):
            inbox.put(None)

    def pump_out() -> None:
        while (payload := outbox.get()) is not None:
            try:
                results.send_bytes(payload)
            except OSError:
                return

    threading.Thread(target=pump_in, daemon=True).start()
    sender = threading.Thread(target=pump_out, daemon=True)
    sender.start()
    keeper = _Keeper(settings.originals_dir, outbox) if settings.originals_dir else None
    _limit_memory(memory_mb)
    while (job := inbox.get()) is not None:
        key, item, sha = job
        state[1] = time.monotonic()
        state[0] = float(key)
        writes: list[Future[str]] = []
        result = run_job(item, sha, settings, memory_mb,
                         keep=keeper.keep(writes) if keeper else None)
        try:
            payload = pickle.dumps((key, result), protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            result = memory_failure(item.origin, memory_mb)
            payload = pickle.dumps((key, result))
        except Exception as exc:  # a parser returned something that cannot travel
            result = ParseFailure(ErrorCode.internal.value, crash_message(item.origin, exc))
            payload = pickle.dumps((key, result))
        state[0] = _IDLE
        if keeper is not None:
            keeper.send_after(writes, key, item.origin, payload)
        else:
            outbox.put(payload)
        if isinstance(result, ParseFailure) and result.fatal:
            break  # a fresh worker, not one whose heap just ran out
    if keeper is not None:
        keeper.close()
    outbox.put(None)
    sender.join(timeout=30)
    os._exit(0)  # no atexit handlers: the parent's database connections are not ours to close


class _Keeper:
    """Writes the copies of the originals on threads of their own, so a slow disk (3 ms per
    file create on the bench machine: more than parsing a small file) does not hold up
    parsing; a job's result leaves the worker only once its copies are on disk (a stored
    document never points at a copy that is not there)."""

    def __init__(self, root: Path, outbox: queue.SimpleQueue[bytes | None]) -> None:
        from ingest.originals import store_original

        self.root = root
        self.store = store_original
        self.outbox = outbox
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="originals")
        self.ready: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._forward, daemon=True)
        self.thread.start()

    def keep(self, writes: list[Future[str]]) -> Callable[[str, bytes], str]:
        def keep(sha: str, data: bytes) -> str:
            from ingest.originals import blob_relpath

            writes.append(self.pool.submit(self.store, self.root, sha, data))
            return blob_relpath(sha)

        return keep

    def send_after(self, writes: list[Future[str]], key: int, origin: str,
                   payload: bytes) -> None:
        self.ready.put((writes, key, origin, payload))

    def _forward(self) -> None:
        while (entry := self.ready.get()) is not None:
            writes, key, origin, payload = entry
            for write in writes:
                try:
                    write.result()
                except OSError as exc:
                    payload = pickle.dumps((key, original_not_kept(origin, self.root, exc)))
                    break
            self.outbox.put(payload)

    def close(self) -> None:
        self.ready.put(None)
        self.thread.join()
        self.pool.shutdown(wait=True)


# -- the pools -------------------------------------------------------------------------------------
@dataclass
class _Worker:
    process: Any
    jobs: Connection
    results: Connection
    state: Any  # RawArray('d', 2): [key of the job in hand or -1, monotonic start]
    outstanding: list[int] = field(default_factory=list)  # keys sent, in order
    killed_for: str | None = None


class ParsePool:
    """`size` forked workers, each with up to `depth` jobs in hand; budgets per job.

    `submit(key, item, sha)` hands a job out, `poll(timeout)` returns finished `(key, result)`
    pairs, each result a `Prepared` or a `ParseFailure`. Every submitted key comes back exactly
    once, whatever happens to the worker that had it.
    """

    def __init__(self, settings: ParseSettings, *, size: int, timeout_s: float | None,
                 memory_mb: int | None, depth: int = 64,
                 max_queued_bytes: int = 256 * MB) -> None:
        self.settings = settings
        self.size = max(1, size)
        self.timeout_s = timeout_s or None
        self.memory_mb = memory_mb or None
        self.depth = max(1, depth)  # enough to keep a worker busy while the main process writes
        self.max_queued_bytes = max_queued_bytes  # items that carry their bytes (mail messages)
        self._queued_bytes = 0
        self._ctx = multiprocessing.get_context("fork")
        self._workers: list[_Worker] = []
        self._jobs: dict[int, tuple[RawItem, str | None]] = {}
        self._ready: list[tuple[int, Prepared | ParseFailure]] = []
        self._deaths_without_progress = 0

    # -- public ----------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return bool(self._jobs) or bool(self._ready)

    def has_room(self) -> bool:
        return (len(self._jobs) < self.size * self.depth
                and self._queued_bytes < self.max_queued_bytes)

    def submit(self, key: int, item: RawItem, sha: str | None) -> None:
        self._jobs[key] = (item, sha)
        self._queued_bytes += len(item.data or b"")
        self._dispatch(key)

    def poll(self, timeout: float | None = 0.0) -> list[tuple[int, Prepared | ParseFailure]]:
        """Finished jobs; waits up to `timeout` seconds (None: until one finishes) if none is."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._ready and self._jobs:
            now = time.monotonic()
            wait_s = None if deadline is None else max(0.0, deadline - now)
            if self.timeout_s is not None:
                # A job's clock starts when its worker takes it up, which the state array
                # shows but no pipe announces: look again at least once a second.
                budget = self._next_budget_end()
                until = max(0.0, budget - now) if budget is not None else 1.0
                wait_s = min(until, 1.0) if wait_s is None else min(wait_s, until, 1.0)
            handles = [w.results for w in self._workers] + [w.process.sentinel
                                                           for w in self._workers]
            ready = wait(handles, timeout=wait_s) if handles else []
            for worker in list(self._workers):
                if worker.results in ready or worker.process.sentinel in ready:
                    self._collect(worker)
            self._enforce_budgets()
            if deadline is not None and time.monotonic() >= deadline:
                break
        out, self._ready = self._ready, []
        return out

    def close(self) -> None:
        """Stop every worker (jobs still in hand are dropped)."""
        for worker in self._workers:
            # An explicit end, not only the pipe's EOF: a forked worker inherits the write ends
            # of the job pipes open at its fork (its own included), so closing ours never
            # reached it as EOF, and every run's end waited out the 0.5 s join below, then
            # killed the worker (0.5 s of a 2 s re-sync, bench/resync.py).
            with contextlib.suppress(OSError, ValueError):
                worker.jobs.send(None)
            with contextlib.suppress(OSError):
                worker.jobs.close()
        for worker in self._workers:
            worker.process.join(timeout=0.5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout=5)
            with contextlib.suppress(OSError):
                worker.results.close()
        self._workers = []
        self._jobs.clear()

    # -- workers ---------------------------------------------------------------------------
    def _spawn(self) -> _Worker:
        jobs_r, jobs_w = self._ctx.Pipe(duplex=False)
        results_r, results_w = self._ctx.Pipe(duplex=False)
        state = self._ctx.RawArray("d", 2)
        state[0] = _IDLE
        process = self._ctx.Process(
            target=_worker_main, name="homerag-parse", daemon=True,
            args=(self.settings, jobs_r, results_w, state, self.memory_mb, os.getpid()))
        process.start()
        jobs_r.close()
        results_w.close()
        worker = _Worker(process=process, jobs=jobs_w, results=results_r, state=state)
        self._workers.append(worker)
        return worker

    def _dispatch(self, key: int) -> None:
        live = [w for w in self._workers if w.killed_for is None]
        worker = min(live, key=lambda w: len(w.outstanding), default=None)
        if worker is None or (worker.outstanding and len(live) < self.size):
            worker = self._spawn()
        item, sha = self._jobs[key]
        worker.outstanding.append(key)
        with contextlib.suppress(OSError):  # it died just now; its death hands the job on
            worker.jobs.send((key, item, sha))

    def _finish(self, key: int, result: Prepared | ParseFailure) -> None:
        job = self._jobs.pop(key, None)
        if job is not None:
            self._queued_bytes -= len(job[0].data or b"")
            self._ready.append((key, result))

    def _collect(self, worker: _Worker) -> None:
        try:
            while worker.results.poll():
                key, result = pickle.loads(worker.results.recv_bytes())
                with contextlib.suppress(ValueError):
                    worker.outstanding.remove(key)
                self._deaths_without_progress = 0
                self._finish(key, result)
        except (EOFError, OSError):
            pass
        if not worker.process.is_alive() or worker.killed_for is not None:
            self._bury(worker)

    def _next_budget_end(self) -> float | None:
        if self.timeout_s is None:
            return None
        starts = [w.state[1] for w in self._workers if w.state[0] != _IDLE]
        return min(starts) + self.timeout_s if starts else None

    def _enforce_budgets(self) -> None:
        if self.timeout_s is None:
            return
        now = time.monotonic()
        for worker in list(self._workers):
            if worker.state[0] != _IDLE and now - worker.state[1] > self.timeout_s:
                worker.killed_for = "timeout"
                worker.process.kill()
                worker.process.join(timeout=5)
                self._collect(worker)

    def _bury(self, worker: _Worker) -> None:
        """A worker is gone: blame the job it had in hand, hand its other jobs on."""
        worker.process.join(timeout=5)
        self._workers.remove(worker)
        for conn in (worker.jobs, worker.results):
            with contextlib.suppress(OSError):
                conn.close()
        current = int(worker.state[0]) if worker.state[0] != _IDLE else None
        if current is not None and current in self._jobs:
            origin = self._jobs[current][0].origin
            if worker.killed_for == "timeout":
                assert self.timeout_s is not None
                failure = timeout_failure(origin, self.timeout_s)
            else:
                failure = _death_failure(origin, worker.process.exitcode, self.memory_mb)
                log.debug("parse worker %s died on %s (exit %s)", worker.process.pid, origin,
                          worker.process.exitcode)
            self._finish(current, failure)
        elif worker.killed_for is None and worker.process.exitcode not in (0, None):
            self._deaths_without_progress += 1
        rest = [k for k in worker.outstanding if k in self._jobs and k != current]
        if self._deaths_without_progress >= 3 and rest:  # workers die before any job starts
            blamed = rest.pop(0)
            self._finish(blamed, ParseFailure(
                ErrorCode.internal.value,
                f"{self._jobs[blamed][0].origin}: the parser process died before it started",
                transient=True))
            self._deaths_without_progress = 0
        for key in rest:
            self._dispatch(key)


def _death_failure(origin: str, exitcode: int | None, memory_mb: int | None) -> ParseFailure:
    if exitcode == -signal.SIGKILL:  # not ours (ours are timeouts): the kernel's OOM killer
        return memory_failure(origin, memory_mb)
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return ParseFailure(ErrorCode.internal.value, f"{origin}: parser crashed ({name})")
    return ParseFailure(ErrorCode.internal.value,
                        f"{origin}: parser process exited (status {exitcode})")


class InlinePool:
    """The ParsePool interface, parsing in this process at `submit` (no budgets, no isolation
    from crashes of C code); `Pipeline(workers=0)`."""

    size = 0

    def __init__(self, settings: ParseSettings) -> None:
        self.settings = settings
        self._ready: list[tuple[int, Prepared | ParseFailure]] = []

    @property
    def busy(self) -> bool:
        return bool(self._ready)

    def has_room(self) -> bool:
        return not self._ready

    def submit(self, key: int, item: RawItem, sha: str | None) -> None:
        self._ready.append((key, run_job(item, sha, self.settings, None)))

    def poll(self, timeout: float | None = 0.0) -> list[tuple[int, Prepared | ParseFailure]]:
        out, self._ready = self._ready, []
        return out

    def close(self) -> None:
        self._ready = []


def default_workers() -> int:
    """One worker per core. The main process embeds and writes, but mostly waits on PostgreSQL
    and the embedder: a core kept for it idled. bench/ingest_vs_llamaindex.py on the 2-core
    machine, 2,000 documents: one worker 8.7 s, two 6.9 s."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, cores)


__all__: Sequence[str] = ("InlinePool", "ParsePool", "default_workers")
