"""Ingest throughput, homerag against LlamaIndex, side by side in one run (issue 14).

    .venv/bin/python bench/ingest_vs_llamaindex.py                 # 2,000 documents, 3 rounds
    .venv/bin/python bench/ingest_vs_llamaindex.py --quick         # 200 documents, 1 round
    .venv/bin/python bench/ingest_vs_llamaindex.py --profile       # + cProfile of homerag's runs

The same corpus (`bench/corpus.py`: PDF, DOCX, HTML, text, Markdown, .eml with attachments; 2/3
German), the same embedded PostgreSQL 18 + pgvector (one server, a fresh database per run), each
tool with its own hashing embedder (256-d dense). Runs alternate between the tools (H L, L H,
...) so that load from other users of the machine hits both alike; every run is printed.
LlamaIndex is installed from PyPI into its own virtualenv (`--peer-venv`, created on first use;
default /work/venvs/bench-llamaindex when /work/venvs exists, else bench/.venv-peer) and run
there by `bench/peer_llamaindex.py`; homerag runs in this interpreter's environment, each run in
a fresh child process. Timed: from the start of the ingest call to everything stored and indexed
(imports and interpreter start-up are not timed, for either tool). Also printed: the CPU seconds
of each run's process tree (start-up included) and of PostgreSQL meanwhile, which other users'
load does not move the way it moves wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench.` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, add_child_arguments, bench_workdir, print_table, write_json

PEER_REQUIREMENTS = ("llama-index-core>=0.14,<0.15", "llama-index-vector-stores-postgres",
                     "llama-index-readers-file", "docx2txt", "psycopg2-binary")
PEER_SCRIPT = REPO / "bench" / "peer_llamaindex.py"


def default_peer_venv() -> Path:
    shared = Path("/work/venvs")
    return shared / "bench-llamaindex" if shared.is_dir() else REPO / "bench" / ".venv-peer"


def ensure_peer_venv(venv: Path) -> Path:
    """The peer virtualenv's python, created and filled from PyPI when missing."""
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import llama_index.core, llama_index.vector_stores.postgres, "
             "llama_index.readers.file, docx2txt, psycopg2; print(llama_index.core.__version__)"]
    if python.exists():
        done = subprocess.run(probe, capture_output=True, text=True)
        if done.returncode == 0:
            return python
    print(f"installing LlamaIndex into {venv} (PyPI) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_REQUIREMENTS], check=True)
    subprocess.run(probe, check=True, capture_output=True)
    return python


def peer_version(python: Path) -> str:
    out = subprocess.run([str(python), "-c", "import llama_index.core as c; print(c.__version__)"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


# -- CPU accounting (wall time on a shared machine moves with other users' load; CPU does not) --
def postgres_cpu_s(pgdata: Path) -> float:
    """CPU seconds of the bench's PostgreSQL so far: the postmaster and its processes, exited
    backends included (the postmaster reaps them: their time is in its children's counters)."""
    try:
        postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(pid) == postmaster:
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        elif int(fields[1]) == postmaster:  # a backend or helper process of this server
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def children_cpu_s() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _timed(cmd: list[str], cwd: Path) -> tuple[float, float, float]:
    """Run `cmd`; (wall s, CPU s of its process tree, CPU s of PostgreSQL meanwhile)."""
    pgdata = cwd / "pg"
    pg0, ch0, t0 = postgres_cpu_s(pgdata), children_cpu_s(), time.perf_counter()
    subprocess.run(cmd, check=True, cwd=cwd)
    return (time.perf_counter() - t0, children_cpu_s() - ch0, postgres_cpu_s(pgdata) - pg0)


# -- one run of each tool ----------------------------------------------------------------------
def _fresh_database(admin_url: str, name: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.replace("/postgres?", f"/{name}?", 1)


def _drop_database(admin_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def run_homerag(admin_url: str, corpus: Path, work: Path, tag: str, *,
                profile: Path | None, workers: int | None,
                code: Path | None = None) -> dict[str, Any]:
    """One homerag run in a child process; `code`: another checkout's ingest code instead
    (the baseline), with this one's schema."""
    from app.core.db import upgrade_database

    url = _fresh_database(admin_url, f"hr_{tag}")
    upgrade_database(url)
    out = work / f"hr_{tag}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--url", url,
           "--corpus", str(corpus), "--out", str(out), "--originals", str(work / f"orig_{tag}")]
    if code is not None:
        cmd += ["--code", str(code)]
    if profile is not None:
        cmd += ["--profile-out", str(profile)]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    wall, cpu, pg = _timed(cmd, work)
    result = json.loads(out.read_text(encoding="utf-8"))
    result.update(process_s=round(wall, 3), cpu_s=round(cpu, 2), postgres_cpu_s=round(pg, 2))
    _drop_database(admin_url, f"hr_{tag}")
    return result


def run_llamaindex(python: Path, admin_url: str, corpus: Path, work: Path, tag: str, *,
                   workers: int | None) -> dict[str, Any]:
    url = _fresh_database(admin_url, f"li_{tag}")
    out = work / f"li_{tag}.json"
    cmd = [str(python), str(PEER_SCRIPT), "--corpus", str(corpus), "--url", url,
           "--out", str(out)]
    if workers:
        cmd += ["--workers", str(workers)]
    wall, cpu, pg = _timed(cmd, work)
    result = json.loads(out.read_text(encoding="utf-8"))
    result.update(process_s=round(wall, 3), cpu_s=round(cpu, 2), postgres_cpu_s=round(pg, 2))
    _drop_database(admin_url, f"li_{tag}")
    return result


def child(args: argparse.Namespace) -> None:
    """One homerag ingest of the corpus (product defaults, lexical embedder); JSON to --out."""
    if args.code:  # the baseline: another checkout's code, imported before this one's
        sys.path.insert(0, str(args.code))
        for name in [m for m in sys.modules if m.split(".")[0] in ("app", "ingest")]:
            del sys.modules[name]
    from sqlalchemy.orm import sessionmaker

    from app.core.db import Database, make_engine
    from ingest.embedders.lexical import LexicalHashEmbedder
    from ingest.pipeline import IngestOptions, Pipeline
    from ingest.sources.folder import FolderSource

    engine = make_engine(args.url)
    db = Database(url=args.url, engine=engine, sessions=sessionmaker(engine,
                                                                     expire_on_commit=False))
    extra = {"workers": args.workers} if args.workers is not None else {}
    pipeline = Pipeline(db, embedder=LexicalHashEmbedder(),
                        options=IngestOptions(originals_dir=args.originals, trigger="bench",
                                              **extra))
    source = FolderSource("bench", args.corpus)
    profiler = None
    if args.profile_out:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t0 = time.perf_counter()
    report = pipeline.run(source)
    seconds = time.perf_counter() - t0
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(args.profile_out))
    engine.dispose()
    counts = report.to_json()["counts"]
    result = {"tool": "homerag@baseline" if args.code else "homerag", "seconds": round(seconds, 3), "status": report.status,
              "counts": counts, "chunks": report.counts.get("chunks", 0),
              "index_build_s": report.index_build_s,
              "files": sum(counts[k] for k in ("indexed", "failed", "skipped")),
              "problems": [p.message for p in report.problems][:5]}
    args.out.write_text(json.dumps(result), encoding="utf-8")


def print_profile(path: Path, top: int = 25) -> None:
    import pstats

    print(f"\nhomerag profile ({path}), top {top} by cumulative time in the main process:")
    pstats.Stats(str(path)).sort_stats("cumulative").print_stats(top)


# -- the comparison ----------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--documents", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="200 documents, one round")
    ap.add_argument("--peer-venv", type=Path, default=None)
    ap.add_argument("--peer-workers", type=int, default=None,
                    help="LlamaIndex num_workers (default: its own default, one process)")
    ap.add_argument("--workers", type=int, default=None,
                    help="homerag's parse workers (default: the product's, one per core)")
    ap.add_argument("--profile", action="store_true", help="cProfile homerag's first run")
    ap.add_argument("--baseline", type=Path, default=None,
                    help="also run the ingest code of this checkout (e.g. an export of main), "
                         "interleaved, as homerag@baseline")
    ap.add_argument("--workdir", type=Path, default=None, help="keep corpus and database here")
    ap.add_argument("--only", choices=("homerag", "llamaindex"), default=None)
    # child mode (one homerag run in a fresh process)
    add_child_arguments(ap)
    ap.add_argument("--code", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args)
        return
    if args.quick:
        args.documents, args.rounds = 200, 1

    peer = None
    if args.only != "homerag":
        peer = ensure_peer_venv(args.peer_venv or default_peer_venv())
    from app.core.db import EmbeddedPostgres
    from bench.corpus import MANIFEST, generate_corpus

    with bench_workdir(args.workdir) as work:
        corpus = work / f"corpus-{args.documents}-{args.seed}"
        if not (corpus / MANIFEST).exists():
            print(f"generating {args.documents} documents in {corpus} ...", flush=True)
            generate_corpus(corpus, documents=args.documents, seed=args.seed)
        manifest = json.loads((corpus / MANIFEST).read_text(encoding="utf-8"))
        server = EmbeddedPostgres(work / "pg")
        url = server.start()
        admin = url.replace("/homerag?", "/postgres?", 1)
        runs: list[dict[str, Any]] = []
        try:
            for r in range(args.rounds):
                order = ["homerag", "llamaindex"] if r % 2 == 0 else ["llamaindex", "homerag"]
                if args.baseline is not None:
                    order.insert(1, "homerag@baseline")
                for tool in order:
                    if args.only and not tool.startswith(args.only):
                        continue
                    tag = f"{r}"
                    if tool == "homerag@baseline":
                        res = run_homerag(admin, corpus, work, f"b{tag}", profile=None,
                                          workers=None, code=args.baseline)
                    elif tool == "homerag":
                        prof = work / "homerag.prof" if args.profile and r == 0 else None
                        res = run_homerag(admin, corpus, work, tag, profile=prof,
                                          workers=args.workers)
                    else:
                        assert peer is not None
                        res = run_llamaindex(peer, admin, corpus, work, tag,
                                             workers=args.peer_workers)
                    res["round"] = r
                    res["docs_per_s"] = round(manifest["documents"] / res["seconds"], 1)
                    runs.append(res)
                    print(f"round {r} {tool:10s} {res['seconds']:7.2f} s  "
                          f"{res['docs_per_s']:7.1f} docs/s  chunks {res['chunks']}", flush=True)
        finally:
            server.stop()
        if args.profile and (work / "homerag.prof").exists():
            print_profile(work / "homerag.prof")

    def median(tool: str) -> float | None:
        vals = [x["seconds"] for x in runs if x["tool"] == tool]
        return statistics.median(vals) if vals else None

    rows = [[x["round"], x["tool"], x["seconds"], x["docs_per_s"], x["chunks"],
             x.get("index_build_s") or "", x["process_s"], x["cpu_s"], x["postgres_cpu_s"]]
            for x in runs]
    print_table(f"ingest of {manifest['documents']} documents ({manifest['pdf_pages']} PDF pages, "
                f"{manifest['attachments']} mail attachments), every run",
                rows, ["round", "tool", "s", "docs/s", "chunks", "index build s", "process s",
                       "CPU s (tool)", "CPU s (PostgreSQL)"])
    h, li, base = median("homerag"), median("llamaindex"), median("homerag@baseline")
    summary: dict[str, Any] = {"documents": manifest["documents"], "runs": runs,
                               "homerag_median_s": h, "llamaindex_median_s": li,
                               "baseline_median_s": base}
    if peer is not None:
        summary["llamaindex_version"] = peer_version(peer)
    if h and li:
        summary["ratio"] = round(li / h, 2)
        print(f"\nmedian: homerag {manifest['documents'] / h:.1f} docs/s, LlamaIndex "
              f"{manifest['documents'] / li:.1f} docs/s: homerag is {li / h:.2f}x "
              f"LlamaIndex's throughput (target >= 3x)")
    if base and li:
        summary["baseline_ratio"] = round(li / base, 2)
        print(f"baseline ({args.baseline}): {manifest['documents'] / base:.1f} docs/s, "
              f"{li / base:.2f}x LlamaIndex's throughput")
    path = write_json("ingest_vs_llamaindex", summary)
    print(f"figures: {path}")


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
