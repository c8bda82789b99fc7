"""The core bench's measurements: ingest, re-ingest, growing the index, search and ask latency.

Everything goes through the product code (Pipeline + store, `search_detailed`, `ask_stream`)
against a real embedded PostgreSQL; the caller (bench/core.py) owns set-up and reporting.
"""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bench.common import REPO, summary_ms
from bench.corpus import MANIFEST, TEXT_MIX, generate_corpus
from bench.corpus_text import BenchQuery

RUN_ALL = False  # helper module, not a bench


def _pipeline(db: Any, embedder: Any, originals: Path | None) -> Any:
    from ingest.pipeline import IngestOptions, Pipeline

    # Product defaults (512-token chunks, 64 overlap, originals kept) so the figures are the
    # owner's; the lexical embedder as the issue asks.
    return Pipeline(db, embedder=embedder, options=IngestOptions(originals_dir=originals,
                                                                  trigger="bench"))


def ingest_folder(db: Any, root: Path, name: str, embedder: Any,
                  originals: Path | None) -> tuple[Any, float]:
    """Ingest `root` as folder source `name`; (report, seconds)."""
    from ingest.sources.folder import FolderSource

    pipeline = _pipeline(db, embedder, originals)
    t0 = time.perf_counter()
    report = pipeline.run(FolderSource(name, root))
    return report, time.perf_counter() - t0


def _problems(report: Any) -> dict[str, int]:
    return dict(Counter(p.code or p.status for p in report.problems))


def measure_ingest(db: Any, root: Path, embedder: Any, originals: Path | None) -> dict[str, Any]:
    """First ingest of the mixed corpus, then re-ingest of the unchanged corpus."""
    manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    first, secs = ingest_folder(db, root, "bench-mixed", embedder, originals)
    counts = first.to_json()["counts"]
    chunks = first.counts.get("chunks", 0)
    again, resecs = ingest_folder(db, root, "bench-mixed", embedder, originals)
    return {
        "corpus": manifest,
        "first": {
            "seconds": round(secs, 2), "status": first.status, "counts": counts,
            "chunks": chunks, "problems": _problems(first),
            "documents_per_s": round(manifest["documents"] / secs, 2),
            "indexed_per_s": round(counts["indexed"] / secs, 2),
            "pdf_pages_per_s": round(manifest["pdf_pages"] / secs, 2),
            "chunks_per_s": round(chunks / secs, 1),
        },
        "reingest": {
            "seconds": round(resecs, 3), "status": again.status,
            "counts": again.to_json()["counts"],
            "percent_of_first": round(100 * resecs / secs, 2), "target_percent": 2.0,
        },
    }


def count_chunks(db: Any) -> int:
    from sqlalchemy import text

    with db.session() as s:
        return int(s.execute(text("SELECT count(*) FROM chunks")).scalar_one())


def grow_index(db: Any, workdir: Path, embedder: Any, originals: Path | None, *,
               target_chunks: int, seed: int, batch_docs: int = 4000,
               size: float = 1.5, log: Any = print) -> dict[str, Any]:
    """Ingest generated text corpora (Markdown, text, .eml) through the real pipeline, one folder
    source per batch, until the index holds `target_chunks` chunks."""
    have = count_chunks(db)
    batches: list[dict[str, Any]] = []
    per_doc = 3.0  # first guess; measured after the first batch
    i = 0
    while have < target_chunks:
        want = math.ceil((target_chunks - have) / per_doc * 1.03)
        docs = max(50, min(batch_docs, want))
        root = workdir / "text" / f"batch-{i:03d}"
        if not root.exists():
            generate_corpus(root, documents=docs, seed=seed * 1000 + i, mix=TEXT_MIX, size=size)
        report, secs = ingest_folder(db, root, f"bench-text-{i:03d}", embedder, originals)
        chunks = report.counts.get("chunks", 0)
        indexed = report.counts.get("indexed", 0)
        if indexed:
            per_doc = max(0.5, chunks / indexed)
        have = count_chunks(db)
        batches.append({"documents": docs, "indexed": indexed, "chunks": chunks,
                        "seconds": round(secs, 1),
                        "chunks_per_s": round(chunks / secs, 1) if secs else None,
                        "index_chunks_after": have, "problems": _problems(report)})
        log(f"  batch {i}: {docs} docs, {chunks} chunks in {secs:.0f}s "
            f"({chunks / max(secs, 1e-9):.0f} chunks/s), index now {have} chunks")
        i += 1
        if not chunks:
            break  # nothing more gets indexed: stop rather than loop for ever
    return {"chunks": have, "batches": batches}


