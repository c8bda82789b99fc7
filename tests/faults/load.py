"""A burst of slow asks against a served homerag, with probes of other routes meanwhile and a
count of the server's database connections (shared by tests/faults and bench/faults.py)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.faults.support import Probe


@dataclass
class AskOutcome:
    kind: str  # "ask", "stream" or "v1"
    status: int  # 0: the request itself failed (transport)
    seconds: float
    retry_after: str | None = None
    body: Any = None


@dataclass
class Burst:
    asks: list[AskOutcome] = field(default_factory=list)
    probes: dict[str, Probe] = field(default_factory=dict)
    connections: list[int] = field(default_factory=list)  # samples of the server's sessions
    seconds: float = 0.0

    def by_status(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for a in self.asks:
            out[a.status] = out.get(a.status, 0) + 1
        return out


KINDS = ("ask", "stream", "v1")


def one_ask(base: str, kind: str, question: str) -> AskOutcome:
    t0 = time.monotonic()
    with httpx.Client(timeout=120) as client:
        try:
            if kind == "ask":
                r = client.post(f"{base}/api/ask", json={"question": question})
                body = r.json()
            elif kind == "stream":
                with client.stream("POST", f"{base}/api/ask/stream",
                                   json={"question": question}) as r:
                    text = r.read().decode()
                body = text if r.status_code == 200 else json.loads(text)
            else:
                r = client.post(f"{base}/v1/chat/completions", json={
                    "model": "homerag", "messages": [{"role": "user", "content": question}]})
                body = r.json()
        except httpx.HTTPError as exc:
            return AskOutcome(kind, 0, time.monotonic() - t0, body=repr(exc))
    return AskOutcome(kind, r.status_code, time.monotonic() - t0,
                      r.headers.get("retry-after"), body)


def burst(base: str, *, clients: int, question: str,
          count_connections: Callable[[], int] | None = None,
          probe_paths: tuple[str, ...] = ("/api/health", "/api/status"),
          probe_every: float = 0.1) -> Burst:
    """`clients` asks at once (ask, stream and /v1 in turn) while the probe paths are fetched
    one after another every `probe_every` s, until every ask has its answer."""
    out = Burst(probes={p: Probe(base + p) for p in probe_paths})
    done = threading.Event()
    started = time.monotonic()

    def probe() -> None:
        with httpx.Client(timeout=60) as client:
            while not done.is_set():
                for p in out.probes.values():
                    p.once(client, started)
                if count_connections is not None:
                    out.connections.append(count_connections())
                done.wait(probe_every)

    watcher = threading.Thread(target=probe, daemon=True)
    watcher.start()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [pool.submit(one_ask, base, KINDS[i % len(KINDS)], question)
                   for i in range(clients)]
        out.asks = [f.result() for f in futures]
    out.seconds = time.monotonic() - started
    done.set()
    watcher.join(timeout=60)
    return out
