"""Chat bench: the latency /v1/chat/completions adds beyond the LLM's own time, and each MCP
tool call, at 100,000 chunks.

The index: the sample household (statements, contracts) plus generated text grown to
--chunks with bench/core_measure.grow_index (lexical-hash embedder, fresh embedded PostgreSQL
under /tmp, removed afterwards unless --workdir keeps it). The app runs under uvicorn on
127.0.0.1 in its own process (as `homerag serve`); the LLM is tests/openai_stub.py in its own
process answering at once.

- /v1 overhead: a streamed request (model `homerag`, one user message) read with a raw SSE
  client up to `data: [DONE]`, minus the stub's own time for a request of the same size
  measured right after (as bench/core.py does for `ask`). Target p95 <= 100 ms.
- `homerag-search` (no LLM) and a follow-up with history (rewritten without the LLM): whole
  request latency.
- MCP: each tool through the SDK's client over streamable HTTP (/mcp), whole call latency.

    .venv/bin/python bench/chat_overhead.py            # 100,000 chunks
    .venv/bin/python bench/chat_overhead.py --quick    # 3,000 chunks, a smoke run
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    OUT_DIR,
    bench_workdir,
    embedded_database,
    print_table,
    summary_ms,
    write_json,
)
from bench.corpus_text import bench_queries

MCP_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("search", {"query": "notice period of the gym membership", "top_k": 8}),
    ("ask", {"question": "How much did I spend at Rewe in September 2026?"}),
    ("transactions", {"action": "list", "payee": "Rewe", "period": "2026-08"}),
    ("transactions", {"action": "sum", "period": "2026-10", "direction": "out"}),
    ("transactions", {"action": "top", "by": "category", "period": "2026-10"}),
    ("contracts", {"days": 365}),
    ("get_document", {"chunk_id": None, "context_chars": 1500}),
    ("status", {}),
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3,000 chunks, fewer requests")
    ap.add_argument("--chunks", type=int, help="index size (default 100000; quick 3000)")
    ap.add_argument("--requests", type=int, help="measured /v1 requests (default 60; quick 12)")
    ap.add_argument("--calls", type=int, help="measured calls per MCP tool (default 20; quick 4)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", type=Path, help="keep corpus and database here (reused later)")
    ap.add_argument("--out", help="JSON name under bench/out/ (default chat; quick chat-quick)")
    args = ap.parse_args(argv)
    args.chunks = args.chunks or (3000 if args.quick else 100_000)
    args.requests = args.requests or (12 if args.quick else 60)
    args.calls = args.calls or (4 if args.quick else 20)
    args.out = args.out or ("chat-quick" if args.quick else "chat")
    return args


def build_index(db: Any, workdir: Path, args: argparse.Namespace, embedder: Any) -> Any:
    """The household sample (once) and generated text up to --chunks; the Runtime over it."""
    from sqlalchemy import func, select

    from app.core.config import load_settings
    from app.core.models import Source
    from app.services.contracts import refresh_contracts
    from app.services.runtime import Runtime
    from app.services.sync import sample_source, sync
    from bench.core_measure import grow_index

    settings = load_settings(database_url=db.url, data_dir=workdir / "data",
                             embedder="lexical-hash", keep_originals=False, _env_file=None)
    rt = Runtime(settings=settings, db=db)
    rt.set_embedder(embedder)
    with db.session() as s:
        has_sample = s.scalar(select(func.count()).select_from(Source)
                              .where(Source.name == "sample household"))
    if not has_sample:
        sync(rt, [sample_source()], trigger="bench")
        refresh_contracts(rt, force=True)
    grow_index(db, workdir, embedder, workdir / "originals", target_chunks=args.chunks,
               seed=args.seed)
    return rt


_SERVER = """
import json, sys
sys.path.insert(0, {repo!r})
import uvicorn
from app.core.config import load_settings
from app.core.db import Database
from app.http.app import create_app
from app.services.runtime import Runtime
from ingest.embedders.lexical import LexicalHashEmbedder

values = json.loads(sys.argv[1])
port = values.pop("port")
settings = load_settings(_env_file=None, **values)
rt = Runtime(settings=settings, db=Database.open(settings.database_url,
                                                 pgdata=settings.pgdata_dir))
