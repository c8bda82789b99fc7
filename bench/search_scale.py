"""Search at 10^4-10^6 chunks with BGE-M3's shapes, through homerag's own search SQL.

Two phases, each its own process (the build of 10^6 chunks takes long; measuring is repeated):

    build    synthesize N chunks (bench/synth_vectors.py), load them with COPY into a real homerag
             database (embedded PostgreSQL in WORKDIR/pg, migrated; an embedding space of 1024 /
             250,002 dims; sources, documents, chunks with their text and tsvector, vectors as
             halfvec + sparsevec in binary COPY), then build the GIN and the space's two HNSW
             indexes with homerag's own definitions, each timed, and record sizes.
    measure  queries near the data through `app.retrieval.search_detailed` (the function the API,
             CLI and MCP call: active space, settings, fused SQL, hits) across hnsw.ef_search, with
             no filter, a 5 % date range and a 5 % source; warm; p50/p95/p99; recall@10 of the
             fused top 10 against the same SQL with exact dense + sparse scoring
             (`hybrid_sql(exact=True)`), and of the dense stage alone against numpy brute force.

    nice -n 10 .venv/bin/python bench/search_scale.py build --chunks 100000 --workdir /tmp/hrs-1e5
    nice -n 10 .venv/bin/python bench/search_scale.py measure --workdir /tmp/hrs-1e5
    .venv/bin/python bench/search_scale_plot.py           # PNGs from bench/results/*.json

Results: WORKDIR/build.json, bench/results/search_scale_<N>.json. Keep --workdir to measure
again; delete it afterwards (10^6 chunks take ~15 GB).
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, bench_workdir, machine

RESULTS = REPO / "bench" / "results"
SOURCES = 20            # each ~5 % of the rows: a source filter is a 5 % filter
DAY0 = datetime(2005, 1, 1, tzinfo=UTC)
DAYS = 21 * 365         # occurred_at uniform over 2005-2025: 5 % of the span is ~383 days
KINDS = ("note", "contract", "letter", "email", "other")
MODES = ("none", "date", "source")
# Text-search configurations as ingest stores them (language detected per chunk): 50 % English,
# 40 % German, 10 % 'simple'.
LANGS = ("english",) * 5 + ("german",) * 4 + ("simple",)
# The space is declared a BGE-M3 one (its vectors have BGE-M3's shapes), so its sparse postings
# keep the heavier tokens as for the real model (app.core.vectors.posting_share).
SPACE_EMBEDDER = "bge-m3"
SPACE_MODEL = "homerag/synthetic-bge-m3-shapes?dim=1024&sparse=250002"


# -- build --------------------------------------------------------------------------------------
def assign(model: Any, sizes: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Documents of `sizes` chunks: their topic, source, date and kind; per-chunk arrays."""
    rng = np.random.default_rng([seed, 12])
    docs = len(sizes)
    doc_topic = rng.choice(model.topics, size=docs, p=model.topic_p).astype(np.int32)
    # Sources follow topics (a mail folder, a scanner inbox hold their own subjects): topics are
    # dealt to the least-filled source, largest first, so each source holds ~5 % of the chunks;
    # 15 % of the documents land in another source.
    load = np.zeros(model.topics)
    np.add.at(load, doc_topic, sizes)
    topic_source = np.zeros(model.topics, dtype=np.int32)
    filled = np.zeros(SOURCES)
    for t in np.argsort(-load):
        s = int(np.argmin(filled))
        topic_source[t] = s
        filled[s] += load[t]
    doc_source = topic_source[doc_topic]
    moved = rng.random(docs) < 0.15
    doc_source[moved] = rng.integers(0, SOURCES, moved.sum())
    doc_day = rng.integers(0, DAYS, docs).astype(np.int32)
    doc_kind = rng.integers(0, len(KINDS), docs).astype(np.int8)
    chunk_doc = np.repeat(np.arange(docs, dtype=np.int32), sizes)
    return {"sizes": sizes, "doc_topic": doc_topic, "doc_source": doc_source,
            "doc_day": doc_day, "doc_kind": doc_kind, "chunk_doc": chunk_doc,
            "chunk_topic": doc_topic[chunk_doc], "chunk_source": doc_source[chunk_doc],
            "chunk_day": doc_day[chunk_doc]}


