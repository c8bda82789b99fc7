"""The measure phase of bench/search_scale.py (helper module): latency and recall of homerag's
search over a database that `search_scale.py build` made.

Per query: `search_detailed` in its own session (as the API calls it: active space, SET LOCAL
settings, the fused SQL, hits), query embedding excluded (the synthetic embedder hands back the
query's stored vectors). Ground truth, once per query: the same fused SQL with exact dense and
sparse scoring (`hybrid_search(exact=True)`) for the fused top 10, and numpy brute force over the
stored float16 vectors for the dense stage alone, both after the timed passes. Warm: one
untimed pass over every query first; then each query is timed `--passes` times (default 3)
per mode and ef_search, the percentiles taken over all of them. Exact fallbacks (a filtered
HNSW walk that came up short, re-run exactly) are counted from the statements sent, per pass.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import REPO, cpu_probe, embedded_database, machine, percentile
from bench.search_scale import DAY0, MODES, RESULTS, SPACE_EMBEDDER, SPACE_MODEL

RUN_ALL = False  # helper module, not a bench
TOP_K = 10


class StoredEmbedder:
    """Hands back the vectors of the query being measured (set `current` before searching)."""

    name = SPACE_EMBEDDER
    model_id = SPACE_MODEL
    dim = 1024
    sparse_dim = 250_002

    def __init__(self) -> None:
        self.current: Any = None

    def embed_query(self, text: str) -> Any:
        return self.current

    def embed_documents(self, texts: Any) -> Any:  # pragma: no cover - not used
        raise NotImplementedError


def _filters(q: dict[str, Any]) -> Any:
    from app.retrieval.types import SearchFilters

    if q["mode"] == "date":
        d0 = DAY0.date()
        return SearchFilters(date_from=d0 + timedelta(days=q["day_from"]),
                             date_to=d0 + timedelta(days=q["day_to"]))
    if q["mode"] == "source":
        return SearchFilters(sources=(f"src-{q['source']:02d}",))
    return SearchFilters()


def _mask(q: dict[str, Any], lay: Any) -> np.ndarray | None:
    if q["mode"] == "date":
        day = lay["chunk_day"]
        return (day >= q["day_from"]) & (day <= q["day_to"])
    if q["mode"] == "source":
        return lay["chunk_source"] == q["source"]
    return None


def dense_truth(dense: np.ndarray, queries: list[dict[str, Any]], lay: Any) -> list[set[int]]:
    """Chunk ids of the exact top 10 by inner product over the stored halfvecs (numpy)."""
    qs = np.array([q["dense"] for q in queries], dtype=np.float16).astype(np.float32)
    masks = [_mask(q, lay) for q in queries]
    best_s = np.full((len(qs), TOP_K), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(qs), TOP_K), dtype=np.int64)
    step = 100_000
    for s in range(0, len(dense), step):
        sims = np.asarray(dense[s:s + step], dtype=np.float32) @ qs.T  # (rows, queries)
        sims = sims.T
        for j, m in enumerate(masks):
            if m is not None:
                sims[j, ~m[s:s + step]] = -np.inf
        k = min(TOP_K, sims.shape[1])
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        cand_s = np.concatenate([best_s, np.take_along_axis(sims, part, 1)], axis=1)
        cand_i = np.concatenate([best_i, part + s], axis=1)
        order = np.argsort(-cand_s, axis=1)[:, :TOP_K]
        best_s = np.take_along_axis(cand_s, order, 1)
        best_i = np.take_along_axis(cand_i, order, 1)
    return [{int(i) + 1 for i, v in zip(row_i, row_s, strict=True) if np.isfinite(v)}
            for row_i, row_s in zip(best_i, best_s, strict=True)]


def _embedding(q: dict[str, Any]) -> Any:
    from app.core.types import Embedding

    return Embedding(dense=np.array(q["dense"], dtype=np.float32),
                     sparse={int(k): float(v) for k, v in q["sparse"].items()})


def hybrid_truth(db: Any, queries: list[dict[str, Any]]) -> tuple[list[list[int]], list[float]]:
    """The fused top 10 with exact dense + sparse scoring, and each exact query's ms."""
    from app.retrieval import hybrid_search, resolve_space

    emb = StoredEmbedder()
    out, ms = [], []
    for q in queries:
        t0 = time.perf_counter()
        with db.session() as s:
            space = resolve_space(s, emb)
            hits = hybrid_search(s, space, q["text"], _embedding(q), filters=_filters(q),
                                 top_k=TOP_K, candidates=60, exact=True)
        ms.append((time.perf_counter() - t0) * 1e3)
        out.append([h.chunk_id for h in hits])
    return out, ms


