"""Money questions executed in code: a `MoneyQuery` becomes fact lines, each with the ids of the
transactions behind it. `ask.py` numbers them into a cited answer; `tools.py` gives them to the LLM.
Every figure here is computed by PostgreSQL or Python, never by a language model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from app.answer.types import Citable
from app.core.models import Transaction
from app.money.detectors import detect, price_runs, recurring_series
from app.money.nlq import MoneyQuery, Subject
from app.money.periods import Period
from app.money.queries import (
    TxFilter,
    TxRow,
    count_transactions,
    get_transactions,
    group_transactions,
    list_transactions,
    sum_transactions,
)
from app.money.vocabulary import alternatives

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

LIST_LIMIT = 20
TOP_GROUPS = 5
CITE_PER_LINE = 25
ROWS_UNDER_TOTAL = 5  # a total over this few transactions lists them too
_PRICE_WORDS = re.compile(r"\b(expensive|price|prices|rose|risen|increase\w*|cheaper|changed|"
                          r"teurer|preis\w*|erhöht|gestiegen|billiger|geändert)\b", re.IGNORECASE)


@dataclass
class Fact:
    text: str
    ids: list[int] = field(default_factory=list)


@dataclass
class MoneyAnswer:
    """Fact lines (each citing transaction ids), the rows they cite, and JSON data."""

    lines: list[Fact]
    rows: dict[int, TxRow]
    data: dict[str, Any]

    def cited_ids(self) -> list[int]:
        seen: dict[int, None] = {}
        for fact in self.lines:
            for i in fact.ids:
                if i in self.rows:
                    seen.setdefault(i)
        return list(seen)


def fmt(value: Decimal, currency: str) -> str:
    return f"{value:,.2f} {currency}"


def tx_citable(row: TxRow) -> Citable:
    """A transaction as something an answer can cite (its statement file and row/line)."""
    who = " — ".join(p for p in (row.counterparty, row.description) if p)
    text = f"{row.date} {row.amount:+} {row.currency} {who} (account {row.account})"
    location: dict[str, Any] = {"transaction_id": row.id}
    for key in ("row", "line"):
        if getattr(row, key):
            location[key] = getattr(row, key)
    return Citable(text=text, path=row.path or "", title=row.location() or None, page=row.page,
                   document_id=row.document_id, kind="transaction", location=location)


def known_vocabulary(session: Session) -> tuple[list[str], list[str]]:
    """Categories and merchant keys in the database (for the question parser)."""
    cats = [c for c in session.scalars(select(Transaction.category).distinct()) if c]
    merchants = [m for m in session.scalars(
        select(Transaction.merchant).where(Transaction.merchant.is_not(None))
        .group_by(Transaction.merchant).order_by(func.count().desc()).limit(5000)) if m]
    return cats, merchants


def _period_text(f: TxFilter) -> str:
    if f.date_from and f.date_to:
        return f"from {f.date_from} to {f.date_to}"
    if f.date_from:
        return f"since {f.date_from}"
    return "in all imported statements"


def _rows(session: Session, ids: list[int]) -> dict[int, TxRow]:
    return {r.id: r for r in get_transactions(session, ids)}


def run_sum(session: Session, f: TxFilter, *, count_only: bool = False) -> MoneyAnswer:
    totals = sum_transactions(session, f)
    lines: list[Fact] = []
    what = f.describe()
    if not totals:
        return MoneyAnswer([Fact(f"No transactions match ({what}).")], {}, {"totals": []})
    if f.direction is None and not count_only:
        # "Wie hoch ist die Nachzahlung?" names no direction: rows all one way read as such.
        for way in ("out", "in"):
            if not count_transactions(session, replace(f, direction="in" if way == "out"
                                                       else "out")):
                f = replace(f, direction=way)  # type: ignore[arg-type]
                break
    if len(totals) > 1:
        lines.append(Fact(f"These transactions are in {len(totals)} currencies; amounts in "
                          "different currencies are not added together."))
    few: list[int] = []
    for t in totals:
        ids = list(t.ids[:CITE_PER_LINE])
        n = f"{t.count} transaction{'' if t.count == 1 else 's'}"
        if count_only:
            text = f"{n} in {t.currency} ({what})"
        elif f.direction == "out":
            text = f"Spent {fmt(-t.total, t.currency)} in {n} ({what})"
        elif f.direction == "in":
            text = f"Received {fmt(t.total, t.currency)} in {n} ({what})"
        else:
            text = f"Net {fmt(t.total, t.currency)} (money in minus money out) over {n} ({what})"
        if t.count > len(ids):
            text += f"; the first {len(ids)} are cited"
        lines.append(Fact(text + ".", ids))
        if t.count <= ROWS_UNDER_TOTAL:
            few += ids
    rows = _rows(session, [i for fact in lines for i in fact.ids])
    if few and sum(t.count for t in totals) <= ROWS_UNDER_TOTAL:
        for i in sorted(few, key=lambda i: (rows[i].date, i)):
            lines.append(Fact(row_line(rows[i]), [i]))
    return MoneyAnswer(lines, rows, {"totals": [t.to_json() for t in totals], "filter": what})


def row_line(r: TxRow) -> str:
    """One transaction as a fact line: date, signed amount, payee — text."""
    who = " — ".join(p for p in (r.counterparty, r.description) if p) or "?"
    return f"{r.date} {fmt(r.amount, r.currency)} {who}"


def run_list(session: Session, f: TxFilter, *, limit: int = LIST_LIMIT) -> MoneyAnswer:
    rows = list_transactions(session, f, limit=limit)
    total = count_transactions(session, f) if len(rows) == limit else len(rows)
    if not rows:
        return MoneyAnswer([Fact(f"No transactions match ({f.describe()}).")], {},
                           {"transactions": []})
    lines = [Fact(f"{total} transaction{'' if total == 1 else 's'} match"
                  f"{'es' if total == 1 else ''} ({f.describe()})"
                  + (f"; the {len(rows)} most recent:" if total > len(rows) else ":"))]
    for r in rows:
        lines.append(Fact(row_line(r), [r.id]))
    return MoneyAnswer(lines, {r.id: r for r in rows},
                       {"count": total, "transactions": [r.to_json() for r in rows]})


def run_top(session: Session, f: TxFilter, *, by: str) -> MoneyAnswer:
    groups = group_transactions(session, f, by=by, limit=TOP_GROUPS * 3)
    if not groups:
        return MoneyAnswer([Fact(f"No transactions match ({f.describe()}).")], {}, {"groups": []})
    lines = [Fact(f"Top {(by == 'category' and 'categories') or 'payees'} ({f.describe()}):")]
    for g in groups[:TOP_GROUPS]:
        amount = -g.total if f.direction == "out" else g.total
        lines.append(Fact(f"{g.key}: {fmt(amount, g.currency)} in {g.count} transactions",
                          list(g.ids[:10])))
    cited = [i for fact in lines for i in fact.ids]
    return MoneyAnswer(lines, _rows(session, cited),
                       {"groups": [g.to_json() for g in groups[:TOP_GROUPS]], "by": by})


def _history(session: Session, start: date, end: date) -> list[Any]:
    from app.money.report import load_history

    return load_history(session, start, end)


def run_unusual(session: Session, f: TxFilter, *, today: date) -> MoneyAnswer:
    start = f.date_from or today - timedelta(days=30)
    end = f.date_to or today
    hist = _history(session, start, end)
    flags = detect([h.tx for h in hist], start, end)
    if f.counterparty:
        flags = [x for x in flags if f.counterparty.lower() in (x.merchant or "")]
    if f.category:
        flags = [x for x in flags if x.category == f.category]
    if not flags:
        return MoneyAnswer([Fact(f"Nothing unusual found from {start} to {end} "
                                 f"({len([h for h in hist if start <= h.tx.date <= end])} "
                                 "transactions checked).")], {}, {"flags": []})
    lines = [Fact(f"{len(flags)} unusual item(s) from {start} to {end}:")]
    lines += [Fact(x.reason, list(x.tx_ids)) for x in flags[:15]]
    cited = [i for fact in lines for i in fact.ids]
    return MoneyAnswer(lines, _rows(session, cited), {"flags": [x.to_json() for x in flags]})


def run_recurring(session: Session, f: TxFilter, *, today: date, question: str = "") -> MoneyAnswer:
    start = f.date_from or today - timedelta(days=365)
    end = f.date_to or today
    hist = _history(session, start, end)
    series = recurring_series([h.tx for h in hist], until=end)
    changes = []
    for s in series:
        runs = price_runs(s.txs)
        if len(runs) >= 2 and start <= runs[-1][0].date <= end:
            old, new = runs[-2][-1], runs[-1][0]
            pct = (new.spend - old.spend) / old.spend * 100
            verb = "rose" if new.spend > old.spend else "fell"
            changes.append(Fact(f"{s.label} ({s.cadence}) {verb} from {fmt(old.spend, s.currency)}"
                                f" to {fmt(new.spend, s.currency)} ({pct:+.0f}%) on {new.date}",
                                [old.id, new.id]))
    lines: list[Fact] = []
    if _PRICE_WORDS.search(question):
        if changes:
            lines.append(Fact(f"Recurring charges whose price changed from {start} to {end}:"))
            lines += changes
        else:
            lines.append(Fact(f"None of your {len(series)} recurring charges changed price "
                              f"from {start} to {end}."))
    else:
        lines.append(Fact(f"{len(series)} recurring charges found:"))
        for s in series:
            last = s.txs[-1]
            lines.append(Fact(f"{s.label}: {fmt(last.spend, s.currency)} {s.cadence}, last on "
                              f"{last.date}", [last.id]))
        lines += changes
    cited = [i for fact in lines for i in fact.ids]
    return MoneyAnswer(lines, _rows(session, cited),
                       {"recurring": [{"merchant": s.merchant, "label": s.label,
                                       "cadence": s.cadence, "currency": s.currency,
                                       "amount": format(s.txs[-1].spend, "f"),
                                       "last_date": str(s.txs[-1].date)} for s in series],
                        "price_changes": [c.text for c in changes]})


def execute(session: Session, mq: MoneyQuery, *, today: date, question: str = "") -> MoneyAnswer:
    """Run a parsed money question."""
    f = mq.filter
    if mq.intent == "unusual":
        return run_unusual(session, f, today=today)
    if mq.intent == "recurring":
        return run_recurring(session, f, today=today, question=question)
    if mq.intent == "top":
        return run_top(session, f, by=mq.group_by or "merchant")
    if mq.intent in ("sum", "count"):
        return run_sum(session, f, count_only=mq.intent == "count")
    return run_list(session, replace(f), limit=mq.limit)


def period_filter(period: Period | None, f: TxFilter) -> TxFilter:
    if period is None:
        return f
    return replace(f, date_from=period.start, date_to=period.end)


# -- which reading of a question matches rows ----------------------------------------------------
@dataclass(frozen=True, slots=True)
class Reading:
    """The money query as run: the reading of the question's words that matched rows, or (when
    none did) the first reading, with `matched` False so the caller answers from documents."""

    query: MoneyQuery
    matched: bool
    ignored: tuple[str, ...] = ()  # question words no matching transaction mentions


def _subject_of(mq: MoneyQuery) -> Subject | None:
    """The question's subject; for a carried-over query (no subject), its payee text."""
    if mq.subject is not None:
        return mq.subject
    text = mq.filter.counterparty
    if not text:
        return None
    words = tuple(w for w in re.findall(r"[\w][\w'’&\-]*[\w]|\w", text) if len(w) > 1)
    return Subject(phrase=text, words=words, name=bool(words) and all(
        w[0].isupper() or w[0].isdigit() for w in words)) if words else None


