"""Re-sync cost: a large folder ingested once, 1 % of it changed, synced again (issue 14).

    .venv/bin/python bench/resync.py                          # 100,000 documents (long)
    .venv/bin/python bench/resync.py --documents 20000        # a smaller corpus
    .venv/bin/python bench/resync.py --quick                  # 1,000 documents, smoke run
    .venv/bin/python bench/resync.py --workdir DIR            # keep corpus and database in DIR

The corpus is `bench/corpus.py`'s mix (PDF, DOCX, HTML, text, Markdown, .eml with attachments),
small documents (`--size 0.3`), generated in parts of 10,000 (`part-NN/`, seed + part) on two
processes and kept (`--parts`: one set of parts serves runs of several sizes, each run's corpus a
hard-linked copy of the first parts). Steps, each a fresh child process as `homerag sync` would be (product defaults:
originals kept, parse workers, lexical embedder, a bulk first import):

1. full: the first ingest of the whole folder (timed; RSS of the process and its parse workers
   sampled every second and recorded when 10^4, 2x10^4, 5x10^4, 10^5 items are done);
2. unchanged: a sync with nothing changed (the stat walk and the ledger alone), after a
   VACUUM (ANALYZE) of the database that is not timed (what autovacuum does between the
   import and the next scheduled sync);
3. resync: `--change` (1 %) of the files changed: most edited (`--edits rendered`: rendered
   anew, same format; `--edits appended`: a paragraph appended to text, Markdown and HTML
   files), a few deleted and a few added; then a sync, timed, with where its time went (each phase
   timed in the run's own process: the stat walk, the ledger read, hashing, waiting for the
   parse workers, embedding and writing, removals, the run's bookkeeping);
4. profile (`--profile`): another 1 % changed, synced under cProfile; the top functions printed.

Printed: the ratio of the re-sync's time to the full ingest's, and the index checked against the
folder afterwards (documents stored = files on disk, the edited ones with their new hash).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from multiprocessing import Pool
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench.` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import add_child_arguments, bench_workdir, cpu_probe, print_table, write_json

PART = 10_000  # documents per generated part (the RSS milestones fall on part boundaries)
MILESTONES = (10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000)
_FOLDER_KIND = {"contracts": "contract", "letters": "letter", "invoices": "invoice",
                "notes": "note", "mail": "email"}


# -- the corpus --------------------------------------------------------------------------------
def _generate_part(job: tuple[Path, int, int, float]) -> dict[str, Any]:
    from bench.corpus import generate_corpus

    root, documents, seed, size = job
    return generate_corpus(root, documents=documents, seed=seed, size=size).to_json()


def generate(corpus: Path, documents: int, *, seed: int, size: float, processes: int) -> None:
    """`documents` files in parts of PART under `corpus` (kept: a later run reuses them)."""
    jobs = []
    for k in range(0, (documents + PART - 1) // PART):
        root = corpus / f"part-{k:02d}"
        if not (root / ".corpus.json").exists():
            jobs.append((root, min(PART, documents - k * PART), seed + k, size))
    if not jobs:
        return
    t0 = time.perf_counter()
    print(f"generating {documents} documents in {corpus} ({len(jobs)} parts) ...", flush=True)
    with Pool(processes) as pool:
        for stats in pool.imap_unordered(_generate_part, jobs):
            print(f"  {stats['root']}: {stats['documents']} documents, "
                  f"{stats['bytes'] / 1e6:.1f} MB", flush=True)
    print(f"generated in {time.perf_counter() - t0:.0f} s", flush=True)


def linked_corpus(parts: Path, corpus: Path, documents: int) -> None:
    """`corpus`: the first `documents` of `parts` (whole parts), hard-linked (a change to a
    file replaces it, so the parts stay as generated for the next corpus)."""
    if corpus.exists():
        return
    tmp = corpus.with_name(corpus.name + ".tmp")
    for k in range((documents + PART - 1) // PART):
        src = parts / f"part-{k:02d}"
        for path in src.rglob("*"):
            dest = tmp / path.relative_to(parts)
            if path.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.link(path, dest)
    tmp.rename(corpus)


def corpus_files(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.rglob("*") if p.is_file() and not p.name.startswith("."))


# The formats an appended edit is written into as it is (a paragraph at the end of the text).
APPENDABLE = (".txt", ".md", ".html")


def change(corpus: Path, share: float, *, seed: int, size: float,
           edits: str = "rendered") -> dict[str, int]:
    """Change `share` of the files: 90 % of those edited, 5 % deleted, 5 % added.

    `edits`: "rendered", each edited file written anew in its format with a new text (nothing
    of it stays: the worst case); "appended", a paragraph added at the end of text, Markdown
    and HTML files (the edits are drawn among those), as notes grow in real folders.
    """
    from bench.corpus import _slug, to_doc
    from bench.corpus_text import HouseholdWriter
    from tests.support.render import render

    rng = random.Random(seed)
    writer = HouseholdWriter(rng)
    files = corpus_files(corpus)
    total = max(1, round(len(files) * share))
    deletions = max(1, round(total * 0.05))
    additions = max(1, round(total * 0.05))
    if edits == "appended":
        appendable = [f for f in files if f.suffix in APPENDABLE]
        edited = rng.sample(appendable, total - additions - deletions)
        chosen = set(edited)
        deleted = rng.sample([f for f in files if f not in chosen], deletions)
    else:
        picked = rng.sample(files, total - additions)
        edited, deleted = picked[deletions:], picked[:deletions]

    def write(path: Path, kind: str) -> None:
        spec = writer.document(kind, size=size * (2.5 if path.suffix == ".pdf" else 1.0))
        tmp = path.with_name(f".{path.name}.tmp")  # a new file: other links keep the old one
        tmp.write_bytes(render(to_doc(spec, f"{path.parent.name}/{path.name}")))
        os.replace(tmp, path)

    def append(path: Path) -> None:
        paragraph = writer.document(_FOLDER_KIND[path.parent.name], size=size).paragraphs()[-1]
        body = path.read_text(encoding="utf-8")
        if path.suffix == ".html":
            at = body.rfind("</body>")
            at = len(body) if at < 0 else at
            body = f"{body[:at]}<p>{html.escape(paragraph)}</p>\n{body[at:]}"
        else:
            body = f"{body.rstrip()}\n\n{paragraph}\n"
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(body, encoding="utf-8")
        os.replace(tmp, path)

    for path in edited:
        if edits == "appended":
            append(path)
        else:
            write(path, _FOLDER_KIND[path.parent.name])
    for path in deleted:
        path.unlink()
    for k in range(additions):
        template = rng.choice(files)
        kind = _FOLDER_KIND[template.parent.name]
        path = template.parent / f"added-{seed}-{k:05d}-{_slug(kind)}{template.suffix}"
        write(path, kind)
    return {"edited": len(edited), "deleted": len(deleted), "added": additions}


# -- memory ------------------------------------------------------------------------------------
class RssSampler:
    """Samples the RSS of this process and of its children (the parse workers) every second."""

    def __init__(self) -> None:
        import psutil

        self.me = psutil.Process()
        self.peak_main = self.peak_workers = 0
        self.last = (0, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def sample(self) -> tuple[int, int]:
        import psutil

        main = self.me.memory_info().rss
        workers = 0
        for child in self.me.children(recursive=True):
            with suppress(psutil.Error):
                workers += child.memory_info().rss
        self.last = (main, workers)
        self.peak_main = max(self.peak_main, main)
        self.peak_workers = max(self.peak_workers, workers)
        return self.last

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            self.sample()

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# -- where the time goes: each phase of the run timed in place -----------------------------------
class Phases:
    """Wall seconds spent in named calls of the pipeline (wrappers installed for one run)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds
        self.calls[name] = self.calls.get(name, 0) + 1

    def wrap(self, owner: Any, attr: str, name: str) -> None:
        inner = getattr(owner, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - t0)

        setattr(owner, attr, timed)

    def scan(self, iterator: Iterator[Any]) -> Iterator[Any]:
        """The source's own time (the stat walk), not the consumer's between items."""
        while True:
            t0 = time.perf_counter()
            try:
                item = next(iterator)
            except StopIteration:
                self.add("scan (stat walk)", time.perf_counter() - t0)
                return
            self.add("scan (stat walk)", time.perf_counter() - t0)
            yield item


