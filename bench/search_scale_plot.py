"""Plots of the search-at-scale results (bench/results/search_scale_<chunks>.json) as PNGs in
docs/bench/: latency against corpus size (log-log) and recall@10 against latency per corpus
size (points: hnsw.ef_search).

    .venv/bin/python bench/search_scale_plot.py            # the PNGs
    .venv/bin/python bench/search_scale_plot.py --table    # the figures as a Markdown table
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO

RESULTS = REPO / "bench" / "results"
DOCS = REPO / "docs" / "bench"
DEFAULT_EF = "60"  # what homerag uses: max(40, HOMERAG_CANDIDATES = 60)


def load() -> list[dict[str, Any]]:
    # search_scale_<chunks>.json only: other runs are named after what they compare, and a
    # name ending in an all-digit commit (search_scale_1000000_3739803) is no size.
    runs = [json.loads(p.read_text()) for p in RESULTS.glob("search_scale_*.json")
            if re.fullmatch(r"search_scale_\d+", p.stem)]
    return sorted(runs, key=lambda r: r["chunks"])


def latency_vs_size(runs: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.6))
    sizes = [r["chunks"] for r in runs]
    series = [("none", "hybrid", "p50_ms", "hybrid, no filter, p50", "-", "o"),
              ("none", "hybrid", "p95_ms", "hybrid, no filter, p95", "-", "s"),
              ("date", "hybrid", "p95_ms", "hybrid, 5 % date range, p95", "--", "^"),
              ("source", "hybrid", "p95_ms", "hybrid, 5 % source, p95", "--", "v"),
              ("none", "dense_only", "p95_ms", "dense stage alone, p95", ":", "x")]
    for mode, kind, key, label, style, marker in series:
        ys = [r["modes"][mode]["by_ef"][DEFAULT_EF][kind][key] for r in runs]
        ax.plot(sizes, ys, style, marker=marker, label=label)
    ax.axhline(50, color="grey", lw=0.8)
    ax.text(sizes[0], 52, "target p95 50 ms", color="grey", fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("chunks (1024-d halfvec + sparse + full text)")
    ax.set_ylabel("latency per search, ms (warm)")
    ax.set_title(f"homerag search latency vs corpus size (ef_search {DEFAULT_EF}, top 10)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def recall_vs_latency(runs: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), sharey=True)
    for ax, kind, title in ((axes[0], "hybrid", "fused top 10 (dense + sparse + full text)"),
                            (axes[1], "dense_only", "dense stage alone (HNSW, halfvec)")):
        for r in runs:
            by_ef = r["modes"]["none"]["by_ef"]
            efs = sorted(by_ef, key=int)
            xs = [by_ef[e][kind]["p95_ms"] for e in efs]
            ys = [by_ef[e][kind]["recall_at_10"] for e in efs]
            line = ax.plot(xs, ys, "-o", label=f"{r['chunks']:,} chunks")[0]
            for e, x, y in zip(efs, xs, ys, strict=True):
                ax.annotate(e, (x, y), textcoords="offset points", xytext=(3, -9), fontsize=7,
                            color=line.get_color())
        ax.axhline(0.95, color="grey", lw=0.8)
        ax.axvline(50, color="grey", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("p95 latency, ms (points: hnsw.ef_search)")
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("recall@10 against exact search, no filter")
    axes[0].legend(fontsize=8)
    fig.suptitle("homerag: recall vs latency across ef_search")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def table(runs: list[dict[str, Any]]) -> str:
    """Markdown rows: per size, mode and ef_search, hybrid and dense-only figures."""
    lines = ["| chunks | filter | ef_search | hybrid p50 / p95 / p99 ms | hybrid recall@10 | "
             "k rows | exact fallbacks | dense-only p50 / p95 ms | dense recall@10 | load |",
             "| ---: | --- | ---: | --- | ---: | ---: | ---: | --- | ---: | --- |"]
    for r in runs:
        for mode, rows in r["modes"].items():
            for ef, row in sorted(rows["by_ef"].items(), key=lambda kv: int(kv[0])):
                h, d = row["hybrid"], row["dense_only"]
                lines.append(
                    f"| {r['chunks']:,} | {mode} | {ef} | {h['p50_ms']:.0f} / {h['p95_ms']:.0f} / "
                    f"{h['p99_ms']:.0f} | {h['recall_at_10']:.3f} | "
                    f"{h['queries_with_k_rows']}/{rows['queries']} | {h['exact_fallbacks']} | "
                    f"{d['p50_ms']:.0f} / {d['p95_ms']:.0f} | {d['recall_at_10']:.3f} | "
                    f"{row['loadavg'][0]}-{row['loadavg'][1]} |")
    return "\n".join(lines)


def main() -> int:
    runs = load()
    if not runs:
        print("no bench/results/search_scale_<chunks>.json yet")
        return 1
    if "--table" in sys.argv:
        print(table(runs))
        return 0
    DOCS.mkdir(parents=True, exist_ok=True)
    latency_vs_size(runs, DOCS / "search_latency_vs_size.png")
    recall_vs_latency(runs, DOCS / "search_recall_vs_latency.png")
    sizes = ", ".join(f"{r['chunks']:,}" for r in runs)
    print(f"wrote {DOCS}/search_latency_vs_size.png, search_recall_vs_latency.png ({sizes} chunks)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