rt.set_embedder(LexicalHashEmbedder())
uvicorn.run(create_app(runtime=rt), host="127.0.0.1", port=port, log_level="warning")
"""


class Served:
    """The app under uvicorn in its own process, as `homerag serve` runs (so the server does
    not share this process's GIL with the measuring client)."""

    def __init__(self, settings: Any) -> None:
        import subprocess

        import httpx

        from bench.common import REPO

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        values = {"database_url": settings.database_url, "data_dir": str(settings.data_dir),
                  "embedder": "lexical-hash", "llm_base_url": settings.llm_base_url,
                  "llm_model": settings.llm_model, "keep_originals": False, "port": port}
        self.proc = subprocess.Popen([sys.executable, "-c", _SERVER.format(repo=str(REPO)),
                                      json.dumps(values)])
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base}/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the app did not start")
            time.sleep(0.2)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except Exception:
            self.proc.kill()


def stream_v1(client: Any, base: str, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    """Seconds to read a streamed completion up to [DONE], and its final chunk."""
    t0 = time.perf_counter()
    final: dict[str, Any] = {}
    with client.stream("POST", f"{base}/v1/chat/completions", json=body) as resp:
        resp.raise_for_status()
        for line in resp.iter_lines():
            if line == "data: [DONE]":
                break
            if line.startswith("data: "):
                data = json.loads(line[6:])
                if data.get("choices") and data["choices"][0].get("finish_reason"):
                    final = data
    return time.perf_counter() - t0, final


def same_size_request(question: str, final: dict[str, Any]) -> dict[str, Any]:
    """A chat request of the size homerag sent the stub (the sources it offered + question)."""
    context = "\n\n".join(f'<source id="{c["n"]}">{c["text"]}</source>'
                          for c in final.get("citations", []))
    return {"model": "stub-model", "stream": True, "max_tokens": 1024,
            "messages": [{"role": "system", "content": "Answer from the sources only."},
                         {"role": "user", "content": f"{context}\n\nQuestion: {question}"}]}


def _service_ms(events: Any) -> float:
    t0 = time.perf_counter()
    for _event in events:
        pass
    return (time.perf_counter() - t0) * 1000


def measure_v1(base: str, stub: Any, args: argparse.Namespace, rt: Any) -> dict[str, Any]:
    """/v1 over HTTP, and in the same rounds the services it calls in-process (`ask_stream`,
    and `ask_turn_stream` which adds the follow-up rewrite), so the layers' shares show."""
    import httpx

    from app.services.ask import ask_stream, ask_turn_stream

    questions = [q.text for q in bench_queries(args.requests * 2, args.seed + 99)
                 if q.flavour != "keyword"][: args.requests]
    overhead, totals, own, search_only, follow = [], [], [], [], []
    service, turn = [], []
    with httpx.Client(timeout=120) as client:
        for q in questions[:5]:  # warm: connections, prompt files, caches
            stream_v1(client, base, {"model": "homerag", "stream": True,
                                     "messages": [{"role": "user", "content": q}]})
        for q in questions:
            secs, final = stream_v1(client, base, {"model": "homerag", "stream": True,
                                                   "messages": [{"role": "user",
                                                                 "content": q}]})
            stub_secs = stub.raw_roundtrip(same_size_request(q, final))
            service.append(_service_ms(ask_stream(rt, q)) - stub_secs * 1000)
            turn.append(_service_ms(ask_turn_stream(rt, q, store=False, origin="openai"))
                        - stub_secs * 1000)
            totals.append(secs * 1000)
            own.append(stub_secs * 1000)
            overhead.append((secs - stub_secs) * 1000)
            secs, _ = stream_v1(client, base, {"model": "homerag-search", "stream": True,
                                               "messages": [{"role": "user", "content": q}]})
            search_only.append(secs * 1000)
            secs, _ = stream_v1(client, base, {"model": "homerag-search", "stream": True,
                                               "messages": [
                {"role": "user", "content": "How much did I spend at Rewe in September 2026?"},
                {"role": "assistant", "content": "Spent 207.70 EUR ..."},
                {"role": "user", "content": "and in August 2026?"}]})
            follow.append(secs * 1000)
    return {"requests": len(questions), "overhead": summary_ms(overhead),
            "total": summary_ms(totals), "stub_own": summary_ms(own),
            "ask_stream_overhead": summary_ms(service),
            "ask_turn_stream_overhead": summary_ms(turn),
            "search_model_total": summary_ms(search_only),
            "follow_up_no_llm_total": summary_ms(follow), "target_p95_ms": 100.0}


def measure_mcp(base: str, args: argparse.Namespace, chunk_id: int) -> dict[str, Any]:
    import anyio
    from mcp import Client

    out: dict[str, list[float]] = {}

    async def main() -> None:
        async with Client(f"{base}/mcp", read_timeout_seconds=120) as client:
            for name, call_args in MCP_CALLS:
                call_args = {k: (chunk_id if v is None and k == "chunk_id" else v)
                             for k, v in call_args.items()}
                label = name if name != "transactions" else f"transactions ({call_args['action']})"
                times = out.setdefault(label, [])
                for i in range(args.calls + 1):
                    t0 = time.perf_counter()
                    result = await client.call_tool(name, call_args)
                    if result.is_error:
                        raise RuntimeError(f"{label}: {result.content[0].text}")
                    if i:  # the first call warms up
                        times.append((time.perf_counter() - t0) * 1000)

    anyio.run(main)
    return {label: summary_ms(times) for label, times in out.items()}


def main(argv: list[str] | None = None) -> int:
    from sqlalchemy import select

    from app.core.models import Chunk, Document
    from bench.core_measure import StubProcess, index_stats
    from ingest.embedders.lexical import LexicalHashEmbedder

    args = parse_args(argv)
    with bench_workdir(args.workdir) as workdir, embedded_database(workdir / "pg") as db:
        embedder = LexicalHashEmbedder()
        rt = build_index(db, workdir, args, embedder)
        results: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()},
                                   "index": index_stats(db)}
        with db.session() as s:
            chunk_id = s.scalar(select(Chunk.id).join(Document).where(
                Document.origin.endswith("fitlife-gym-membership.pdf")).limit(1))
        with StubProcess() as stub:
            rt.settings = rt.settings.model_copy(update={"llm_base_url": stub.base_url,
                                                         "llm_model": "stub-model"})
            rt.extras.clear()  # chat clients made before the LLM was configured
            served = Served(rt.settings)
            try:
                results["v1"] = measure_v1(served.base, stub, args, rt)
                results["mcp"] = measure_mcp(served.base, args, chunk_id)
            finally:
                served.close()
                rt.extras.clear()
    report(results)
    write_json(args.out, results, OUT_DIR)
    return 0