def index_stats(db: Any) -> dict[str, Any]:
    from sqlalchemy import text

    with db.session() as s:
        row = s.execute(text("""
            SELECT (SELECT count(*) FROM documents) AS documents,
                   (SELECT count(*) FROM chunks) AS chunks,
                   (SELECT count(*) FROM chunk_embeddings) AS embeddings,
                   pg_size_pretty(pg_total_relation_size('chunks')) AS chunks_size,
                   pg_size_pretty(pg_total_relation_size('chunk_embeddings')) AS embeddings_size
        """)).mappings().one()
        return dict(row)


def _filters(q: BenchQuery) -> Any:
    from app.retrieval.types import SearchFilters

    return SearchFilters(kinds=q.kinds, date_from=q.date_from, date_to=q.date_to)


def measure_search(db: Any, embedder: Any, queries: Sequence[BenchQuery], *,
                   top_k: int = 8, candidates: int = 60, rounds: int = 2) -> dict[str, Any]:
    """Warm latency of `search_detailed`, one session per query as the CLI/API do.

    A first pass over all queries warms caches (not measured). `ex_embed` is the wall time of
    the whole search minus the query embedding (measured by search_detailed itself).
    """
    from app.retrieval import search_detailed

    def once(q: BenchQuery) -> tuple[float, dict[str, float], int]:
        t0 = time.perf_counter()
        with db.session() as s:
            res = search_detailed(s, embedder, q.text, filters=_filters(q), top_k=top_k,
                                  candidates=candidates)
        wall = (time.perf_counter() - t0) * 1000
        return wall, res.timings_ms, len(res.hits)

    for q in queries:
        once(q)
    by_flavour: dict[str, list[float]] = {}
    ex_embed: list[float] = []
    embed: list[float] = []
    sql: list[float] = []
    short = 0
    for _ in range(rounds):
        for q in queries:
            wall, timings, n = once(q)
            ex = wall - timings["embed"]
            ex_embed.append(ex)
            embed.append(timings["embed"])
            sql.append(timings["sql"])
            by_flavour.setdefault(q.flavour, []).append(ex)
            short += n < top_k
    return {
        "queries": len(queries), "rounds": rounds, "top_k": top_k, "candidates": candidates,
        "search_ex_embed": summary_ms(ex_embed), "sql": summary_ms(sql),
        "query_embedding": summary_ms(embed),
        "by_flavour": {k: summary_ms(v) for k, v in sorted(by_flavour.items())},
        "results_short_of_top_k": short, "target_p95_ms": 50.0,
    }


# -- ask ------------------------------------------------------------------------------------------
_STUB = """
import sys, time
sys.path.insert(0, {repo!r})
from tests.openai_stub import OpenAIStub, Reply
stub = OpenAIStub(Reply("According to the documents the answer is in [1] and [2].", chunk_size=12))
stub.start()
print(stub.base_url, flush=True)
sys.stdin.read()  # until the bench closes our stdin
stub.stop()
"""