def install_phases(phases: Phases, source: Any) -> None:
    from ingest import batches, ledger, pipeline, store, workers

    scan = source.scan
    source.scan = lambda known: phases.scan(iter(scan(known)))
    phases.wrap(store, "load_ledger", "ledger read")
    phases.wrap(pipeline.Pipeline, "_changed", "stat check + read + sha256")
    phases.wrap(pipeline.Pipeline, "_start_pool", "starting parse workers")
    phases.wrap(workers.ParsePool, "poll", "waiting for parse workers")
    phases.wrap(workers.ParsePool, "submit", "sending to parse workers")
    phases.wrap(batches.BatchWriter, "_embed", "embedding")
    phases.wrap(batches, "write_batch", "writing batches (COPY)")
    phases.wrap(pipeline.Pipeline, "_remove", "removals")
    phases.wrap(pipeline.Pipeline, "_duplicate_of", "duplicate checks (hooks)")
    phases.wrap(ledger.RunLedger, "flush_touched", "ledger: touched stats")
    phases.wrap(ledger.RunLedger, "fail", "ledger: failures")
    phases.wrap(ledger.RunLedger, "finish", "ledger: run finished")
    phases.wrap(pipeline.Pipeline, "_end_bulk_load", "index build (bulk)")
    from ingest import bulk

    phases.wrap(bulk, "restore_indexes", "index check")
    phases.wrap(bulk.BulkLoad, "consider", "bulk decision")


