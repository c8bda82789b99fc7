"""Search on a small index (the 2,000-document mixed corpus, ~4,400 chunks): where the time goes.

Builds (or reuses, with --workdir) the core bench's mixed corpus ingested with the lexical
embedder, then times `search_detailed` as the API calls it (own session, query embedding
excluded) and, per statement, the round trips it makes. On a shared machine wall times move
with the load, so each variant also reports CPU per search: the client's (this process) and
the PostgreSQL backend's (from /proc/<backend pid>/stat over the whole pass; one pooled
connection so one backend). Wall on an idle machine ~= client CPU + backend CPU + a few
round trips of ~0.05 ms over the unix socket.

    nice .venv/bin/python bench/small_search.py --workdir /tmp/hrs-small     # keeps the index
    nice .venv/bin/python bench/small_search.py --workdir /tmp/hrs-small --explain
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, bench_workdir, embedded_database, machine, percentile

RESULTS = REPO / "bench" / "results"
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def ensure_index(work: Path, db: Any) -> int:
    from bench.core_measure import count_chunks, ingest_folder
    from bench.corpus import MANIFEST, generate_corpus
    from ingest.embedders.lexical import LexicalHashEmbedder

    if count_chunks(db) == 0:
        if not (work / "mixed" / MANIFEST).exists():
            generate_corpus(work / "mixed", documents=2000, seed=1)
        ingest_folder(db, work / "mixed", "bench-mixed", LexicalHashEmbedder(), work / "orig")
    return count_chunks(db)


def _cpu_ms(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_MS  # utime + stime


def measure(db: Any, queries: list[Any], *, rounds: int = 3, **options: Any) -> dict[str, Any]:
    """Warm wall latency and CPU per search of `search_detailed(**options)`."""
    from sqlalchemy import event, text

    from app.core.db import make_engine
    from app.retrieval import search_detailed
    from bench.core_measure import _filters
    from ingest.embedders.lexical import LexicalHashEmbedder

    engine = make_engine(db.url, pool_size=1, max_overflow=0)
    sessions = db.sessions.__class__(engine, expire_on_commit=False)
    statements = [0]

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_: Any) -> None:
        statements[0] += 1

    emb = LexicalHashEmbedder()
    with engine.connect() as conn:
        backend = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())

    def once(q: Any) -> float:
        t0 = time.perf_counter()
        with sessions() as s, s.begin():
            res = search_detailed(s, emb, q.text, filters=_filters(q), top_k=8, candidates=60,
                                  **options)
        return (time.perf_counter() - t0) * 1e3 - res.timings_ms["embed"]

    for q in queries:
        once(q)
    out: dict[str, Any] = {}
    groups = {"unfiltered": [q for q in queries if q.flavour != "filtered"],
              "filtered": [q for q in queries if q.flavour == "filtered"]}
    groups["all"] = groups["unfiltered"] + groups["filtered"]
    for name, group in groups.items():
        lat: list[float] = []
        statements[0] = 0
        load0 = os.getloadavg()[0]
        c0, s0 = time.process_time(), _cpu_ms(backend)
        for _ in range(rounds):
            lat += [once(q) for q in group]
        n = len(lat)
        out[name] = {"searches": n, "p50_ms": round(percentile(lat, 50), 2),
                     "p95_ms": round(percentile(lat, 95), 2),
                     "client_cpu_ms": round((time.process_time() - c0) * 1e3 / n, 2),
                     "backend_cpu_ms": round((_cpu_ms(backend) - s0) / n, 2),
                     "statements_per_search": round(statements[0] / n, 2),
                     "loadavg": [round(load0, 1), round(os.getloadavg()[0], 1)]}
    with engine.connect() as conn:  # the pooled connection: what its prepared plans were
        out["prepared"] = [dict(r._mapping) for r in conn.execute(text(
            "SELECT left(regexp_replace(statement, '\\s+', ' ', 'g'), 60) AS statement, "
            "generic_plans, custom_plans FROM pg_prepared_statements "
            "ORDER BY generic_plans + custom_plans DESC LIMIT 6"))]
    engine.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default="small_search")
    args = ap.parse_args(argv)
    from bench.corpus_text import bench_queries

    with bench_workdir(args.workdir) as work, embedded_database(work / "pg") as db:
        chunks = ensure_index(work, db)
        queries = bench_queries(args.queries, 7)
        result = {"chunks": chunks, "queries": len(queries), "machine": machine(),
                  "search": measure(db, queries, rounds=args.rounds)}
        for name, row in result["search"].items():
            print(name, json.dumps(row, default=str))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
