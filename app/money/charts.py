"""Server-side charts of a spending report: matplotlib (Agg backend) PNGs, one per section.

`report_charts(content)` returns {"categories": png, "merchants": png, "trend": png} (bytes);
`data_uri(png)` embeds one in HTML. matplotlib is imported inside, never at module import.
"""

from __future__ import annotations

import base64
import io
from decimal import Decimal
from typing import Any

_BLUE, _GREY, _RED = "#2f6db5", "#b8c2cc", "#c0392b"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return buf.getvalue()


def _main_currency(content: dict[str, Any]) -> str | None:
    totals = content.get("totals") or []
    return totals[0]["currency"] if totals else None


def category_chart(content: dict[str, Any]) -> bytes | None:
    """Horizontal bars: spend per category this period against its trailing median."""
    cur = _main_currency(content)
    cats = [c for c in content.get("categories", []) if c["currency"] == cur][:10]
    if not cats:
        return None
    plt = _pyplot()
    cats = list(reversed(cats))
    names = [c["category"] for c in cats]
    spent = [float(Decimal(c["spent"])) for c in cats]
    # No usual value (no earlier period with data): no grey bar rather than a zero one.
    usual = [float(Decimal(c["trailing_median"] or 0)) for c in cats]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(cats) + 1.2))
    y = range(len(cats))
    ax.barh([i + 0.2 for i in y], spent, height=0.4, color=[
        _RED if u and s > 1.5 * u else _BLUE for s, u in zip(spent, usual, strict=True)],
        label="this period")
    ax.barh([i - 0.2 for i in y], usual, height=0.4, color=_GREY, label="usual (median of earlier periods)")
    ax.set_yticks(list(y), names)
    ax.set_xlabel(cur or "")
    ax.set_title("Spending by category vs. usual (red: over 1.5x usual)")
    ax.legend(loc="lower right", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def merchant_chart(content: dict[str, Any]) -> bytes | None:
    cur = _main_currency(content)
    merchants = [m for m in content.get("merchants", []) if m["currency"] == cur][:10]
    if not merchants:
        return None
    plt = _pyplot()
    merchants = list(reversed(merchants))
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(merchants) + 1.2))
    ax.barh([m["label"][:28] for m in merchants],
            [float(Decimal(m["spent"])) for m in merchants], color=_BLUE)
    for i, m in enumerate(merchants):
        ax.text(float(Decimal(m["spent"])), i, f" {m['spent']} ({m['count']}x)", va="center",
                fontsize=8)
    ax.set_xlabel(cur or "")
    ax.set_title("Top merchants")
    ax.spines[["top", "right"]].set_visible(False)
    ax.margins(x=0.25)
    return _png(fig)


def trend_chart(content: dict[str, Any]) -> bytes | None:
    trend = content.get("trend") or []
    if len(trend) < 2:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 2.6))
    monthly = all(t["start"].endswith("-01") for t in trend)
    labels = [t["start"][:7] if monthly else t["start"][5:] for t in trend]
    values = [float(Decimal(t["spent"])) for t in trend]
    colors = [_GREY] * (len(values) - 1) + [_BLUE]
    positions = list(range(len(values)))  # positions, not labels: labels may repeat
    ax.bar(positions, values, color=colors)
    ax.set_xticks(positions, labels)
    past = sorted(values[:-1])
    if past:
        mid = past[len(past) // 2] if len(past) % 2 else (past[len(past) // 2 - 1]
                                                           + past[len(past) // 2]) / 2
        ax.axhline(mid, color=_RED, linestyle="--", linewidth=1, label="median")
        ax.legend(fontsize=8)
    ax.set_ylabel(trend[0]["currency"])
    ax.set_title("Spending per period (this one in blue)")
    ax.tick_params(axis="x", labelrotation=60, labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def report_charts(content: dict[str, Any]) -> dict[str, bytes]:
    out = {}
    for name, fn in (("categories", category_chart), ("merchants", merchant_chart),
                     ("trend", trend_chart)):
        png = fn(content)
        if png:
            out[name] = png
    return out


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