# -- one sync in a child process -----------------------------------------------------------------
def child(args: argparse.Namespace) -> None:
    import resource

    from sqlalchemy.orm import sessionmaker

    from app.core.db import Database, make_engine
    from ingest.embedders.lexical import LexicalHashEmbedder
    from ingest.ledger import Progress
    from ingest.pipeline import IngestOptions, Pipeline
    from ingest.sources.folder import FolderSource

    engine = make_engine(args.url)
    db = Database(url=args.url, engine=engine,
                  sessions=sessionmaker(engine, expire_on_commit=False))
    sampler = RssSampler()
    at: dict[int, dict[str, float]] = {}

    class Milestones(Progress):
        done = 0

        def advance(self, outcome: Any) -> None:
            self.done += 1
            if self.done in MILESTONES:
                main, workers = sampler.sample()
                at[self.done] = {"main_mb": round(main / 2**20, 1),
                                 "workers_mb": round(workers / 2**20, 1),
                                 "s": round(time.perf_counter() - t0, 1)}
                print(f"  {self.done} items: RSS main {at[self.done]['main_mb']} MB, workers "
                      f"{at[self.done]['workers_mb']} MB, {at[self.done]['s']} s", flush=True)

    pipeline = Pipeline(db, embedder=LexicalHashEmbedder(), progress=Milestones(),
                        options=IngestOptions(originals_dir=args.originals, trigger="bench"))
    source = FolderSource("bench", args.corpus)
    phases = Phases()
    install_phases(phases, source)
    profiler = None
    if args.profile_out:
        import cProfile

        profiler = cProfile.Profile()
    main0, _ = sampler.sample()
    with sampler:
        if profiler is not None:
            profiler.enable()
        t0 = time.perf_counter()
        report = pipeline.run(source)
        seconds = time.perf_counter() - t0
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(args.profile_out))
    engine.dispose()
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # the parse workers, reaped by now
    result = {
        "seconds": round(seconds, 3), "status": report.status, "error": report.error,
        "counts": report.to_json()["counts"], "chunks": report.counts.get("chunks", 0),
        "index_build_s": report.index_build_s,
        "phases_s": {k: round(v, 3) for k, v in sorted(phases.seconds.items(),
                                                      key=lambda kv: -kv[1])},
        "phase_calls": phases.calls,
        "cpu_main_s": round(own.ru_utime + own.ru_stime, 2),
        "cpu_workers_s": round(kids.ru_utime + kids.ru_stime, 2),
        "rss_start_mb": round(main0 / 2**20, 1),
        "rss_peak_main_mb": round(sampler.peak_main / 2**20, 1),
        "rss_peak_workers_mb": round(sampler.peak_workers / 2**20, 1),
        "rss_max_main_mb": round(own.ru_maxrss / 1024, 1),
        "rss_at": at,
        "problems": [p.message for p in report.problems][:5],
    }
    args.out.write_text(json.dumps(result), encoding="utf-8")


