"""The API under load on loopback: 1, 8 and 32 concurrent clients on /api/search and /api/ask
against a real `homerag serve` (uvicorn, its own process) with the OpenAI stub (tests/openai_stub.py,
its own process) as the LLM.

The index is the small bench corpus (bench/small_search.py: 2,000 mixed documents, ~4,400
chunks, lexical embedder), kept in --workdir. Clients are asyncio tasks on one httpx
AsyncClient each (keep-alive), in this process; each level runs for --seconds after a warm-up.
Reported per endpoint and level: requests/s, p50/p95/p99, errors (any non-200 or transport
error; /api/ask answers 503 + Retry-After by design when more answers arrive than
HOMERAG_LLM_CONCURRENCY + HOMERAG_LLM_QUEUE, see app/llm/gate.py), the server's RSS, and the
most database connections the server held open, and busy, at once (pg_stat_activity sampled
every 50 ms).

    nice .venv/bin/python bench/api_load.py --workdir /tmp/hrs-small
    nice .venv/bin/python bench/api_load.py --workdir /tmp/hrs-small --pool 2,3 --out api_load_pool2
        # --pool SIZE,OVERFLOW: the server's SQLAlchemy pool for this run (patched in its process)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, bench_workdir, embedded_database, machine, percentile

RESULTS = REPO / "bench" / "results"
_SERVE = """
import sys
sys.argv = ["homerag", "serve", "--port", sys.argv[1], "--log-level", "warning"]
pool = {pool!r}
if pool:
    import app.core.db as db
    make = db.make_engine
    def make_engine(url, **kw):
        if "poolclass" not in kw:
            kw = {{"pool_size": pool[0], "max_overflow": pool[1], **kw}}
        return make(url, **kw)
    db.make_engine = make_engine
from app.cli import main
main()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


class ConnectionSampler:
    """The most connections to the homerag database open, and busy (not idle), at once,
    sampled every 50 ms."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.peak = 0
        self.peak_busy = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from sqlalchemy import text

        with self.db.engine.connect() as conn:
            while not self._stop.wait(0.05):
                n, busy = conn.execute(text(
                    "SELECT count(*), count(*) FILTER (WHERE state <> 'idle') "
                    "FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")).one()
                self.peak = max(self.peak, int(n or 0))
                self.peak_busy = max(self.peak_busy, int(busy or 0))
                conn.rollback()

    def __enter__(self) -> ConnectionSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


async def _level(base: str, endpoint: str, texts: list[str], concurrency: int,
                 seconds: float) -> dict[str, Any]:
    import httpx

    lat: list[float] = []
    errors: dict[str, int] = {}
    deadline = time.perf_counter() + seconds

    async def client(i: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            k = i
            while time.perf_counter() < deadline:
                text = texts[k % len(texts)]
                k += concurrency
                t0 = time.perf_counter()
                try:
                    if endpoint == "search":
                        r = await http.get("/api/search", params={"q": text})
                    else:
                        r = await http.post("/api/ask", json={"question": text})
                    if r.status_code != 200:
                        errors[str(r.status_code)] = errors.get(str(r.status_code), 0) + 1
                        continue
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    continue
                lat.append((time.perf_counter() - t0) * 1e3)

    t0 = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    wall = time.perf_counter() - t0
    return {"concurrency": concurrency, "requests": len(lat), "errors": errors,
            "requests_per_s": round(len(lat) / wall, 1),
            "p50_ms": round(percentile(lat, 50), 1), "p95_ms": round(percentile(lat, 95), 1),
            "p99_ms": round(percentile(lat, 99), 1)}


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    import httpx

    from bench.core_measure import StubProcess
    from bench.corpus_text import bench_queries
    from bench.small_search import ensure_index

    levels = [int(x) for x in args.concurrency.split(",")]
    pool = tuple(int(x) for x in args.pool.split(",")) if args.pool else None
    texts = [q.text for q in bench_queries(200, 7) if q.flavour != "filtered"]
    out: dict[str, Any] = {"machine": machine(), "pool": pool or "default (5 + 10 overflow)",
                           "env": args.env, "seconds_per_level": args.seconds, "endpoints": {}}
    with embedded_database(work / "pg") as db, StubProcess() as stub:
        out["chunks"] = ensure_index(work, db)
        port = _free_port()
        env = {**os.environ, "HOMERAG_DATABASE_URL": db.url,
               "HOMERAG_DATA_DIR": str(work / "api-data"), "HOMERAG_LLM_BASE_URL": stub.base_url,
               "PYTHONPATH": str(REPO)}
        env.update(dict(kv.split("=", 1) for kv in args.env))
        log = (work / "api-server.log").open("a")
        server = subprocess.Popen([sys.executable, "-c", _SERVE.format(pool=pool), str(port)],
                                  env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            out["server_rss_mb_start"] = _rss_mb(server.pid)
            for endpoint in args.endpoints.split(","):
                asyncio.run(_level(base, endpoint, texts, 4, 3.0))  # warm-up
                rows = []
                for c in levels:
                    load0 = os.getloadavg()[0]
                    with ConnectionSampler(db) as sampler:
                        row = asyncio.run(_level(base, endpoint, texts, c, args.seconds))
                    row.update(db_connections_peak=sampler.peak,
                               db_connections_busy_peak=sampler.peak_busy,
                               server_rss_mb=_rss_mb(server.pid),
                               loadavg=[round(load0, 1), round(os.getloadavg()[0], 1)])
                    rows.append(row)
                    print(f"{endpoint:<6} c={c:<3} {row['requests_per_s']:>7} req/s  p50 "
                          f"{row['p50_ms']} p95 {row['p95_ms']} p99 {row['p99_ms']} ms  errors "
                          f"{row['errors'] or 0}  db conns {sampler.peak} (busy {sampler.peak_busy})  rss "
                          f"{row['server_rss_mb']} MB  load {load0:.1f}", flush=True)
                out["endpoints"][endpoint] = rows
        finally:
            server.terminate()
            server.wait(30)
            log.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--concurrency", default="1,8,32")
    ap.add_argument("--endpoints", default="search,ask")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--pool", help="SIZE,OVERFLOW of the server's database pool")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment of the server (e.g. HOMERAG_LLM_QUEUE=64)")
    ap.add_argument("--quick", action="store_true", help="3 s per level")
    ap.add_argument("--out", default="api_load")
    args = ap.parse_args(argv)
    if args.quick:
        args.seconds = 3.0
    with bench_workdir(args.workdir) as work:
        result = run(args, work)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
