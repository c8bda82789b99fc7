"""The sparse stage's two sources side by side on a `search_scale.py build` database: its HNSW
graph against exact scoring over the other stages' candidates (app/retrieval/queries.py
`_pool_nearest`) with several pool sizes. Per variant: recall@10 of the fused top 10 against
exact scoring of the same query (`hybrid_search(exact=True)`), p50/p95 over the queries, warm
(ten untimed searches first), hnsw.ef_search 60. The figures behind SPARSE_POOL and
SPARSE_POOL_MAX_VECTORS (bench/README.md, "Search at scale").

    nice .venv/bin/python bench/sparse_pool.py --workdir /tmp/hrs-100000 --queries 60
    nice .venv/bin/python bench/sparse_pool.py --workdir /tmp/hrs-1000000 --queries 30 --pools 0,2000,5000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import embedded_database, percentile

RUN_ALL = False  # needs a search_scale.py build (minutes to hours)
TOP_K = 10


def run(db: Any, queries: list[dict[str, Any]], *, pool: int | None) -> dict[str, Any]:
    """pool None: exact scoring (the truth); 0: the graph; N: the pool of N matches."""
    import app.retrieval.queries as queries_module
    from app.retrieval import hybrid_search, resolve_space, search_settings
    from bench.search_scale_measure import StoredEmbedder, _embedding, _filters

    emb = StoredEmbedder()
    if pool:
        queries_module.SPARSE_POOL = pool
    ids, lat = [], []
    for q in queries:
        filters = _filters(q)
        t0 = time.perf_counter()
        with db.session() as s:
            space = resolve_space(s, emb, settings=search_settings(filters, candidates=60,
                                                                   ef_search=60))
            hits = hybrid_search(s, space, q["text"], _embedding(q), filters=filters,
                                 top_k=TOP_K, candidates=60, configured=True,
                                 exact=pool is None, sparse_from_pool=bool(pool))
        lat.append((time.perf_counter() - t0) * 1e3)
        ids.append([h.chunk_id for h in hits])
    return {"ids": ids, "lat": lat}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--queries", type=int, default=60, help="queries per filter mode")
    ap.add_argument("--modes", default="none", help="filter modes (none,date,source)")
    ap.add_argument("--pools", default="0,500,2000,5000", help="0: the graph")
    args = ap.parse_args(argv)
    queries = json.loads((args.workdir / "queries.json").read_text())
    with embedded_database(args.workdir / "pg") as db:
        for mode in args.modes.split(","):
            qs = [q for q in queries if q["mode"] == mode][:args.queries]
            truth = run(db, qs, pool=None)["ids"]
            for pool in (int(x) for x in args.pools.split(",")):
                db.engine.dispose()
                run(db, qs[:10], pool=pool)
                r = run(db, qs, pool=pool)
                recall = sum(len(set(g) & set(t)) / len(t)
                             for g, t in zip(r["ids"], truth, strict=True) if t) / len(qs)
                print(f"{mode:<6} {'graph' if pool == 0 else f'pool {pool}':<10} recall@10 "
                      f"{recall:.3f}  p50 {percentile(r['lat'], 50):.1f} ms  "
                      f"p95 {percentile(r['lat'], 95):.1f} ms", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