def timed_pass(db: Any, queries: list[dict[str, Any]], *, ef: int,
               stages: tuple[str, ...] = ("dense", "sparse", "fts")) -> dict[str, Any]:
    from app.retrieval import search_detailed

    emb = StoredEmbedder()
    lat, ids = [], []
    for q in queries:
        emb.current = _embedding(q)
        t0 = time.perf_counter()
        with db.session() as s:
            res = search_detailed(s, emb, q["text"], filters=_filters(q), top_k=TOP_K,
                                  candidates=60, stages=stages, ef_search=ef)
        lat.append((time.perf_counter() - t0) * 1e3 - res.timings_ms["embed"])
        ids.append([h.chunk_id for h in res.hits])
    return {"latency_ms": lat, "ids": ids}


def repeated_passes(db: Any, queries: list[dict[str, Any]], *, ef: int, passes: int,
                    stages: tuple[str, ...] = ("dense", "sparse", "fts")) -> dict[str, Any]:
    """`passes` timed passes over `queries`: every latency, the first pass's hits, and whether
    every pass returned the same hits.

    Why more than one: with 30 queries a mode (10^6) one pass's p95 is its second-slowest
    query and its p99 its slowest; at 10^6 four passes in a row over the same 30 date-filtered
    queries gave p95 47.9, 43.0 and 42.7 ms after a cold first one, and single-pass bench runs
    53-68 ms (bench/README.md).
    """
    runs = [timed_pass(db, queries, ef=ef, stages=stages) for _ in range(max(1, passes))]
    return {"latency_ms": [ms for run in runs for ms in run["latency_ms"]],
            "ids": runs[0]["ids"], "stable": all(r["ids"] == runs[0]["ids"] for r in runs)}


def db_setting(db: Any, name: str) -> str:
    from sqlalchemy import text

    with db.engine.connect() as conn:
        return str(conn.execute(text(f"SHOW {name}")).scalar())


def _summary(lat: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(lat, 50), 2), "p95_ms": round(percentile(lat, 95), 2),
            "p99_ms": round(percentile(lat, 99), 2), "mean_ms": round(float(np.mean(lat)), 2)}