def run_child(url: str, corpus: Path, work: Path, step: str, *,
              profile: Path | None = None) -> dict[str, Any]:
    out = work / f"{step}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--url", url,
           "--corpus", str(corpus), "--out", str(out), "--originals", str(work / "originals")]
    if profile is not None:
        cmd += ["--profile-out", str(profile)]
    load0 = os.getloadavg()[0]
    wal0 = wal_written(url)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=work)
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    wal1 = wal_written(url)
    wal = {k: wal1[k] - wal0[k] for k in ("bytes", "fpi")}
    result.update(step=step, process_s=round(time.perf_counter() - t0, 2),
                  load=[round(load0, 1), round(os.getloadavg()[0], 1)],
                  wal_mb=round(wal["bytes"] / 2**20, 1), wal_full_pages=wal["fpi"],
                  wal_lsn=[wal0["lsn"], wal1["lsn"]])  # for pg_waldump --stats
    c = result["counts"]
    print(f"{step:10s} {result['seconds']:9.2f} s  indexed {c['indexed']}  unchanged "
          f"{c['unchanged']}  removed {c['removed']}  failed {c['failed']}  skipped "
          f"{c['skipped']}  chunks {result['chunks']}  WAL {result['wal_mb']} MB "
          f"({wal['fpi']} full pages)  load {result['load']}", flush=True)
    return result


def wal_written(url: str) -> dict[str, Any]:
    """The server's WAL written so far: bytes, and full-page images (a page's first change
    after a checkpoint writes the whole 8 KB page; HNSW upkeep changes pages all over its
    graph)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        written, fpi, lsn = conn.execute(text(
            "SELECT wal_bytes, wal_fpi, pg_current_wal_lsn()::text FROM pg_stat_wal")).one()
    engine.dispose()
    return {"bytes": int(written), "fpi": int(fpi), "lsn": lsn}


def check_index(url: str, corpus: Path) -> dict[str, Any]:
    """Documents stored against the files on disk: every file once, each with its current hash."""
    import hashlib

    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from ingest.sources.names import path_text

    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        stored = dict(conn.execute(text(
            "SELECT origin, sha256 FROM source_items WHERE status = 'indexed'")).all())
        documents = conn.scalar(text("SELECT count(*) FROM documents WHERE parent_id IS NULL"))
        chunks = conn.scalar(text("SELECT count(*) FROM chunks"))
    engine.dispose()
    files = corpus_files(corpus.resolve())
    stale = missing = 0
    for path in files:
        sha = stored.pop(path_text(path), None)
        if sha is None:
            missing += 1
        elif sha != hashlib.sha256(path.read_bytes()).hexdigest():
            stale += 1
    return {"files": len(files), "documents": documents, "chunks": chunks,
            "missing": missing, "stale": stale, "extra": len(stored)}


def settle(url: str) -> None:
    """VACUUM (ANALYZE) the database, untimed: a scheduled sync comes hours after the import,
    when autovacuum has long been through the tables it wrote; run at once, the syncs below
    would share the cores with it (load ~3.5 after a 10^5 import)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    t0 = time.perf_counter()
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM (ANALYZE)"))
    engine.dispose()
    print(f"vacuum + analyze (untimed, as autovacuum would): {time.perf_counter() - t0:.0f} s",
          flush=True)


