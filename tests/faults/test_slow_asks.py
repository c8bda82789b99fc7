"""Slow answers under load (issue 12): 40 asks at once against a real `homerag serve` whose
model takes seconds to answer. No database connection is held while the model writes, so
/api/health and /api/status keep answering; the model's gate lets HOMERAG_LLM_CONCURRENCY
answers run and a few wait, and refuses the rest at once with 503 + Retry-After (never 500),
in the shape of each interface (problem detail, OpenAI error for /v1).
"""

from __future__ import annotations

import re
import threading
import time

import pytest
from sqlalchemy import text

from tests.faults.load import burst
from tests.faults.support import serving, wait_for_health
from tests.openai_stub import Reply

pytestmark = pytest.mark.slow

DELAY = 3.0
LIMIT, QUEUE, WAIT = 4, 8, 5.0


def test_forty_slow_asks_are_bounded_and_other_routes_keep_answering(corpus, pg_url,
                                                                      openai_stub, tmp_path):
    db, data_dir = corpus
    in_flight: list[float] = []
    lock = threading.Lock()

    def slow(request):
        with lock:
            in_flight.append(time.monotonic())
        return Reply("The rent rises to 950 euros from March [1].", first_byte_delay=DELAY)

    openai_stub.reply_with(slow)
    app_name = "fault-serve"
    env = {"HOMERAG_DATABASE_URL": f"{pg_url}&application_name={app_name}",
           "HOMERAG_DATA_DIR": str(data_dir), "HOMERAG_LLM_BASE_URL": openai_stub.base_url,
           "HOMERAG_LLM_MODEL": "stub", "HOMERAG_LLM_TIMEOUT": "30",
           "HOMERAG_LLM_CONCURRENCY": str(LIMIT), "HOMERAG_LLM_QUEUE": str(QUEUE),
           "HOMERAG_LLM_QUEUE_TIMEOUT": str(WAIT)}

    def server_connections() -> int:
        with db.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE "
                                         "application_name = :n"), {"n": app_name}).scalar())

    with serving(env, cwd=tmp_path, log=tmp_path / "serve.log") as served:
        wait_for_health(served)
        result = burst(served.base, clients=40, question="How much is the rent?",
                       count_connections=server_connections)
        pool = wait_for_health(served)["database"]["pool"]

    statuses = result.by_status()
    assert set(statuses) <= {200, 503}, (statuses, [a.body for a in result.asks
                                                    if a.status not in (200, 503)][:3])
    ok = [a for a in result.asks if a.status == 200]
    refused = [a for a in result.asks if a.status == 503]
    # 4 answer at once, 4 of the 8 queued get a slot when those finish, the rest are refused.
    assert LIMIT <= len(ok) <= LIMIT + QUEUE and len(refused) >= 40 - LIMIT - QUEUE, statuses
    assert len(openai_stub.chat_requests) == len(ok)
    for a in refused:
        assert a.retry_after is not None and int(a.retry_after) >= 1, a
        if a.kind == "v1":
            assert a.body["error"]["code"] == "llm_busy" and a.body["error"]["type"] == \
                "server_error", a.body
        else:
            assert a.body["code"] == "llm_busy" and a.body["status"] == 503, a.body
            assert re.search(r"busy: 4 answers are being written", a.body["detail"])
    # No more than LIMIT model calls overlapped (each lasts DELAY seconds).
    overlap = max(sum(1 for s in in_flight if t <= s < t + DELAY - 0.2) for t in in_flight)
    assert overlap <= LIMIT, overlap
    # The other routes kept answering: no failure, none near the old 30 s pool hang.
    for path, probe in result.probes.items():
        assert probe.results and set(probe.statuses()) == {200}, (path, probe.statuses())
        worst = max(ms for _, _, ms in probe.results)
        assert worst < 5000, f"{path} took {worst:.0f} ms"
        print(f"{path}: {len(probe.results)} probes, p95 {probe.p95_ms():.0f} ms, "
              f"max {worst:.0f} ms")
    # The pool never ran dry: far fewer connections than the pool's 5 + 10.
    assert pool["peak"] < pool["size"] + pool["max_overflow"], pool
    assert max(result.connections) <= pool["size"] + pool["max_overflow"], result.connections
    print(f"asks {statuses} in {result.seconds:.1f} s; pool peak {pool['peak']}, "
          f"server connections at most {max(result.connections)}")