def _recall(got: list[list[int]], truth: list[Any]) -> float:
    vals = [len(set(g[:TOP_K]) & set(t)) / len(t) for g, t in zip(got, truth, strict=True) if t]
    return round(float(np.mean(vals)), 4) if vals else float("nan")


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import event, text

    work: Path = args.workdir
    build = json.loads((work / "build.json").read_text())
    queries = json.loads((work / "queries.json").read_text())
    lay = np.load(work / "layout.npz")
    dense = np.load(work / "dense.npy", mmap_mode="r")
    efs = [int(x) for x in args.ef.split(",") if x.strip()]
    n = build["chunks"]
    modes = [m for m in args.modes.split(",") if m in MODES]
    by_mode = {m: [q for q in queries if q["mode"] == m] for m in modes}
    if args.exact_queries:
        by_mode = {m: qs[:args.exact_queries] for m, qs in by_mode.items()}
    name = args.out or f"search_scale_{n}"
    out_path = RESULTS / f"{name}.json"
    result: dict[str, Any] = {"chunks": n, "build": build, "ef_search": efs, "top_k": TOP_K,
                              "candidates": 60, "modes": {}, "machine": machine()}
    if args.merge and out_path.exists():  # add or replace these modes in an earlier result
        result = {**json.loads(out_path.read_text()), "machine": machine()}
    with embedded_database(work / "pg") as db:
        # The full-text word counts that every `homerag ingest` run refreshes after an ANALYZE
        # (ingest/lexeme_stats.py); `build` loads the tables itself and never took them, so
        # without this the full-text stage ran the statement an index under 50,000 chunks
        # gets (at 10^6 the date filter's p95 ~5 ms higher, bench/README.md).
        from ingest.lexeme_stats import refresh_if_stale

        t0 = time.perf_counter()
        if refresh_if_stale(db):
            print(f"full-text word counts taken: {time.perf_counter() - t0:.1f}s", flush=True)
        with db.engine.connect() as conn:
            result["lexeme_counts"] = conn.execute(text(
                "SELECT count(*) FROM lexeme_frequencies")).scalar_one()
        fallbacks = [0]

        @event.listens_for(db.engine, "before_cursor_execute")
        def _count(conn: Any, cursor: Any, statement: str, *a: Any) -> None:
            if "scored AS MATERIALIZED" in statement:
                fallbacks[0] += 1

        # Timed first, ground truth after: the exact scoring reads every vector and chunk
        # row and numpy maps every stored vector, which pushes the search's pages out of
        # PostgreSQL's and the kernel's caches as no serving process would (at 10^6 with a
        # 6 GB cache, filtered p95 63 ms when timed after the truth, 50-54 ms before it).
        for qs in by_mode.values():  # warm: every page any ef touches, untimed
            timed_pass(db, qs, ef=max(efs))
            timed_pass(db, qs, ef=max(efs), stages=("dense",))
        passes: dict[str, dict[int, Any]] = {m: {} for m in by_mode}
        probe = [cpu_probe()]
        print(f"cpu probe (10^7 additions) before the timed passes: {probe[0]} s", flush=True)
        for m, qs in by_mode.items():
            for ef in efs:
                # Prepared statements and their cached generic plans live per connection, and
                # a generic plan keeps the plan the planner chose under the ef_search it was
                # made with (pgvector's cost estimate grows with ef_search: at 10^4 chunks and
                # ef_search 320 an exact scan is cheaper). Fresh connections per ef, a few
                # untimed searches to reach the steady (prepared, generic-plan) state.
                db.engine.dispose()
                timed_pass(db, qs[:12], ef=ef)
                timed_pass(db, qs[:12], ef=ef, stages=("dense",))
                load0 = os.getloadavg()[0]
                fallbacks[0] = 0
                hyb = repeated_passes(db, qs, ef=ef, passes=args.passes)
                fb = fallbacks[0] // max(1, args.passes)  # the same queries fall back each pass
                den = repeated_passes(db, qs, ef=ef, passes=args.passes, stages=("dense",))
                passes[m][ef] = (hyb, fb, den, [round(load0, 1), round(os.getloadavg()[0], 1)])
        probe.append(cpu_probe())
        result["cpu_probe_s"] = {"before": probe[0], "after": probe[1]}
        print(f"cpu probe after them: {probe[1]} s", flush=True)
        truth_hybrid, exact_ms = {}, {}
        for m, qs in by_mode.items():
            t0 = time.perf_counter()
            truth_hybrid[m], ms = hybrid_truth(db, qs)
            exact_ms[m] = _summary(ms)
            print(f"exact hybrid {m}: {time.perf_counter() - t0:.0f}s", flush=True)
        t_dense = time.perf_counter()
        truth_dense = {m: dense_truth(dense, qs, lay) for m, qs in by_mode.items()}
        print(f"numpy exact dense: {time.perf_counter() - t_dense:.0f}s", flush=True)
        for m, qs in by_mode.items():
            rows: dict[str, Any] = {"queries": len(qs), "exact_ms": exact_ms[m], "by_ef": {},
                                    "shared_buffers": db_setting(db, "shared_buffers"),
                                    "truth": "after the timed passes"}
            for ef in efs:
                hyb, fb, den, load = passes[m][ef]
                rows["by_ef"][str(ef)] = {
                    "hybrid": {**_summary(hyb["latency_ms"]),
                               "recall_at_10": _recall(hyb["ids"], truth_hybrid[m]),
                               "queries_with_k_rows": sum(len(i) >= TOP_K for i in hyb["ids"]),
                               "exact_fallbacks": fb, "passes": args.passes,
                               "same_hits_every_pass": hyb["stable"]},
                    "dense_only": {**_summary(den["latency_ms"]),
                                   "recall_at_10": _recall(den["ids"], truth_dense[m])},
                    "loadavg": load}
                h, d = rows["by_ef"][str(ef)]["hybrid"], rows["by_ef"][str(ef)]["dense_only"]
                print(f"{n:>9,} {m:<6} ef={ef:<4} hybrid p50/p95/p99 {h['p50_ms']}/{h['p95_ms']}/"
                      f"{h['p99_ms']} ms ({args.passes} passes, same hits "
                      f"{h['same_hits_every_pass']}) recall {h['recall_at_10']} k-rows "
                      f"{h['queries_with_k_rows']}/{len(qs)} fb {fb} | dense {d['p50_ms']}/"
                      f"{d['p95_ms']} ms recall {d['recall_at_10']} | load {load[0]:.1f}",
                      flush=True)
            result["modes"][m] = rows
        if args.api_rss:
            with served_by_lexical_embedder(db):
                result["api"] = api_rss(db.url, work, [q["text"] for q in queries[:100]])
    RESULTS.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=1, default=str))
    print(f"wrote {out_path}")
    return result


