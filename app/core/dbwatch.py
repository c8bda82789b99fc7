"""Keeping the database available: the pool's checked-out connections (`PoolWatch`, shown in
/api/health) and the embedded server's supervisor (`DatabaseSupervisor`).

The supervisor runs in `homerag serve`: a daemon thread checks every `interval` seconds that the
embedded postmaster is alive; when it died (killed, OOM, crashed) it starts it again with
exponential backoff (1 s .. 30 s) and drops the engine's dead pooled connections. Requests in
between get 503 ("database not reachable"); no other command is needed to bring it back.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import suppress
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from app.core.redact import redact_text

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from app.core.db import Database

log = logging.getLogger(__name__)

BACKOFF_FIRST_S, BACKOFF_MAX_S = 1.0, 30.0


class PoolWatch:
    """Connections checked out of an engine's pool: now and the most at once (health, bench)."""

    def __init__(self) -> None:
        self.checked_out = 0
        self.peak = 0
        self._lock = threading.Lock()

    @classmethod
    def attach(cls, engine: Engine) -> PoolWatch:
        from sqlalchemy import event

        watch = cls()
        event.listen(engine, "checkout", watch._out)
        event.listen(engine, "checkin", watch._in)
        engine._homerag_pool_watch = watch  # type: ignore[attr-defined]
        return watch

    def _out(self, *_: Any) -> None:
        with self._lock:
            self.checked_out += 1
            self.peak = max(self.peak, self.checked_out)

    def _in(self, *_: Any) -> None:
        with self._lock:
            self.checked_out = max(0, self.checked_out - 1)

    @staticmethod
    def stats(engine: Engine) -> dict[str, Any]:
        watch = getattr(engine, "_homerag_pool_watch", None)
        pool: Any = engine.pool
        out: dict[str, Any] = {}
        with suppress(AttributeError, TypeError):  # NullPool has no size
            out.update(size=pool.size(), max_overflow=pool._max_overflow,
                       timeout_s=pool.timeout())
        if watch is not None:
            out.update(checked_out=watch.checked_out, peak=watch.peak)
        return out


class DatabaseSupervisor:
    """Restart the embedded PostgreSQL when it dies; `state()` for /api/health."""

    def __init__(self, db: Database, *, interval: float = 1.0) -> None:
        assert db.embedded is not None
        self.db = db
        self.interval = interval
        self.restarts = 0
        self.last_restart_at: datetime | None = None
        self.down_since: datetime | None = None
        self.error: str | None = None
        self._backoff = BACKOFF_FIRST_S
        self._next_try = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="homerag-db-supervisor",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=15)

    def state(self) -> dict[str, Any]:
        return {"supervised": True, "restarts": self.restarts,
                "last_restart_at": _iso(self.last_restart_at),
                "down_since": _iso(self.down_since), "error": self.error}

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # the watcher must outlive any surprise; say it once per failure
                log.exception("database supervisor: check failed")

    def check(self) -> None:
        """One round: nothing when the server runs; else a restart when the backoff allows."""
        embedded = self.db.embedded
        assert embedded is not None
        if embedded.running():
            if self.down_since is not None and self.error is None:
                self.down_since = None  # another process brought it back
            return
        now = time.monotonic()
        if self.down_since is None:
            self.down_since = datetime.now(UTC)
            self._backoff, self._next_try = BACKOFF_FIRST_S, now
            log.warning("the embedded PostgreSQL in %s stopped; restarting it", embedded.pgdata)
        if now < self._next_try or self._stop.is_set():
            return
        try:
            url = embedded.restart()
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            self.error = redact_text(first)
            self._next_try = time.monotonic() + self._backoff
            log.warning("restarting the embedded PostgreSQL failed (next try in %.0f s): %s",
                        self._backoff, self.error)
            self._backoff = min(self._backoff * 2, BACKOFF_MAX_S)
            return
        self.db.reconnect(url)
        self.restarts += 1
        self.last_restart_at = datetime.now(UTC)
        log.warning("the embedded PostgreSQL is running again (restart %d, down %.1f s)",
                    self.restarts, (self.last_restart_at - self.down_since).total_seconds())
        self.down_since, self.error = None, None


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")
