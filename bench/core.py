"""Core bench: ingest throughput, re-ingest, search latency at 100k chunks, ask overhead.

Lexical-hash embedder, a fresh embedded PostgreSQL under /tmp (removed afterwards), the
synthetic corpus from bench/corpus.py. Prints a table and writes bench/out/core.json.

    .venv/bin/python bench/core.py              # full: 2,000 docs, >= 100,000 chunks
    .venv/bin/python bench/core.py --quick      # smoke run: 120 docs, 3,000 chunks
    .venv/bin/python bench/core.py --workdir /tmp/hrb-keep --only search,ask
        # reuse a kept index (built by an earlier run with the same --workdir)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import OUT_DIR, bench_workdir, embedded_database, print_table, write_json
from bench.corpus import MANIFEST, generate_corpus
from bench.corpus_text import bench_queries

PHASES = ("ingest", "search", "ask")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small smoke run (seconds to a minute)")
    ap.add_argument("--documents", type=int, help="mixed corpus size (default 2000; quick 120)")
    ap.add_argument("--chunks", type=int, help="index size for search (default 100000; quick 3000)")
    ap.add_argument("--queries", type=int, help="search queries per round (default 200; quick 24)")
    ap.add_argument("--questions", type=int, help="ask questions (default 60; quick 8)")
    ap.add_argument("--rounds", type=int, default=2, help="measured passes over the queries")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", default=",".join(PHASES), help="phases: ingest,search,ask")
    ap.add_argument("--workdir", type=Path, help="keep corpus and database here (reused later)")
    ap.add_argument("--out", help="JSON name under bench/out/ (default core; quick: core-quick)")
    ap.add_argument("--out-dir", type=Path, default=OUT_DIR, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    quick = args.quick
    args.out = args.out or ("core-quick" if quick else "core")  # a smoke run keeps the figures
    args.documents = args.documents or (120 if quick else 2000)
    args.chunks = args.chunks or (3000 if quick else 100_000)
    args.queries = args.queries or (24 if quick else 200)
    args.questions = args.questions or (8 if quick else 60)
    args.phases = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        ap.error(f"--only: unknown phase(s) {', '.join(sorted(unknown))}")
    return args


def run(args: argparse.Namespace, workdir: Path, db: Any = None) -> dict[str, Any]:
    """Run the selected phases; on `db` if given (the smoke test's), else on a fresh embedded
    PostgreSQL in `workdir`."""
    if db is None:
        with embedded_database(workdir / "pg") as fresh:
            return run(args, workdir, fresh)
    from bench.core_measure import (
        grow_index,
        index_stats,
        measure_ask,
        measure_ingest,
        measure_search,
    )
    from ingest.embedders.lexical import LexicalHashEmbedder

    results: dict[str, Any] = {"args": {k: str(v) if isinstance(v, Path) else v
                                        for k, v in vars(args).items()}}
    embedder = LexicalHashEmbedder()
    originals = workdir / "originals"
    if "ingest" in args.phases:
        mixed = workdir / "mixed"
        if not (mixed / MANIFEST).exists():
            t0 = time.perf_counter()
            generate_corpus(mixed, documents=args.documents, seed=args.seed)
            print(f"generated {args.documents} documents in {time.perf_counter() - t0:.0f}s")
        results["ingest"] = measure_ingest(db, mixed, embedder, originals)
        first = results["ingest"]["first"]
        print(f"ingested {first['counts']['indexed']} documents, {first['chunks']} chunks "
              f"in {first['seconds']}s")
    if "search" in args.phases or "ask" in args.phases:
        print(f"growing the index to {args.chunks} chunks ...")
        results["grow"] = grow_index(db, workdir, embedder, originals,
                                     target_chunks=args.chunks, seed=args.seed)
        results["index"] = index_stats(db)
    if "search" in args.phases:
        results["search"] = measure_search(db, embedder,
                                           bench_queries(args.queries, args.seed + 6),
                                           rounds=args.rounds)
    if "ask" in args.phases:
        questions = [q for q in bench_queries(args.questions * 2, args.seed + 99)
                     if q.flavour != "keyword"][: args.questions]
        results["ask"] = measure_ask(db, embedder, workdir, questions)
    return results


def report(results: dict[str, Any]) -> None:
    rows: list[list[Any]] = []
    if "ingest" in results:
        first, again = results["ingest"]["first"], results["ingest"]["reingest"]
        corpus = results["ingest"]["corpus"]
        rows += [
            ["ingest: documents/s", first["documents_per_s"],
             f"{corpus['documents']} docs ({first['counts']['indexed']} indexed) "
             f"in {first['seconds']} s"],
            ["ingest: PDF pages/s", first["pdf_pages_per_s"], f"{corpus['pdf_pages']} pages"],
            ["ingest: chunks/s", first["chunks_per_s"], f"{first['chunks']} chunks stored"],
            ["re-ingest unchanged: s", again["seconds"],
             f"{again['percent_of_first']} % of first (target <= 2 %)"],
        ]
        if first["problems"]:
            rows.append(["ingest: problems", sum(first["problems"].values()),
                         ", ".join(f"{k}={v}" for k, v in first["problems"].items())])
    if "grow" in results:
        batches = results["grow"]["batches"]
        secs = sum(b["seconds"] for b in batches)
        chunks = sum(b["chunks"] for b in batches)
        if secs:
            rows.append(["text corpus: chunks/s", round(chunks / secs, 1),
                         f"{chunks} chunks in {secs:.0f} s ({len(batches)} batches)"])
        idx = results["index"]
        rows.append(["index size: chunks", idx["chunks"],
                     f"{idx['documents']} documents; chunks {idx['chunks_size']}, "
                     f"vectors {idx['embeddings_size']}"])
    if "search" in results:
        s = results["search"]
        rows += [
            ["search p50 ms (ex embed)", s["search_ex_embed"]["p50_ms"],
             f"{s['queries']} queries x {s['rounds']}, warm"],
            ["search p95 ms (ex embed)", s["search_ex_embed"]["p95_ms"], "target <= 50 ms"],
            ["query embedding p50/p95 ms",
             f"{s['query_embedding']['p50_ms']}/{s['query_embedding']['p95_ms']}", "lexical-hash"],
        ]
        rows += [[f"  {k} p50/p95 ms", f"{v['p50_ms']}/{v['p95_ms']}", ""]
                 for k, v in s["by_flavour"].items()]
    if "ask" in results:
        a = results["ask"]
        rows += [
            ["ask overhead p50 ms", a["overhead"]["p50_ms"], f"{a['questions']} questions"],
            ["ask overhead p95 ms", a["overhead"]["p95_ms"], "target <= 100 ms"],
            ["  ask total / stub own p50 ms",
             f"{a['total']['p50_ms']}/{a['stub_own']['p50_ms']}",
             f"retrieval p50 {a['retrieval']['p50_ms']} ms, modes {a['modes']}"],
        ]
    print_table("homerag core bench (lexical-hash embedder, embedded PostgreSQL)", rows,
                ("figure", "value", "notes"))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    t0 = time.perf_counter()
    with bench_workdir(args.workdir) as workdir:
        results = run(args, workdir)
    results["wall_s"] = round(time.perf_counter() - t0, 1)
    report(results)
    path = write_json(args.out, results, args.out_dir)
    print(f"\nwrote {path} (wall {results['wall_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