def checkpoint(url: str) -> None:
    """A CHECKPOINT, untimed, before each sync: syncs hours apart always have one between them
    (checkpoint_timeout is 5 min), so each page a sync changes first is written to the WAL
    whole (a full-page image). Run a minute after the import, a sync found most pages written
    since the last checkpoint already: at 2x10^4 documents, 793 full pages (7.9 MB of WAL)
    instead of 11,790 (92 MB)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CHECKPOINT"))
    engine.dispose()


@contextmanager
def database(work: Path) -> Iterator[str]:
    from app.core.db import EmbeddedPostgres, upgrade_database

    server = EmbeddedPostgres(work / "pg")
    url = server.start()
    try:
        upgrade_database(url)
        yield url
    finally:
        server.stop()


def print_profile(path: Path, top: int = 30) -> None:
    import pstats

    print(f"\nre-sync profile ({path}), top {top} by cumulative time in the run's process:")
    pstats.Stats(str(path)).sort_stats("cumulative").print_stats(top)
    print("top by own time:")
    pstats.Stats(str(path)).sort_stats("tottime").print_stats(15)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--documents", type=int, default=100_000)
    ap.add_argument("--size", type=float, default=0.3, help="document length factor")
    ap.add_argument("--change", type=float, default=0.01, help="share of files changed")
    ap.add_argument("--edits", choices=("rendered", "appended"), default="rendered",
                    help="how a file is edited (see `change`)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="1,000 documents")
    ap.add_argument("--profile", action="store_true", help="a second re-sync under cProfile")
    ap.add_argument("--processes", type=int, default=2, help="corpus generation processes")
    ap.add_argument("--workdir", type=Path, default=None, help="keep corpus and database here")
    ap.add_argument("--parts", type=Path, default=None,
                    help="where the generated parts are kept (default: in the workdir); the "
                         "corpus of a run is a hard-linked copy of the first of them")
    add_child_arguments(ap)
    args = ap.parse_args(argv)
    if args.child:
        child(args)
        return
    if args.quick:
        args.documents = 1000

    with bench_workdir(args.workdir) as work:
        parts = args.parts or work / f"parts-{args.seed}-{args.size}"
        generate(parts, args.documents, seed=args.seed, size=args.size,
                 processes=args.processes)
        corpus = work / f"corpus-{args.documents}"
        linked_corpus(parts, corpus, args.documents)
        manifest = [json.loads(m.read_text()) for m in sorted(corpus.glob("part-*/.corpus.json"))]
        fresh = not (work / "pg").exists()
        steps: list[dict[str, Any]] = []
        changes: list[dict[str, int]] = []
        # A later run on a kept database changes other files than the first run did.
        change_seed = args.seed * 1000 + (0 if fresh else 100 + len(list(work.glob("*.json"))))
        probe = [cpu_probe()]  # the host's speed before and after (bench.common.cpu_probe)
        with database(work) as url:
            if not fresh:
                print(f"reusing the database in {work / 'pg'} (no full ingest timed)")
            else:
                steps.append(run_child(url, corpus, work, "full"))
            settle(url)
            checkpoint(url)
            steps.append(run_child(url, corpus, work, "unchanged"))
            changes.append(change(corpus, args.change, seed=change_seed + len(steps),
                                  size=args.size, edits=args.edits))
            print(f"changed ({args.edits} edits): {changes[-1]}", flush=True)
            checkpoint(url)
            steps.append(run_child(url, corpus, work, "resync"))
            if args.profile:
                changes.append(change(corpus, args.change, seed=change_seed + len(steps),
                                      size=args.size, edits=args.edits))
                checkpoint(url)
                steps.append(run_child(url, corpus, work, "profiled", profile=work / "resync.prof"))
            check = check_index(url, corpus)
        probe.append(cpu_probe())
        if args.profile:
            print_profile(work / "resync.prof")

    by_step = {s["step"]: s for s in steps}
    print_table("steps", [[s["step"], s["seconds"], s["counts"]["indexed"],
                           s["counts"]["unchanged"], s["counts"]["removed"], s["chunks"],
                           s["cpu_main_s"], s["cpu_workers_s"], s["rss_peak_main_mb"],
                           s["rss_peak_workers_mb"], f"{s['load'][0]}-{s['load'][1]}"]
                          for s in steps],
                ["step", "s", "indexed", "unchanged", "removed", "chunks", "CPU s main",
                 "CPU s workers", "peak RSS main MB", "peak RSS workers MB", "load"])
    for s in steps:
        print_table(f"where the time went: {s['step']} ({s['seconds']:.2f} s)",
                    [[k, v, s["phase_calls"].get(k, 0)] for k, v in s["phases_s"].items()],
                    ["phase", "s", "calls"])
    full = by_step.get("full")
    if full and full["rss_at"]:
        print_table("RSS as the first ingest grew (MB)",
                    [[int(n), v["main_mb"], v["workers_mb"], v["s"]]
                     for n, v in sorted(full["rss_at"].items(), key=lambda kv: int(kv[0]))],
                    ["items done", "main", "workers (sum)", "at s"])
    summary: dict[str, Any] = {"documents": sum(m["documents"] for m in manifest),
                               "size": args.size, "change": args.change, "edits": args.edits,
                               "changes": changes,
                               "steps": steps, "check": check,
                               "cpu_probe_s": {"before": probe[0], "after": probe[1]}}
    print(f"\nindex after the syncs: {check}; cpu probe (10^7 additions) {probe[0]} s before, "
          f"{probe[1]} s after")
    if full:
        for name in ("unchanged", "resync"):
            ratio = by_step[name]["seconds"] / full["seconds"]
            summary[f"{name}_ratio"] = round(ratio, 4)
            print(f"{name}: {by_step[name]['seconds']:.2f} s = {100 * ratio:.2f} % of the "
                  f"full ingest ({full['seconds']:.1f} s)")
    path = write_json("resync", summary)
    print(f"figures: {path}")


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
