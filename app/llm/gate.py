"""`ChatGate`: how many language-model calls run at once per endpoint, and who is refused.

A burst of slow answers used to hold every server thread and database connection until the
routes starved and failed with HTTP 500. The gate lets HOMERAG_LLM_CONCURRENCY calls run,
HOMERAG_LLM_QUEUE more wait up to HOMERAG_LLM_QUEUE_TIMEOUT seconds, and refuses the rest at
once with `LLMBusyError` (HTTP 503 with Retry-After), so other routes keep their threads.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections import deque
from collections.abc import Iterator

from app.core.errors import LLMBusyError


def _secs(seconds: float) -> str:
    return f"{round(seconds, 1):g}"


class ChatGate:
    """At most `limit` model calls at once, at most `queue` more waiting up to `wait` seconds
    each (first come, first served); any other call is refused at once with `LLMBusyError`.

    Refusing early keeps a burst of slow answers from holding every server thread (and so
    every other route) while they wait. `retry_after()` is the recent mean slot time.
    """

    def __init__(self, *, limit: int, queue: int, wait: float, where: str = "") -> None:
        self.limit = max(1, limit)
        self.queue = max(0, queue)
        self.wait = max(0.0, wait)
        self.where = where
        self.running = 0
        self.waiting = 0
        self.refused = 0
        self._cond = threading.Condition()
        self._held_s: deque[float] = deque(maxlen=20)

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        started = self._enter()
        try:
            yield
        finally:
            with self._cond:
                self.running -= 1
                self._held_s.append(time.monotonic() - started)
                self._cond.notify()

    def _enter(self) -> float:
        with self._cond:
            if self.running >= self.limit:
                if self.waiting >= self.queue:
                    self.refused += 1
                    raise self._busy(f"{self.waiting} more are waiting")
                self.waiting += 1
                try:
                    free = self._cond.wait_for(lambda: self.running < self.limit, self.wait)
                finally:
                    self.waiting -= 1
                if not free:
                    self.refused += 1
                    raise self._busy(f"none came free within {_secs(self.wait)} s")
            self.running += 1
            return time.monotonic()

    def retry_after(self) -> int:
        """Seconds after which a slot is likely free: the mean of recent slot times (1..60)."""
        held = list(self._held_s)
        mean = sum(held) / len(held) if held else 5.0
        return min(60, max(1, math.ceil(mean)))

    def _busy(self, why: str) -> LLMBusyError:
        where = f" at {self.where}" if self.where else ""
        seconds = self.retry_after()
        return LLMBusyError(
            f"the language model{where} is busy: {self.limit} answers are being written and "
            f"{why} (HOMERAG_LLM_CONCURRENCY); try again in {seconds} s",
            retry_after=seconds)

    def stats(self) -> dict[str, int]:
        with self._cond:
            return {"limit": self.limit, "running": self.running, "waiting": self.waiting,
                    "queue": self.queue, "refused": self.refused}
