"""Use case: the transactions table of the web. One page of matching transactions with totals
per currency (spent, received, net; never added across currencies), the choices of its filters
(categories, accounts, currencies), and the CSV export of everything that matches (streamed a
page at a time). Filters are the same `TransactionFilterInput` as the CLI and the API.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.core.models import Account, Transaction
from app.services.money import TransactionFilterInput, list_transactions, resolve_filters

if TYPE_CHECKING:
    from app.money.queries import TxRow
    from app.services.runtime import Runtime

EXPORT_PAGE = 1000
CSV_COLUMNS = ("id", "date", "value_date", "amount", "currency", "payee", "description",
               "category", "category_rule", "status", "account", "document_id", "path", "page",
               "line", "row")


def statement_url(row: TxRow) -> str | None:
    """Where the row's statement line is shown: /documents/{id}?row=N (or ?page=P&line=L)."""
    if row.document_id is None:
        return None
    if row.row:
        return f"/documents/{row.document_id}?row={row.row}"
    if row.line:
        page = f"page={row.page}&" if row.page else ""
        return f"/documents/{row.document_id}?{page}line={row.line}"
    return f"/documents/{row.document_id}"


@dataclass(frozen=True, slots=True)
class TableTotals:
    currency: str
    spent: str
    received: str
    net: str
    count: int

    def to_json(self) -> dict[str, Any]:
        return {"currency": self.currency, "spent": self.spent, "received": self.received,
                "net": self.net, "count": self.count}


def table_totals(rt: Runtime, filters: TransactionFilterInput | None) -> list[TableTotals]:
    """Per currency: spent, received, net and count of everything matching."""
    from decimal import Decimal

    from app.money import queries

    f = resolve_filters(rt, filters)
    with rt.db.session() as s:
        net = queries.sum_transactions(s, f)
        spent = {t.currency: t.total for t in queries.sum_transactions(
            s, replace(f, direction="out"))} if f.direction != "in" else {}
        received = {t.currency: t.total for t in queries.sum_transactions(
            s, replace(f, direction="in"))} if f.direction != "out" else {}
    return [TableTotals(t.currency, _money(-spent.get(t.currency, Decimal(0))),
                        _money(received.get(t.currency, Decimal(0))), _money(t.total), t.count)
            for t in net]


def _money(value: Any) -> str:
    from decimal import Decimal

    return format(Decimal(value or 0).quantize(Decimal("0.01")), "f")


def filter_choices(rt: Runtime) -> dict[str, list[Any]]:
    """Categories in use (and those the rules can set), accounts and currencies."""
    from app.services.money_rules import category_rules

    with rt.db.session() as s:
        used = set(s.scalars(select(Transaction.category).distinct()
                             .where(Transaction.category.is_not(None))))
        accounts = [{"id": a.id, "label": a.name or " ".join(
            p for p in (a.institution, a.number_masked) if p) or f"account {a.id}"}
            for a in s.scalars(select(Account).order_by(Account.id))]
        currencies = sorted(s.scalars(select(Transaction.currency).distinct()))
    ruled = {r["category"] for r in category_rules(rt)}
    return {"categories": sorted(used | ruled), "accounts": accounts, "currencies": currencies}


def table_row(row: TxRow) -> dict[str, Any]:
    """A row as the table shows it: the JSON shape plus the statement link and rule label."""
    return {**row.to_json(), "merchant": row.merchant, "statement_url": statement_url(row),
            "location": row.location(), "suggested_category": row.suggested_category}


def export_csv(rt: Runtime, filters: TransactionFilterInput | None = None, *,
               order: str = "-date") -> Iterator[str]:
    """Every matching transaction as CSV, produced a page at a time (a header line first).
    Amounts as exact decimals with a dot; dates ISO."""
    f = filters or TransactionFilterInput()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield buf.getvalue()
    offset = 0
    while True:
        page = list_transactions(rt, f, limit=EXPORT_PAGE, offset=offset, order=order)
        if not page.rows:
            return
        with rt.db.session() as s:  # which rule set each category (explains the category)
            rules = dict(s.execute(select(Transaction.id, Transaction.category_rule)
                                   .where(Transaction.id.in_([r.id for r in page.rows]))).all())
        buf.seek(0)
        buf.truncate()
        for r in page.rows:
            writer.writerow([r.id, r.date.isoformat(),
                             r.value_date.isoformat() if r.value_date else "",
                             format(r.amount, "f"), r.currency, _cell(r.counterparty),
                             _cell(r.description), r.category or "", rules.get(r.id) or "",
                             r.status, _cell(r.account), r.document_id or "", r.path or "",
                             r.page or "", r.line or "", r.row or ""])
        yield buf.getvalue()
        offset += len(page.rows)
        if len(page.rows) < EXPORT_PAGE:
            return


def _cell(value: str | None) -> str:
    """A text cell that a spreadsheet will not run as a formula (CSV injection)."""
    text = value or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