def report(results: dict[str, Any]) -> None:
    idx = results["index"]
    v1 = results["v1"]
    rows = [
        ["/v1 added latency (homerag, streamed)", v1["overhead"]["p50_ms"], v1["overhead"]["p95_ms"],
         "<= 100"],
        ["  in-process ask_stream (same questions)", v1["ask_stream_overhead"]["p50_ms"],
         v1["ask_stream_overhead"]["p95_ms"], ""],
        ["  in-process ask_turn_stream (+ rewrite)", v1["ask_turn_stream_overhead"]["p50_ms"],
         v1["ask_turn_stream_overhead"]["p95_ms"], ""],
        ["/v1 total incl. stub LLM", v1["total"]["p50_ms"], v1["total"]["p95_ms"], ""],
        ["stub LLM own time", v1["stub_own"]["p50_ms"], v1["stub_own"]["p95_ms"], ""],
        ["/v1 homerag-search (no LLM)", v1["search_model_total"]["p50_ms"],
         v1["search_model_total"]["p95_ms"], ""],
        ["/v1 follow-up with history (no LLM)", v1["follow_up_no_llm_total"]["p50_ms"],
         v1["follow_up_no_llm_total"]["p95_ms"], ""],
    ]
    rows += [[f"MCP {name}", s["p50_ms"], s["p95_ms"], ""] for name, s in results["mcp"].items()]
    print_table(f"chat bench: {idx['chunks']:,} chunks, {idx['documents']:,} documents "
                f"({v1['requests']} /v1 requests)", rows, ["measure (ms)", "p50", "p95", "target"])


if __name__ == "__main__":
    sys.exit(main())
