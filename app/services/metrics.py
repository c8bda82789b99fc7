"""Use case: the figures to watch homerag run, in Prometheus' format (/metrics) and for the
stats page, from one registry per app (no global registry: nothing registers at import time).

Two kinds of figures:
- this process's own, observed as they happen: HTTP requests and their latency by route
  (search and ask routes also in families of their own), uptime, the database pool, and the
  standard process_* figures (CPU, memory, open files);
- the database's, read at each scrape by `StoreCollector` (so they cover every process that
  writes there: the scheduler's syncs, the CLI's asks, workers on other hosts): ingest items by
  source and status and failures by reason, each source's freshness against its sync interval,
  the embedding queue and each worker's totals, and per model the LLM's answers, tokens, cost,
  time to first token, prefill and generation speed.
Counters read from the database are running totals of stored rows; Prometheus' rate() turns
them into items/s and tokens/s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from app.services.runtime import Runtime

log = logging.getLogger(__name__)

__all__ = ["CONTENT_TYPE", "Metrics", "render_metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
                   120.0)
TTFT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
SPEED_BUCKETS = (5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0)
SEARCH_ROUTES = ("/search",)
ASK_ROUTES = ("/ask", "/ask/stream", "/chat/completions")


def route_kind(route: str) -> str | None:
    """"search" / "ask" for the routes that search or answer, else None."""
    if route.endswith(SEARCH_ROUTES):
        return "search"
    if route.endswith(ASK_ROUTES):
        return "ask"
    return None


class Metrics:
    """The registry of one app: its own instruments plus the database's figures."""

    def __init__(self, runtime: Callable[[], Runtime | None]) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
        from prometheus_client.process_collector import ProcessCollector

        self.started = time.time()
        self.registry: CollectorRegistry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("homerag_http_requests", "HTTP requests by route and status code",
                                ["route", "method", "code"], registry=r)
        self.latency = Histogram("homerag_http_request_duration_seconds",
                                 "HTTP request time by route (to the end of the body)",
                                 ["route", "method"], buckets=LATENCY_BUCKETS, registry=r)
        self.search = Histogram("homerag_search_duration_seconds",
                                "Search requests (API and web), seconds", ["route"],
                                buckets=LATENCY_BUCKETS, registry=r)
        self.ask = Histogram("homerag_ask_duration_seconds",
                             "Ask requests (API, web, /v1 chat), seconds, to the last byte",
                             ["route"], buckets=LATENCY_BUCKETS, registry=r)
        start = Gauge("homerag_process_start_time_seconds", "When this server started (Unix "
                      "time)", registry=r)
        start.set(self.started)
        uptime = Gauge("homerag_uptime_seconds", "Seconds since this server started", registry=r)
        uptime.set_function(lambda: time.time() - self.started)
        ProcessCollector(registry=r)
        r.register(StoreCollector(runtime))

    def observe_request(self, *, route: str, method: str, code: int, seconds: float) -> None:
        self.requests.labels(route, method, str(code)).inc()
        self.latency.labels(route, method).observe(seconds)
        kind = route_kind(route)
        if kind == "search":
            self.search.labels(route).observe(seconds)
        elif kind == "ask":
            self.ask.labels(route).observe(seconds)

    def render(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


def render_metrics(metrics: Metrics) -> bytes:
    """The text exposition of every figure (database queries included: call off the loop)."""
    return metrics.render()


class StoreCollector:
    """Reads the database's figures at each scrape (each group on its own; one that fails is
    counted in homerag_metrics_errors and left out, the rest still shows)."""

    def __init__(self, runtime: Callable[[], Runtime | None]) -> None:
        self.runtime = runtime
        self.errors = 0

    def describe(self) -> list[Any]:
        return []  # families depend on the data; nothing to check at registration

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        rt = self.runtime()
        if rt is None:
            return
        yield from _pool(rt)
        for group in (_index, _ingest, _sources, _queue, _workers, _llm):
            try:
                with rt.db.session() as s:
                    yield from group(rt, s)
            except Exception as exc:  # one broken group must not blank the whole scrape
                self.errors += 1
                log.warning("metrics: %s failed: %s", group.__name__.strip("_"), exc)
        err = CounterMetricFamily("homerag_metrics_errors", "Figure groups that failed to read")
        err.add_metric([], self.errors)
        yield err
        up = GaugeMetricFamily("homerag_database_up", "1 when the database answered this scrape")
        up.add_metric([], 1.0 if self._ping(rt) else 0.0)
        yield up

    @staticmethod
    def _ping(rt: Runtime) -> bool:
        from sqlalchemy import text

        try:
            with rt.db.session() as s:
                s.execute(text("SELECT 1"))
            return True
        except Exception:
            return False


# -- groups -------------------------------------------------------------------------------------
def _gauge(name: str, doc: str, labels: Sequence[str] = ()) -> Any:
    from prometheus_client.core import GaugeMetricFamily

    return GaugeMetricFamily(name, doc, labels=list(labels))


def _counter(name: str, doc: str, labels: Sequence[str] = ()) -> Any:
    from prometheus_client.core import CounterMetricFamily

    return CounterMetricFamily(name, doc, labels=list(labels))


def _pool(rt: Runtime) -> Iterator[Any]:
    pool = rt.db.engine.pool
    g = _gauge("homerag_db_pool_connections", "Connections of this server's pool by state",
               ["state"])
    for state, fn in (("checked_out", "checkedout"), ("idle", "checkedin"),
                      ("overflow", "overflow")):
        value = getattr(pool, fn, None)
        if callable(value):
            g.add_metric([state], max(0.0, float(value())))
    yield g
    size = getattr(pool, "size", None)
    if callable(size):
        s = _gauge("homerag_db_pool_size", "Connections the pool keeps open at most (without "
                   "overflow)")
        s.add_metric([], float(size()))
        yield s


def _index(rt: Runtime, s: Any) -> Iterator[Any]:
    from sqlalchemy import text

    docs, chunks = s.execute(text(
        "SELECT (SELECT count(*) FROM documents), "
        "       CASE WHEN (SELECT reltuples FROM pg_class WHERE oid = 'chunks'::regclass) "
        "                 > 100000 "
        "            THEN (SELECT reltuples FROM pg_class WHERE oid = 'chunks'::regclass) "
        "            ELSE (SELECT count(*) FROM chunks) END")).one()
    g = _gauge("homerag_index_documents", "Documents in the index")
    g.add_metric([], float(docs))
    yield g
    g = _gauge("homerag_index_chunks", "Passages in the index (estimated above 100,000)")
    g.add_metric([], float(chunks))
    yield g


def _ingest(rt: Runtime, s: Any) -> Iterator[Any]:
    from sqlalchemy import text

    items = _counter("homerag_ingest_items", "Items handled by ingest runs, by source and "
                     "status (indexed, unchanged items are counted per run, failed, removed, "
                     "skipped)", ["source", "status"])
    for source, status, n in s.execute(text(
            "SELECT coalesce(src.name, '(deleted)'), i.status, count(*) FROM ingest_items i "
            "LEFT JOIN sources src ON src.id = i.source_id GROUP BY 1, 2")):
        items.add_metric([source, status], float(n))
    for source, n in s.execute(text(
            "SELECT coalesce(src.name, '(deleted)'), sum((r.counts->>'unchanged')::bigint) "
            "FROM ingest_runs r LEFT JOIN sources src ON src.id = r.source_id "
            "WHERE r.counts ? 'unchanged' GROUP BY 1")):
        items.add_metric([source, "unchanged"], float(n or 0))
    yield items
    fails = _counter("homerag_ingest_failures", "Items that failed, by source and reason code",
                     ["source", "reason"])
    for source, code, n in s.execute(text(
            "SELECT coalesce(src.name, '(deleted)'), coalesce(i.code, 'unknown'), count(*) "
            "FROM ingest_items i LEFT JOIN sources src ON src.id = i.source_id "
            "WHERE i.status = 'failed' GROUP BY 1, 2")):
        fails.add_metric([source, code], float(n))
    yield fails
    runs = _counter("homerag_ingest_runs", "Ingest runs by source and outcome",
                    ["source", "status"])
    for source, status, n in s.execute(text(
            "SELECT coalesce(src.name, '(deleted)'), r.status, count(*) FROM ingest_runs r "
            "LEFT JOIN sources src ON src.id = r.source_id GROUP BY 1, 2")):
        runs.add_metric([source, status], float(n))
    yield runs


def _sources(rt: Runtime, s: Any) -> Iterator[Any]:
    from sqlalchemy import text

    default_s = rt.settings.sync_interval_hours * 3600
    last = _gauge("homerag_source_last_sync_timestamp_seconds", "Last completed sync (Unix "
                  "time)", ["source"])
    interval = _gauge("homerag_source_sync_interval_seconds", "How often the source is synced",
                      ["source"])
    fresh = _gauge("homerag_source_staleness_ratio", "Time since the last sync over the sync "
                   "interval (above 1: overdue)", ["source"])
    for name, ts, every in s.execute(text(
            "SELECT name, extract(epoch FROM last_sync_at), sync_interval_s FROM sources "
            "WHERE enabled")):
        every = float(every or default_s)
        interval.add_metric([name], every)
        if ts is not None:
            last.add_metric([name], float(ts))
            fresh.add_metric([name], max(0.0, time.time() - float(ts)) / every)
    yield from (last, interval, fresh)


def _queue(rt: Runtime, s: Any) -> Iterator[Any]:
    from sqlalchemy import text

    from ingest.queue import QueueDepth, depth

    chunks = _gauge("homerag_embed_queue_chunks", "Chunks waiting for their vectors", ["space"])
    docs = _gauge("homerag_embed_queue_documents", "Documents not searchable yet (some chunk "
                  "waits)", ["space"])
    tokens = _gauge("homerag_embed_queue_tokens", "Tokens of the waiting chunks", ["space"])
    texts = _gauge("homerag_embed_queue_texts", "Distinct texts to embed by state", ["space",
                                                                                      "state"])
    oldest = _gauge("homerag_embed_queue_oldest_seconds", "Age of the oldest waiting text",
                    ["space"])
    rows = depth(s)
    active = s.execute(text("SELECT id FROM embedding_spaces WHERE status = 'active'")).scalar()
    if active is not None and all(d.space_id != active for d in rows):
        rows.append(QueueDepth(int(active), 0, 0, 0, 0, 0, 0, None))  # an empty queue: zeros
    for d in rows:
        sp = str(d.space_id)
        chunks.add_metric([sp], d.pending_chunks)
        docs.add_metric([sp], d.pending_documents)
        tokens.add_metric([sp], d.pending_tokens)
        for state, n in (("ready", d.texts_ready), ("leased", d.texts_leased),
                         ("failed", d.texts_failed)):
            texts.add_metric([sp, state], n)
        oldest.add_metric([sp], d.oldest_s or 0.0)
    yield from (chunks, docs, tokens, texts, oldest)


def _workers(rt: Runtime, s: Any) -> Iterator[Any]:
    from sqlalchemy import text

    lost_after = rt.settings.embed_lease_s * 2
    labels = ["worker", "host", "device"]
    up = _gauge("homerag_embed_worker_up", "1 while the worker's heartbeat is fresh", labels)
    fams = {k: _counter(f"homerag_embed_worker_{k}", doc, labels) for k, doc in (
        ("tokens", "Tokens the worker embedded (rate(): tokens/s)"),
        ("chunks", "Chunks the worker gave vectors"),
        ("texts", "Texts the worker embedded"),
        ("embed_seconds", "Seconds the worker spent in the model"))}
    for row in s.execute(text(
            "SELECT id, host, device, status, extract(epoch FROM now() - last_seen_at), tokens, "
            "       chunks, texts, embed_seconds FROM embedding_workers "
            "WHERE status = 'running' OR stopped_at > now() - interval '1 day'")):
        lab = [row[0], row[1], row[2]]
        up.add_metric(lab, 1.0 if row[3] == "running" and float(row[4]) <= lost_after else 0.0)
        for k, v in zip(("tokens", "chunks", "texts", "embed_seconds"), row[5:], strict=True):
            fams[k].add_metric(lab, float(v))
    yield up
    yield from fams.values()


def _llm(rt: Runtime, s: Any) -> Iterator[Any]:
    from prometheus_client.core import HistogramMetricFamily
    from sqlalchemy import text

    from app.services.usage import prices

    table = prices(rt)
    answers = _counter("homerag_llm_answers", "Answers by model and mode", ["model", "mode"])
    tokens = _counter("homerag_llm_tokens", "Tokens the model reported, by kind", ["model",
                                                                                  "kind"])
    cost = _counter("homerag_llm_cost", "Cost from the owner's price table (prices.toml)",
                    ["model", "currency"])
    for model, mode, n, prompt, completion in s.execute(text(
            "SELECT coalesce(model, ''), mode, count(*), coalesce(sum(prompt_tokens), 0), "
            "       coalesce(sum(completion_tokens), 0) FROM answers GROUP BY 1, 2")):
        answers.add_metric([model, mode], float(n))
        tokens.add_metric([model, "prompt"], float(prompt))
        tokens.add_metric([model, "completion"], float(completion))
        c = table.cost(model, int(prompt), int(completion))
        if c is not None:
            cost.add_metric([model, table.currency], c)
    yield from (answers, tokens, cost)
    series = (
        ("homerag_llm_time_to_first_token_seconds", "Time to the first answer token (streamed "
         "answers)", "first_token_ms / 1000.0", "first_token_ms IS NOT NULL", TTFT_BUCKETS),
        ("homerag_llm_prefill_tokens_per_second", "Prompt tokens over the time to the first "
         "token", "prompt_tokens / (first_token_ms / 1000.0)",
         "first_token_ms > 0 AND prompt_tokens > 0", SPEED_BUCKETS),
        ("homerag_llm_generation_tokens_per_second", "Completion tokens over the time after the "
         "first token", "completion_tokens / ((llm_ms - first_token_ms) / 1000.0)",
         "llm_ms > first_token_ms AND completion_tokens > 0", SPEED_BUCKETS),
        ("homerag_answer_duration_seconds", "Whole answers (retrieval + model), every process",
         "latency_ms / 1000.0", "latency_ms IS NOT NULL", LATENCY_BUCKETS))
    for name, doc, expr, cond, buckets in series:
        cols = ", ".join(f"count(*) FILTER (WHERE v <= {b})" for b in buckets)
        key = "mode" if name == "homerag_answer_duration_seconds" else "model"
        hist = HistogramMetricFamily(name, doc, labels=[key])
        for row in s.execute(text(
                f"SELECT k, {cols}, count(*), coalesce(sum(v), 0) FROM ("
                f"  SELECT coalesce({key}, '') AS k, ({expr})::float8 AS v FROM answers "
                f"  WHERE {cond}) x GROUP BY k")):
            counts = [float(c) for c in row[1:len(buckets) + 1]]
            hist.add_metric([row[0]], [*[(str(b), c) for b, c in zip(buckets, counts,
                                                                     strict=True)],
                                       ("+Inf", float(row[-2]))], sum_value=float(row[-1]))
        yield hist