def _readings(session: Session, mq: MoneyQuery) -> list[TxFilter]:
    """Filters to try, most literal first: the payee phrase as written (several words); every
    word (with its singular and translations); for plain words, only the words some transaction
    mentions; each with and then without the category the question named alongside."""
    f = mq.filter
    subject = _subject_of(mq)
    if subject is None:
        return [f]
    own = f.counterparty == subject.phrase  # else the payee is a known merchant, kept as is
    base = replace(f, counterparty=None) if own else f
    groups = tuple(alternatives(w) for w in subject.words)
    # One word: its alternatives include it ("bike" also finds "Fahrrad"); several: the phrase
    # as written first ("Joe's Bald Hairstyles").
    out = [replace(base, counterparty=subject.phrase)] if own and len(groups) != 1 else []
    if groups:
        out.append(replace(base, terms=groups))
        if not subject.name and len(groups) > 1:
            some = tuple(g for g in groups if count_transactions(session, replace(
                base, terms=(g,), category=None)))
            if some and len(some) < len(groups):
                out.append(replace(base, terms=some))
    if f.category:
        out += [replace(r, category=None) for r in out]
    return out


def resolve(session: Session, mq: MoneyQuery) -> Reading:
    """The reading of `mq` that matches transactions (see `_readings`)."""
    if mq.intent in ("unusual", "recurring"):
        return Reading(mq, matched=True)
    readings = _readings(session, mq)
    subject = _subject_of(mq)
    for f in readings:
        if count_transactions(session, f):
            ignored: tuple[str, ...] = ()
            if f.terms and subject is not None:
                ignored = tuple(w for w in subject.words if alternatives(w) not in f.terms)
            return Reading(replace(mq, filter=f), matched=True, ignored=ignored)
    return Reading(replace(mq, filter=readings[0]), matched=False)
