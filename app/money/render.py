"""Render a spending report's content as Markdown or as a self-contained HTML page with charts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).resolve().parent.parent / "http" / "templates"


def cite(tx: dict[str, Any]) -> str:
    """'statement.csv row 12' / 'auszug.pdf page 2, line 7'."""
    src = tx.get("source") or {}
    name = Path(src.get("path") or "?").name
    where = ", ".join(f"{k} {src[k]}" for k in ("page", "row", "line") if src.get(k))
    return f"{name} {where}".strip()


def tx_line(tx: dict[str, Any]) -> str:
    who = tx.get("counterparty") or tx.get("description") or "?"
    return f"#{tx['id']} {tx['date']} {tx['amount']} {tx['currency']} {who} ({cite(tx)})"


def to_markdown(content: dict[str, Any], *, link_base: str | None = None) -> str:
    txs = content.get("transactions", {})
    kind = "Weekly" if content["kind"].endswith("week") else "Monthly"
    out = [f"# {kind} spending report {content['period']}",
           f"_{content['start']} to {content['end']}, generated {content['generated_at']}_", ""]
    if content.get("narrative"):
        out += ["## In short", content["narrative"]["text"], ""]
    out += ["## Summary", *[f"- {line}" for line in content["summary"]], ""]
    if content["totals"]:
        out += ["| currency | spent | income | net | transactions |", "|---|---:|---:|---:|---:|"]
        out += [f"| {t['currency']} | {t['spent']} | {t['income']} | {t['net']} | {t['count']} |"
                for t in content["totals"]]
        out.append("")
    if not content["totals"]:  # the summary line says there is no data for the period
        return "\n".join(out + _deadlines_markdown(content)) + "\n"
    periods = content.get("baseline_periods", 12)
    out += [f"## Spending by category (vs. the median of {periods} earlier periods)",
            "| category | spent | usual | difference |", "|---|---:|---:|---:|"]
    out += [f"| {c['category']} | {c['spent']} {c['currency']} | {c['trailing_median'] or '—'} | "
            f"{c['difference'] or '—'} |" for c in content["categories"]]
    out += ["", "## Top merchants", "| merchant | spent | count |", "|---|---:|---:|"]
    out += [f"| {m['label']} | {m['spent']} {m['currency']} | {m['count']} |"
            for m in content["merchants"]]
    out += ["", "## Flagged items"]
    if not content["flags"]:
        out.append("Nothing unusual.")
    for i, f in enumerate(content["flags"], start=1):
        out.append(f"{i}. **[F{i}] {f['reason']}** (score {f['score']}, {f['kind']})")
        for tid in f["transaction_ids"]:
            tx = txs.get(str(tid))
            if tx:
                link = f" [open]({link_base}/reports/transactions/{tid})" if link_base else ""
                out.append(f"   - {tx_line(tx)}{link}")
    if content["suggestions"]:
        out += ["", "## What you could do"]
        for s in content["suggestions"]:
            refs = ", ".join(f"#{t}" for t in s["transaction_ids"][:5])
            out.append(f"- {s['text']} ({refs})")
    out += _deadlines_markdown(content)
    if content.get("balance_problems"):
        out += ["", "## Statements whose balances do not add up"]
        out += [f"- {Path(b['path'] or '?').name} ({b['period']}): {b['message']}"
                for b in content["balance_problems"]]
    return "\n".join(out) + "\n"


def _deadlines_markdown(content: dict[str, Any]) -> list[str]:
    if not content.get("deadlines"):
        return []
    return ["", "## Contract deadlines in the next 60 days", *[
        f"- {d['date']} ({d['days_left']} days): "
        f"{'last day to cancel' if d['kind'] == 'cancel_by' else 'contract ends'} "
        f"{d['title']} ({Path(d['path']).name})" for d in content["deadlines"]]]


def _env() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(str(TEMPLATES)),
                       autoescape=select_autoescape(["html"]))


def to_html(content: dict[str, Any], *, charts: dict[str, bytes] | None = None,
            link_base: str = "") -> str:
    """A standalone page (for the archive and e-mail); charts embedded as data URIs."""
    from app.money.charts import data_uri, report_charts

    pictures = report_charts(content) if charts is None else charts
    return _env().get_template("reports_standalone.html").render(
        report=content, charts={k: data_uri(v) for k, v in pictures.items()},
        link_base=link_base, cite=cite,
    )


def report_body_html(content: dict[str, Any], *, charts: dict[str, bytes],
                     link_base: str = "") -> str:
    """Only the report's sections (for embedding in the web page)."""
    from app.money.charts import data_uri

    return _env().get_template("reports_body.html").render(
        report=content, charts={k: data_uri(v) for k, v in charts.items()},
        link_base=link_base, cite=cite,
    )