class StubProcess:
    """The loopback OpenAI stub in its own process, as a real LLM server would be (so its work
    does not compete with the bench for this process's GIL)."""

    def __enter__(self) -> StubProcess:
        self.proc = subprocess.Popen([sys.executable, "-c", _STUB.format(repo=str(REPO))],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()
        if not self.base_url.startswith("http"):
            raise RuntimeError("the OpenAI stub did not start")
        url = urlparse(self.base_url)
        self._addr = (url.hostname or "127.0.0.1", int(url.port or 80))
        self._path = url.path.rstrip("/") + "/chat/completions"
        return self

    def raw_roundtrip(self, request: dict[str, Any]) -> float:
        """Seconds for the stub to stream its answer to `request` up to `data: [DONE]`, read by
        a minimal client on a fresh connection: the stub's own time.

        Reading stops at [DONE] as the openai client does: the stub's final empty chunk is a
        small second write that Nagle holds until a delayed ACK (40 ms on Linux), and neither
        client waits for it.
        """
        body = json.dumps(request).encode()
        head = (f"POST {self._path} HTTP/1.1\r\nHost: {self._addr[0]}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
        t0 = time.perf_counter()
        with socket.create_connection(self._addr, timeout=30) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(head.encode() + body)
            seen = b""
            while b"data: [DONE]" not in seen:
                data = sock.recv(65536)
                if not data:
                    break
                seen = seen[-64:] + data
        return time.perf_counter() - t0

    def __exit__(self, *exc: object) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def measure_ask(db: Any, embedder: Any, workdir: Path, questions: Sequence[BenchQuery], *,
                rounds: int = 1) -> dict[str, Any]:
    """`ask_stream` end to end against the stub answering at once. Overhead = total minus the
    stub's own time for a request of the same size (a raw HTTP round trip, measured right
    after each question)."""
    from app.core.config import load_settings
    from app.services.ask import ask_stream
    from app.services.runtime import Runtime

    overhead: list[float] = []
    totals: list[float] = []
    stub_ms: list[float] = []
    retrieval: list[float] = []
    llm_client: list[float] = []
    modes: Counter[str] = Counter()
    with StubProcess() as stub:
        settings = load_settings(database_url=db.url, data_dir=workdir / "data",
                                 embedder="lexical-hash", llm_base_url=stub.base_url,
                                 llm_model="stub-model", keep_originals=False)
        ctx = Runtime(settings=settings, db=db)
        ctx.set_embedder(embedder)
        last_request: dict[str, Any] | None = None

        def one(q: BenchQuery) -> tuple[float, Any]:
            t0 = time.perf_counter()
            result = None
            for event in ask_stream(ctx, q.text, filters=_filters(q)):
                if event.type == "done":
                    result = event.result
            return (time.perf_counter() - t0) * 1000, result

        for q in questions[: max(3, len(questions) // 4)]:  # warm: connections, prompt files
            one(q)
        for _ in range(rounds):
            for q in questions:
                total, result = one(q)
                modes[result.mode] += 1
                last_request = _last_request(result, q, settings)
                own = stub.raw_roundtrip(last_request) * 1000
                totals.append(total)
                stub_ms.append(own)
                overhead.append(total - own)
                retrieval.append(float(result.timings.get("retrieval_ms", math.nan)))
                llm_client.append(float(result.timings.get("llm_ms", math.nan)))
        for key, client in ctx.extras.items():  # not ctx.close(): the database is the caller's
            if key.startswith("chat:") and client is not None:
                client.close()
    return {
        "questions": len(questions), "rounds": rounds, "modes": dict(modes),
        "overhead": summary_ms(overhead), "total": summary_ms(totals),
        "stub_own": summary_ms(stub_ms), "retrieval": summary_ms(retrieval),
        "llm_call_client_side": summary_ms(llm_client), "target_p95_ms": 100.0,
    }


def _last_request(result: Any, q: BenchQuery, settings: Any) -> dict[str, Any]:
    """A chat request of the same size as the one ask sent (system + user with the context)."""
    context = "\n\n".join(f'<source id="{b.n}">{b.citable.text}</source>' for b in result.offered)
    return {"model": "stub-model", "stream": True, "max_tokens": settings.llm_max_tokens,
            "messages": [{"role": "system", "content": "Answer from the sources only."},
                         {"role": "user", "content": f"{context}\n\nQuestion: {q.text}"}]}