def pick_queries(lay: dict[str, np.ndarray], per_mode: int, seed: int) -> list[dict[str, Any]]:
    """Targets and filters. date: a window of 5 % of the span around the target's date (the
    owner remembers roughly when); source: the target's own source (where the owner expects
    it); none: any chunk."""
    rng = np.random.default_rng([seed, 13])
    n = len(lay["chunk_doc"])
    out: list[dict[str, Any]] = []
    width = int(DAYS * 0.05)
    for mode in MODES:
        for target in rng.choice(n, size=per_mode, replace=False):
            q: dict[str, Any] = {"mode": mode, "target": int(target)}
            if mode == "date":
                day = int(lay["chunk_day"][target])
                lo = int(np.clip(day - rng.integers(0, width), 0, DAYS - width))
                q["day_from"], q["day_to"] = lo, lo + width - 1
            elif mode == "source":
                q["source"] = int(lay["chunk_source"][target])
            out.append(q)
    return out


def _copy_binary_embeddings(cur: Any, space_id: int, ids: np.ndarray, dense: np.ndarray,
                            sparse: list[tuple[np.ndarray, np.ndarray]]) -> int:
    """chunk_embeddings rows in PostgreSQL's binary COPY format (pgvector's halfvec_recv /
    sparsevec_recv layouts), built with numpy, and their sparse postings. Returns bytes sent."""
    from app.core.vectors import posting_share, posting_terms

    dim = dense.shape[1]
    half = dense.astype(">f2")
    parts: list[bytes] = [b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)]
    head = struct.pack(">hii", 4, 4, space_id)
    for i, cid in enumerate(ids.tolist()):
        toks, wts = sparse[i]
        nnz = len(toks)
        parts.append(head)
        parts.append(struct.pack(">iqi", 8, cid, 4 + 2 * dim) + struct.pack(">HH", dim, 0))
        parts.append(half[i].tobytes())
        parts.append(struct.pack(">iiii", 12 + 8 * nnz, 250_002, nnz, 0))
        parts.append(toks.astype(">i4").tobytes() + wts.astype(">f4").tobytes())
    parts.append(struct.pack(">h", -1))
    data = b"".join(parts)
    with cur.copy("COPY chunk_embeddings (space_id, chunk_id, dense, sparse) "
                  "FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(data)
    share = posting_share(SPACE_EMBEDDER)
    with cur.copy("COPY sparse_postings (space_id, chunk_id, token, weight) FROM STDIN") as copy:
        for i, cid in enumerate(ids.tolist()):
            for token, weight in posting_terms(dict(zip(*sparse[i], strict=True)), share):
                copy.write_row((space_id, cid, token, weight))
    return len(data)


def build(args: argparse.Namespace) -> dict[str, Any]:
    import psycopg

    from bench import synth_vectors as sv
    from bench.common import embedded_database
    from ingest import store

    n, seed, work = args.chunks, args.seed, args.workdir
    t_all = time.perf_counter()
    model = sv.Model.build(n, seed=seed)
    rng = np.random.default_rng([seed, 11])
    sizes = []  # chunks per document: 1-12, mean ~3.3
    total = 0
    while total < n:
        s = min(int(min(12, rng.geometric(0.3))), n - total)
        sizes.append(s)
        total += s
    lay = assign(model, np.array(sizes, dtype=np.int32), seed)
    targets = pick_queries(lay, args.queries, seed)
    by_target: dict[int, list[dict[str, Any]]] = {}
    for q in targets:
        by_target.setdefault(q["target"], []).append(q)
    np.savez(work / "layout.npz", **{k: v for k, v in lay.items() if k.startswith("chunk_")})
    dense_mm = np.lib.format.open_memmap(work / "dense.npy", mode="w+", dtype=np.float16,
                                         shape=(n, sv.DIM))
    with embedded_database(work / "pg") as db:
        url = db.url.replace("postgresql+psycopg://", "postgresql://", 1)
        conn = psycopg.connect(url)
        cur = conn.cursor()
        cur.execute("INSERT INTO embedding_spaces (name, embedder, model_id, dim, sparse_dim, "
                    "status, activated_at) VALUES ('synth-bge-m3-shapes', %s, %s, "
                    "%s, %s, 'active', now()) RETURNING id",
                    (SPACE_EMBEDDER, SPACE_MODEL, sv.DIM, sv.VOCAB_TOKENS))
        space_id = int(cur.fetchone()[0])
        with cur.copy("COPY sources (id, name, kind) FROM STDIN") as copy:
            for s in range(SOURCES):
                copy.write_row((s + 1, f"src-{s:02d}", "folder"))
        # The GIN index is built after the load (timed below), as a bulk import would.
        cur.execute("DROP INDEX IF EXISTS ix_chunks_tsv")
        conn.commit()
        starts = np.concatenate([[0], np.cumsum(lay["sizes"])])
        timings = {"synth_s": 0.0, "copy_documents_s": 0.0, "copy_chunks_s": 0.0,
                   "copy_embeddings_s": 0.0}
        queries: list[dict[str, Any]] = []
        doc_lo = 0
        block_size = 20_000
        while doc_lo < len(lay["sizes"]):
            doc_hi = int(np.searchsorted(starts, starts[doc_lo] + block_size, side="right"))
            doc_hi = max(doc_lo + 1, min(doc_hi - 1, len(lay["sizes"])))
            c0, c1 = int(starts[doc_lo]), int(starts[doc_hi])
            t0 = time.perf_counter()
            block = sv.block(model, lay["chunk_topic"], start=c0, stop=c1)
            dense_mm[c0:c1] = block.dense.astype(np.float16)
            for i in range(c0, c1):
                for q in by_target.get(i, ()):
                    qrng = np.random.default_rng([seed, 14, len(queries)])
                    made = sv.make_query(model, qrng, target=i, topic=int(lay["chunk_topic"][i]),
                                         target_dense=block.dense[i - c0],
                                         target_words=block.word_ids[i - c0])
                    queries.append({**q, "text": made.text, "dense": made.dense.tolist(),
                                    "sparse": {str(k): v for k, v in made.sparse.items()}})
            t1 = time.perf_counter()
            with cur.copy("COPY documents (id, source_id, origin, kind, sha256, size_bytes, "
                          "media_type, title, occurred_at) FROM STDIN") as copy:
                for d in range(doc_lo, doc_hi):
                    src = int(lay["doc_source"][d])
                    copy.write_row((d + 1, src + 1, f"synth/src-{src:02d}/doc-{d:07d}.txt",
                                    KINDS[int(lay["doc_kind"][d])], f"{d:064x}",
                                    int(lay["sizes"][d]) * 1100, "text/plain",
                                    f"document {d}", DAY0 + timedelta(
                                        days=int(lay["doc_day"][d]))))
            t2 = time.perf_counter()
            with cur.copy("COPY chunks (id, document_id, ordinal, text, char_start, char_end, "
                          "token_count, content_hash, fts_config, source_id, kind, occurred_at) "
                          "FROM STDIN") as copy:
                for i in range(c0, c1):
                    d = int(lay["chunk_doc"][i])
                    txt = block.texts[i - c0]
                    lang = LANGS[i % len(LANGS)]
                    # the document's source, kind and date, as ingest.writer copies them
                    copy.write_row((i + 1, d + 1, i - int(starts[d]), txt, 0, len(txt),
                                    len(txt) // 5, f"{i:064x}", lang,
                                    int(lay["doc_source"][d]) + 1, KINDS[int(lay["doc_kind"][d])],
                                    DAY0 + timedelta(days=int(lay["doc_day"][d]))))
            t3 = time.perf_counter()
            _copy_binary_embeddings(cur, space_id, np.arange(c0 + 1, c1 + 1), block.dense,
                                    block.sparse)
            conn.commit()
            t4 = time.perf_counter()
            timings["synth_s"] += t1 - t0
            timings["copy_documents_s"] += t2 - t1
            timings["copy_chunks_s"] += t3 - t2
            timings["copy_embeddings_s"] += t4 - t3
            print(f"  {c1:,}/{n:,} chunks  synth {t1 - t0:.1f}s  copy {t4 - t1:.1f}s  "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
            doc_lo = doc_hi
        dense_mm.flush()
        for seq, table in (("sources_id_seq", "sources"), ("documents_id_seq", "documents"),
                           ("chunks_id_seq", "chunks")):
            cur.execute(f"SELECT setval('{seq}', (SELECT max(id) FROM {table}))")
        conn.commit()
        t0 = time.perf_counter()
        conn.autocommit = True
        cur.execute("VACUUM (ANALYZE) chunks, chunk_embeddings, sparse_postings, documents")
        timings["vacuum_analyze_s"] = time.perf_counter() - t0
        indexes = build_indexes(cur, space_id=space_id, n=n, store=store)
        sizes_mb = relation_sizes(cur)
        conn.close()
    (work / "queries.json").write_text(json.dumps(queries))
    out = {"chunks": n, "documents": len(lay["sizes"]), "seed": seed,
           "space_id": space_id, "topics": model.topics,
           "timings_s": {k: round(v, 1) for k, v in timings.items()},
           "indexes": indexes, "sizes_mb": sizes_mb,
           "wall_s": round(time.perf_counter() - t_all, 1),
           "synth": sv.dense_stats(np.load(work / "dense.npy", mmap_mode="r"),
                                   [sv.Query(target=q["target"], text=q["text"],
                                             dense=np.array(q["dense"], dtype=np.float32),
                                             sparse={}) for q in queries[:200]]),
           "machine": machine(), "loadavg_end": os.getloadavg()}
    (work / "build.json").write_text(json.dumps(out, indent=2))
    return out


def build_indexes(cur: Any, *, space_id: int, n: int, store: Any) -> dict[str, Any]:
    """GIN on chunks.tsv and the date's period (as the model defines it), then the space's
    dense HNSW index and sparse postings B-tree with the statements
    `ingest.store.ensure_space_indexes` runs; each timed, with maintenance_work_mem sized so
    the graph fits (pgvector builds far slower once it spills)."""

    class _Recorder:
        def __init__(self) -> None:
            self.sql: list[str] = []

        def execute(self, stmt: Any, *a: Any, **k: Any) -> None:
            self.sql.append(str(stmt))

    rec = _Recorder()
    space = type("Space", (), {"id": space_id, "dim": 1024, "sparse_dim": 250_002})()
    store.ensure_space_indexes(rec, space)
    dense_sql, sparse_sql = rec.sql
    gb = 1024 ** 3
    plan = [("gin", chunks_tsv_index_sql(), gb),
            ("dense_hnsw", dense_sql, int(min(4 * gb, n * 3000 + 256 * 1024 ** 2))),
            ("sparse_postings", sparse_sql, gb)]
    out: dict[str, Any] = {}
    cur.execute("SET max_parallel_maintenance_workers = 1")
    for name, sql, mem in plan:
        cur.execute(f"SET maintenance_work_mem = '{mem // 1024 ** 2}MB'")
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        cur.execute(sql)
        secs = time.perf_counter() - t0
        out[name] = {"seconds": round(secs, 1), "maintenance_work_mem_mb": mem // 1024 ** 2,
                     "loadavg_start": round(load0, 1), "loadavg_end": round(os.getloadavg()[0], 1),
                     "sql": sql}
        print(f"  index {name}: {secs:.0f}s", flush=True)
    return out


def chunks_tsv_index_sql() -> str:
    """The full-text index's CREATE INDEX, compiled from the model (app.core.models.core)."""
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex

    from app.core.models import Chunk

    index = next(i for i in Chunk.__table__.indexes if i.name == "ix_chunks_tsv")
    return str(CreateIndex(index).compile(dialect=postgresql.dialect()))


def relation_sizes(cur: Any) -> dict[str, float]:
    """MB on disk: heaps (with TOAST) and every index of the search tables."""
    cur.execute("""
        SELECT c.relname, c.relkind, pg_total_relation_size(c.oid), pg_table_size(c.oid),
               pg_relation_size(c.oid)
        FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
        WHERE ns.nspname = current_schema() AND c.relkind IN ('r', 'i')
          AND (c.relname IN ('chunks', 'chunk_embeddings', 'sparse_postings', 'documents')
               OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN (
                   'chunks'::regclass, 'chunk_embeddings'::regclass,
                   'sparse_postings'::regclass, 'documents'::regclass)))""")
    mb = 1024 ** 2
    out: dict[str, float] = {}
    for name, kind, total, table, rel in cur.fetchall():
        if kind == "r":
            out[f"{name}.heap_with_toast"] = round(table / mb, 1)
            out[f"{name}.total"] = round(total / mb, 1)
        else:
            out[name] = round(rel / mb, 1)
    cur.execute("SELECT pg_database_size(current_database())")
    out["database_total"] = round(cur.fetchone()[0] / mb, 1)
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("phase", choices=("build", "measure"))
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--chunks", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=200, help="queries per filter mode")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ef", default="20,40,60,80,160,320", help="hnsw.ef_search values")
    ap.add_argument("--exact-queries", type=int, default=0,
                    help="queries per mode with exact ground truth (0: all)")
    ap.add_argument("--modes", default=",".join(MODES), help="filter modes to measure")
    ap.add_argument("--merge", action="store_true",
                    help="add these modes to an existing result file instead of replacing it")
    ap.add_argument("--api-rss", action="store_true",
                    help="also start `homerag serve` on this database and report its RSS")
    ap.add_argument("--passes", type=int, default=3,
                    help="timed passes over the queries per mode and ef_search (percentiles "
                         "over all of them)")
    ap.add_argument("--out", help="result name (default search_scale_<chunks>)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with bench_workdir(args.workdir) as work:
        args.workdir = work
        if args.phase == "build":
            out = build(args)
            print(json.dumps({k: out[k] for k in ("chunks", "timings_s", "indexes", "sizes_mb",
                                                   "wall_s", "synth")}, indent=1, default=str))
        else:
            from bench.search_scale_measure import measure

            measure(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