# The server embeds each question itself, and the BGE-M3 weights the synthetic space is labelled
# with are not on this machine: for the API phase the space is relabelled as a lexical-hash one
# of the same shapes (the server then builds that embedder from the model id). Same statements,
# same indexes; the questions' vectors are the lexical model's, so no recall is measured there.
LEXICAL_SAME_SHAPES = ("lexical-hash", "homerag/lexical-hash-v1?dim=1024&sparse=250002&prefix=5")


@contextmanager
def served_by_lexical_embedder(db: Any) -> Iterator[None]:
    from sqlalchemy import text

    with db.engine.begin() as conn:
        conn.execute(text("UPDATE embedding_spaces SET embedder = :e, model_id = :m"),
                     {"e": LEXICAL_SAME_SHAPES[0], "m": LEXICAL_SAME_SHAPES[1]})
    try:
        yield
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE embedding_spaces SET embedder = :e, model_id = :m"),
                         {"e": SPACE_EMBEDDER, "m": SPACE_MODEL})


def api_rss(url: str, work: Path, texts: list[str], port: int = 8765) -> dict[str, Any]:
    """RSS of a real `homerag serve` on this database after `texts` searches over HTTP."""
    import httpx

    env = {**os.environ, "HOMERAG_DATABASE_URL": url, "HOMERAG_DATA_DIR": str(work / "api"),
           "HOMERAG_LLM_BASE_URL": "", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port),
                             "--log-level", "warning"], env=env, cwd=REPO)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        rss0 = _rss(proc.pid)
        lat, errors = [], 0
        with httpx.Client(base_url=base, timeout=60) as client:
            for t in texts:
                t0 = time.perf_counter()
                r = client.get("/api/search", params={"q": t, "top_k": TOP_K})
                lat.append((time.perf_counter() - t0) * 1e3)
                errors += r.status_code != 200
        return {"rss_mb_after_start": rss0, "rss_mb_after_searches": _rss(proc.pid),
                "searches": len(texts), "errors": errors, **_summary(lat)}
    finally:
        proc.terminate()
        proc.wait(30)


def _rss(pid: int) -> dict[str, float]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key = line.split(":")[0]
        if key in ("VmRSS", "VmHWM"):
            out[key] = round(int(line.split()[1]) / 1024, 1)
    return out
