"""The spending report of one week or month: totals, categories against their trailing 12-period
median, top merchants, flagged items with reasons and cited rows, and "what you could do".

`build_spending_report` reads the database once (the period plus ~13 months of history) and
computes everything in Python; the result is a JSON-able dict that the renderers (Markdown, HTML
with charts) and the API share. No LLM is needed; an optional narrative is added by `narrative.py`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from app.core.models import Account, Document, Statement, Transaction
from app.money.detectors import (
    DetTx,
    Flag,
    covered_periods,
    detect,
    median,
    recurring_series,
    trailing,
)
from app.money.periods import Period

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

LOOKBACK_DAYS = 400
TOP_MERCHANTS = 10
MAX_FLAGS = 25


@dataclass(frozen=True, slots=True)
class _Row:
    tx: DetTx
    description: str | None
    account: str
    document_id: int | None
    path: str | None
    page: int | None
    line: int | None
    row: int | None
    status: str


def load_history(session: Session, start: date, end: date) -> list[_Row]:
    """Transactions from LOOKBACK_DAYS before `start` through `end`."""
    q = (
        select(Transaction.id, Transaction.booking_date, Transaction.amount, Transaction.currency,
               Transaction.merchant, Transaction.category, Transaction.counterparty,
               Transaction.description, Account.number_masked, Account.name,
               Account.institution, Transaction.document_id, Document.origin, Transaction.page,
               Transaction.line, Transaction.row, Transaction.status)
        .join(Account, Account.id == Transaction.account_id)
        .outerjoin(Document, Document.id == Transaction.document_id)
        .where(Transaction.booking_date.between(start - timedelta(days=LOOKBACK_DAYS), end))
        .order_by(Transaction.booking_date, Transaction.id)
    )
    out = []
    for r in session.execute(q).all():
        label = r.name or " ".join(p for p in (r.institution, r.number_masked) if p)
        out.append(_Row(DetTx(r.id, r.booking_date, r.amount, r.currency, r.merchant, r.category,
                              r.counterparty), r.description, label, r.document_id, r.origin,
                        r.page, r.line, r.row, r.status))
    return out


def _money(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.01")), "f")


def tx_json(r: _Row) -> dict[str, Any]:
    source: dict[str, Any] = {"document_id": r.document_id, "path": r.path}
    for key in ("page", "line", "row"):
        if getattr(r, key):
            source[key] = getattr(r, key)
    t = r.tx
    return {"id": t.id, "date": t.date.isoformat(), "amount": format(t.amount, "f"),
            "currency": t.currency, "counterparty": t.counterparty, "description": r.description,
            "category": t.category, "account": r.account, "status": r.status, "source": source}


def _totals(rows: list[_Row], start: date, end: date) -> list[dict[str, Any]]:
    acc: dict[str, dict[str, Any]] = defaultdict(lambda: {"spent": Decimal(0), "income":
                                                          Decimal(0), "count": 0})
    for r in rows:
        if start <= r.tx.date <= end:
            a = acc[r.tx.currency]
            a["count"] += 1
            if r.tx.amount < 0:
                a["spent"] += -r.tx.amount
            else:
                a["income"] += r.tx.amount
    return [{"currency": c, "spent": _money(v["spent"]), "income": _money(v["income"]),
             "net": _money(v["income"] - v["spent"]), "count": v["count"]}
            for c, v in sorted(acc.items(), key=lambda kv: -kv[1]["count"])]


def _categories(rows: list[_Row], start: date, end: date) -> list[dict[str, Any]]:
    """Spend per category against its usual: the median of the previous periods the data
    covers (None when there is no earlier period with data: nothing to compare with)."""
    hist = [r.tx for r in rows]
    baseline = bool(covered_periods(hist, start, end, 12))
    past = trailing(hist, start, end, key="category", count=12)
    now: dict[tuple[str, str], list[DetTx]] = defaultdict(list)
    for t in hist:
        if start <= t.date <= end and t.amount < 0:
            now[(t.category or "uncategorised", t.currency)].append(t)
    out: list[dict[str, Any]] = []
    for key in set(now) | {k for k, v in past.items() if any(v)}:
        txs = now.get(key, [])
        spent = sum((-t.amount for t in txs), Decimal(0))
        med = median(past[key]) if key in past else Decimal(0)
        out.append({
            "category": key[0], "currency": key[1], "spent": _money(spent),
            "trailing_median": _money(med) if baseline else None,
            "difference": _money(spent - med) if baseline else None,
            "ratio": round(float(spent / med), 2) if med else None, "count": len(txs),
            "transaction_ids": [t.id for t in sorted(txs, key=lambda t: t.amount)][:50],
        })
    out.sort(key=lambda c: (-Decimal(c["spent"]), -Decimal(c["trailing_median"] or 0),
                            c["category"]))
    return [c for c in out if Decimal(c["spent"]) or Decimal(c["trailing_median"] or 0)]


def _merchants(rows: list[_Row], start: date, end: date) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[DetTx]] = defaultdict(list)
    for r in rows:
        t = r.tx
        if start <= t.date <= end and t.amount < 0:
            groups[(t.merchant or t.counterparty or "unknown", t.currency)].append(t)
    out: list[dict[str, Any]] = []
    for (merchant, cur), txs in groups.items():
        spent = sum((-t.amount for t in txs), Decimal(0))
        out.append({"merchant": merchant, "label": txs[-1].counterparty or merchant,
                    "currency": cur, "spent": _money(spent), "count": len(txs),
                    "transaction_ids": [t.id for t in txs][:50]})
    out.sort(key=lambda m: (-Decimal(m["spent"]), m["merchant"]))
    return out[:TOP_MERCHANTS]


def _trend(rows: list[_Row], start: date, end: date, periods: int = 12) -> list[dict[str, Any]]:
    """Spend of this and the previous `periods` periods the data covers, main currency only."""
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        counts[r.tx.currency] += 1
    if not counts:
        return []
    cur = max(counts, key=lambda c: counts[c])
    covered = covered_periods([r.tx for r in rows], start, end, periods)
    windows = [*reversed(covered), (start, end)]
    out = []
    for ws, we in windows:
        spent = sum((-r.tx.amount for r in rows if r.tx.currency == cur and r.tx.amount < 0
                     and ws <= r.tx.date <= we), Decimal(0))
        out.append({"start": ws.isoformat(), "end": we.isoformat(), "currency": cur,
                    "spent": _money(spent)})
    return out


def suggestions(flags: list[Flag], rows: list[_Row], end: date) -> list[dict[str, Any]]:
    """'What you could do', each built from cited facts only."""
    out: list[dict[str, Any]] = []
    for f in flags:
        if f.kind == "recurring_changed" and Decimal(f.facts["after"]) > Decimal(f.facts["before"]):
            out.append({"text": f"Check whether {f.facts['label']} is still worth "
                                f"{f.facts['after']} {f.currency} ({f.facts['cadence']}) after its "
                                "price rise, or switch to a cheaper plan.",
                        "transaction_ids": list(f.tx_ids), "kind": f.kind})
        elif f.kind == "double_charge":
            out.append({"text": f"Ask {f.facts['label']} to refund the duplicate charge if you were "
                                "charged twice.", "transaction_ids": list(f.tx_ids),
                        "kind": f.kind})
    series = recurring_series([r.tx for r in rows], until=end)
    active = [s for s in series if (end - s.txs[-1].date).days <= s.interval_days + 10]
    subs = [s for s in active if s.txs[-1].category == "subscriptions"]
    if len(subs) >= 2:
        total = sum((s.txs[-1].spend for s in subs if s.interval_days == 30), Decimal(0))
        names = ", ".join(s.label for s in subs)
        out.append({"text": f"You pay {len(subs)} subscriptions ({names}); monthly ones add up "
                            f"to {_money(total)} {subs[0].currency}. Do they overlap?",
                    "transaction_ids": [s.txs[-1].id for s in subs], "kind": "subscriptions"})
    fees = [s for s in active if s.txs[-1].category == "fees"]
    for s in fees:
        out.append({"text": f"{s.label} charges a recurring fee of {_money(s.txs[-1].spend)} "
                            f"{s.currency} ({s.cadence}); a cheaper account may avoid it.",
                    "transaction_ids": [t.id for t in s.txs[-3:]], "kind": "fees"})
    return out


def _balance_problems(session: Session, start: date, end: date) -> list[dict[str, Any]]:
    q = (select(Statement, Document.origin).join(Document, Document.id == Statement.document_id)
         .where(Statement.balance_status == "mismatch", Statement.period_end >= start,
                Statement.period_start <= end))
    return [{"statement_id": s.id, "path": origin, "document_id": s.document_id,
             "period": f"{s.period_start} to {s.period_end}",
             "difference": format(s.balance_difference, "f") if s.balance_difference is not None
             else None, "message": s.meta.get("balance_message")}
            for s, origin in session.execute(q).all()]


def _contract_deadlines(session: Session, today: date, days: int = 60) -> list[dict[str, Any]]:
    """Contract deadlines (last day to cancel, contract ends) in the next `days` days."""
    try:
        from app.contracts.deadlines import upcoming_deadlines
    except ImportError:  # the contracts module is optional
        return []
    return [d.to_json() for d in upcoming_deadlines(session, today, days)]


def summary_lines(content: dict[str, Any]) -> list[str]:
    """The deterministic summary: one line per fact, flags cited as [F1], [F2] ..."""
    lines = []
    if not content["totals"]:
        cover = content.get("coverage") or {}
        where = (f" (your statements cover {cover['first']} to {cover['last']})"
                 if cover.get("first") else " (no statements are imported yet)")
        lines = [f"No data for this period: no transactions from {content['start']} to "
                 f"{content['end']}{where}."]
        return lines + _deadline_lines(content)
    for t in content["totals"]:
        lines.append(f"Spent {t['spent']} {t['currency']} in {t['count']} transactions "
                     f"(income {t['income']} {t['currency']}).")
    above = [c for c in content["categories"] if c["ratio"] and c["ratio"] >= 1.5
             and Decimal(c["difference"] or 0) >= 20]
    for c in above[:3]:
        lines.append(f"{c['category'].capitalize()}: {c['spent']} {c['currency']}, "
                     f"{c['ratio']}x the usual {c['trailing_median']}.")
    for i, f in enumerate(content["flags"][:5], start=1):
        lines.append(f"{f['reason']} [F{i}]")
    if not content["flags"]:
        lines.append("Nothing unusual was found.")
    return lines + _deadline_lines(content)


def _deadline_lines(content: dict[str, Any]) -> list[str]:
    """Contract deadlines matter whether or not the period has transactions."""
    lines = []
    for d in content.get("deadlines", [])[:3]:
        what = "Last day to cancel" if d["kind"] == "cancel_by" else "Contract ends"
        lines.append(f"{what} {d['title']}: {d['date']} (in {d['days_left']} days).")
    return lines


def build_spending_report(session: Session, period: Period, *, kind: str,
                          now: datetime | None = None) -> dict[str, Any]:
    """The report content (JSON-able). `kind` is "week" or "month"."""
    rows = load_history(session, period.start, period.end)
    by_id = {r.tx.id: r for r in rows}
    first, last = session.execute(select(func.min(Transaction.booking_date),
                                         func.max(Transaction.booking_date))).one()
    flags = detect([r.tx for r in rows], period.start, period.end)[:MAX_FLAGS]
    todo = suggestions(flags, rows, period.end)
    content: dict[str, Any] = {
        "kind": f"spending-{kind}",
        "period": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "generated_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        # Which days have statements at all: a period outside them has no data (not zero).
        "coverage": {"first": first.isoformat() if first else None,
                     "last": last.isoformat() if last else None},
        "baseline_periods": len(covered_periods([r.tx for r in rows], period.start,
                                                period.end, 12)),
        "totals": _totals(rows, period.start, period.end),
        "categories": _categories(rows, period.start, period.end),
        "merchants": _merchants(rows, period.start, period.end),
        "trend": _trend(rows, period.start, period.end),
        "flags": [f.to_json() for f in flags],
        "suggestions": todo,
        "balance_problems": _balance_problems(session, period.start, period.end),
        "deadlines": _contract_deadlines(session, (now or datetime.now(UTC)).date()),
        "narrative": None,
    }
    cited: set[int] = set()
    for f in flags:
        cited.update(f.tx_ids)
    for s in todo:
        cited.update(s["transaction_ids"])
    for m in content["merchants"]:
        cited.update(m["transaction_ids"][:5])
    content["transactions"] = {str(i): tx_json(by_id[i]) for i in sorted(cited) if i in by_id}
    content["summary"] = summary_lines(content)
    return content
