"""Use case: the stats page's figures, read from the same registry /metrics renders (so both
show the same numbers), summarised: totals per label, histogram quantiles, a chart.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.services.metrics import Metrics
    from app.services.runtime import Runtime

__all__ = ["bucket_quantile", "stats_page_data"]


def bucket_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float | None:
    """Quantile `q` of a histogram given as cumulative (upper bound, count) pairs, interpolated
    linearly inside the bucket as Prometheus' histogram_quantile() does; None without data."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    total = buckets[-1][1]
    rank = q * total
    prev_bound, prev_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return prev_bound  # in the open-ended bucket: its lower bound
            if count == prev_count:
                return bound
            return prev_bound + (bound - prev_bound) * (rank - prev_count) / (count - prev_count)
        prev_bound, prev_count = bound, count
    return prev_bound


def _families(metrics: Metrics) -> dict[str, Any]:
    return {f.name: f for f in metrics.registry.collect()}


def _samples(fam: Any, suffix: str = "") -> Iterable[tuple[dict[str, str], float]]:
    if fam is None:
        return []
    return [(dict(s.labels), float(s.value)) for s in fam.samples if s.name == fam.name + suffix]


def _histograms(fam: Any, key: str) -> dict[str, dict[str, Any]]:
    """Per value of label `key`: count, sum, p50, p95 and the buckets."""
    if fam is None:
        return {}
    buckets: dict[str, list[tuple[float, float]]] = defaultdict(list)
    count: dict[str, float] = {}
    total: dict[str, float] = {}
    for s in fam.samples:
        k = s.labels.get(key, "")
        if s.name.endswith("_bucket"):
            buckets[k].append((float(s.labels["le"]), float(s.value)))
        elif s.name.endswith("_count"):
            count[k] = count.get(k, 0.0) + float(s.value)
        elif s.name.endswith("_sum"):
            total[k] = total.get(k, 0.0) + float(s.value)
    out = {}
    for k, b in buckets.items():
        b.sort()
        out[k] = {"count": int(count.get(k, 0)), "sum": total.get(k, 0.0),
                  "p50": bucket_quantile(0.5, b), "p95": bucket_quantile(0.95, b), "buckets": b}
    return out


def stats_page_data(rt: Runtime, metrics: Metrics) -> dict[str, Any]:
    """Everything the /stats page shows, grouped as it shows it."""
    from app.services.usage import usage_by_month

    fam = _families(metrics)

    def single(name: str) -> float | None:
        values = [v for _, v in _samples(fam.get(name))]
        return values[0] if values else None

    def by(name: str, *keys: str, suffix: str = "_total") -> dict[tuple[str, ...], float]:
        return {tuple(lab.get(k, "") for k in keys): v for lab, v in _samples(fam.get(name),
                                                                              suffix)}

    pool = by("homerag_db_pool_connections", "state", suffix="")
    sources: dict[str, dict[str, Any]] = defaultdict(dict)
    for (src, status), n in by("homerag_ingest_items", "source", "status").items():
        sources[src][status] = int(n)
    for (src,), v in by("homerag_source_staleness_ratio", "source", suffix="").items():
        sources[src]["staleness"] = v
    for (src,), v in by("homerag_source_sync_interval_seconds", "source", suffix="").items():
        sources[src]["interval_h"] = v / 3600
    failures = sorted(((src, reason, int(n)) for (src, reason), n in
                       by("homerag_ingest_failures", "source", "reason").items()),
                      key=lambda r: -r[2])
    spaces: dict[str, dict[str, Any]] = defaultdict(dict)
    for name, field in (("homerag_embed_queue_chunks", "chunks"),
                        ("homerag_embed_queue_documents", "documents"),
                        ("homerag_embed_queue_tokens", "tokens"),
                        ("homerag_embed_queue_oldest_seconds", "oldest_s")):
        for (space,), v in by(name, "space", suffix="").items():
            spaces[space][field] = v
    for (space, state), v in by("homerag_embed_queue_texts", "space", "state", suffix="").items():
        spaces[space][f"texts_{state}"] = int(v)
    workers: dict[str, dict[str, Any]] = defaultdict(dict)
    for (w, host, device), v in by("homerag_embed_worker_up", "worker", "host", "device",
                                   suffix="").items():
        workers[w].update(host=host, device=device, up=bool(v))
    for k in ("tokens", "chunks", "texts", "embed_seconds"):
        for (w,), v in by(f"homerag_embed_worker_{k}", "worker").items():
            workers[w][k] = v
    for figures in workers.values():
        secs = figures.get("embed_seconds") or 0
        figures["tokens_per_s"] = (figures.get("tokens", 0) / secs) if secs else None
    models: dict[str, dict[str, Any]] = defaultdict(dict)
    for (model, mode), n in by("homerag_llm_answers", "model", "mode").items():
        models[model][f"answers_{mode}"] = int(n)
    for (model, kind), n in by("homerag_llm_tokens", "model", "kind").items():
        models[model][f"{kind}_tokens"] = int(n)
    for (model, currency), c in by("homerag_llm_cost", "model", "currency").items():
        models[model].update(cost=c, currency=currency)
    for name, field in (("homerag_llm_time_to_first_token_seconds", "ttft"),
                        ("homerag_llm_prefill_tokens_per_second", "prefill"),
                        ("homerag_llm_generation_tokens_per_second", "generation")):
        for model, h in _histograms(fam.get(name), "model").items():
            models[model][field] = h
    latency = {
        "search": _histograms(fam.get("homerag_search_duration_seconds"), "route"),
        "ask": _histograms(fam.get("homerag_ask_duration_seconds"), "route"),
        "answers": _histograms(fam.get("homerag_answer_duration_seconds"), "mode"),
    }
    return {
        "uptime_s": single("homerag_uptime_seconds"),
        "database_up": single("homerag_database_up"),
        "memory_mb": (single("process_resident_memory_bytes") or 0) / 2**20,
        "pool": {"checked_out": pool.get(("checked_out",), 0), "idle": pool.get(("idle",), 0),
                 "overflow": pool.get(("overflow",), 0),
                 "size": single("homerag_db_pool_size")},
        "documents": single("homerag_index_documents"),
        "chunks": single("homerag_index_chunks"),
        "sources": dict(sorted(sources.items())), "failures": failures[:20],
        "spaces": dict(spaces), "workers": dict(workers), "models": dict(models),
        "latency": latency, "usage": usage_by_month(rt),
        "chart": latency_chart(latency),
    }


def latency_chart(latency: dict[str, dict[str, dict[str, Any]]]) -> str | None:
    """One PNG (data: URI) of the request-time histograms that have data, or None."""
    panels = [(f"{kind} {label}".strip(), h) for kind in ("search", "ask", "answers")
              for label, h in latency[kind].items() if h["count"]]
    if not panels:
        return None
    import base64
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 1.9 * len(panels)), squeeze=False)
    for ax, (title, h) in zip(axes[:, 0], panels, strict=True):
        bounds = [b for b, _ in h["buckets"]]
        cum = [c for _, c in h["buckets"]]
        per = [c - p for c, p in zip(cum, [0.0, *cum[:-1]], strict=True)]
        labels = ["≤" + (f"{b:g}" if not math.isinf(b) else "∞") for b in bounds]
        ax.bar(range(len(per)), per, color="#4a78a8")
        ax.set_xticks(range(len(per)), labels, fontsize=7)
        ax.set_title(f"{title}: {h['count']} requests, seconds", fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
