"""Money use cases: transactions (list, sum, top groups, one with its statement rows, unusual
spending), imported statements, and money questions answered from the transactions table.

Every entry point (`homerag tx ...`, /api/transactions..., /api/statements, the /reports pages)
calls these and prints their `to_json()`, so the CLI's `--json` and the API give the same shapes.
Filters arrive as the caller typed them (`TransactionFilterInput`: CLI options or query
parameters) and are read once (`app.money.filters`), with one-line errors naming the parameter. Categories and
rules: `app.services.money_rules`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInputError, NotFoundError
from app.money.filters import DIRECTIONS, GROUP_BYS, ORDERS, TransactionFilterInput
from app.services.contracts import local_today

if TYPE_CHECKING:  # the domain is imported where used: shells import this module cheaply
    from app.answer.types import AnswerResult
    from app.money.queries import Group, Total, TxFilter, TxRow
    from app.money.statements import StatementView
    from app.services.runtime import Runtime

# Re-exported for the shells (choices of their options and query parameters).
__all__ = ["DIRECTIONS", "GROUP_BYS", "ORDERS", "TransactionFilterInput"]

DEFAULT_LIST_LIMIT = 100
MAX_LIST_LIMIT = 10000
DEFAULT_TOP_BY = "merchant"
DEFAULT_TOP_LIMIT = 10
MAX_TOP_LIMIT = 1000


def resolve_filters(rt: Runtime, filters: TransactionFilterInput | None) -> TxFilter:
    """The typed filter, relative periods read against today in the owner's time zone."""
    return (filters or TransactionFilterInput()).resolve(today=local_today(rt))


def _check(name: str, value: Any, allowed: tuple[Any, ...]) -> None:
    if value not in allowed:
        raise InvalidInputError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")


def _check_limit(limit: int, most: int) -> None:
    if not 1 <= limit <= most:
        raise InvalidInputError(f"limit must be between 1 and {most}, not {limit}")


@dataclass(frozen=True, slots=True)
class TransactionPage:
    """One page of matching transactions and how many match in all."""

    filter: TxFilter
    count: int
    rows: list[TxRow]

    def to_json(self) -> dict[str, Any]:
        return {"filter": self.filter.describe(), "count": self.count,
                "transactions": [r.to_json() for r in self.rows]}


def list_transactions(rt: Runtime, filters: TransactionFilterInput | None = None, *,
                      limit: int = DEFAULT_LIST_LIMIT, offset: int = 0,
                      order: str = "-date") -> TransactionPage:
    """Matching transactions (newest first by default), each citing its statement row."""
    from app.money import queries

    _check("order", order, ORDERS)
    _check_limit(limit, MAX_LIST_LIMIT)
    if offset < 0:
        raise InvalidInputError(f"offset must not be negative, not {offset}")
    f = resolve_filters(rt, filters)
    with rt.db.session() as s:
        rows = queries.list_transactions(s, f, limit=limit, offset=offset, order=order)
        count = queries.count_transactions(s, f)
    return TransactionPage(f, count, rows)


@dataclass(frozen=True, slots=True)
class Totals:
    """Sums per currency (never added across currencies)."""

    filter: TxFilter
    totals: list[Total]

    def to_json(self) -> dict[str, Any]:
        return {"filter": self.filter.describe(), "totals": [t.to_json() for t in self.totals]}


def sum_transactions(rt: Runtime, filters: TransactionFilterInput | None = None) -> Totals:
    """Signed totals of the matching transactions per currency (spending is negative)."""
    from app.money import queries

    f = resolve_filters(rt, filters)
    with rt.db.session() as s:
        return Totals(f, queries.sum_transactions(s, f))


@dataclass(frozen=True, slots=True)
class Groups:
    filter: TxFilter
    by: str
    groups: list[Group]

    def to_json(self) -> dict[str, Any]:
        return {"filter": self.filter.describe(), "by": self.by,
                "groups": [g.to_json() for g in self.groups]}


def top_transactions(rt: Runtime, filters: TransactionFilterInput | None = None, *,
                     by: str = DEFAULT_TOP_BY, limit: int = DEFAULT_TOP_LIMIT) -> Groups:
    """The largest groups (by merchant, category, month ...): spending unless the filter asks
    for a direction, largest first."""
    from app.money import queries

    _check("by", by, GROUP_BYS)
    _check_limit(limit, MAX_TOP_LIMIT)
    f = resolve_filters(rt, filters)
    if f.direction is None:
        f = replace(f, direction="out")
    with rt.db.session() as s:
        return Groups(f, by, queries.group_transactions(s, f, by=by, limit=limit))


def get_transaction(rt: Runtime, transaction_id: int) -> dict[str, Any]:
    """One transaction and every statement row that lists it ("occurrences")."""
    from app.money.queries import get_transactions
    from app.money.statements import occurrences

    with rt.db.session() as s:
        rows = get_transactions(s, [transaction_id])
        if not rows:
            raise NotFoundError(f"transaction {transaction_id} does not exist")
        return {**rows[0].to_json(), "occurrences": occurrences(s, transaction_id)}


def unusual_spending(rt: Runtime, filters: TransactionFilterInput | None = None,
                     ) -> dict[str, Any]:
    """Unusual spending in the period (default: the last 30 days), each line citing its rows."""
    from app.money.facts import run_unusual

    today = local_today(rt)
    f = replace((filters or TransactionFilterInput()).resolve(today=today), direction="out")
    with rt.db.session() as s:
        answer = run_unusual(s, f, today=today)
    return {"lines": [{"text": x.text, "transaction_ids": x.ids} for x in answer.lines],
            **answer.data,
            "transactions": {str(i): r.to_json() for i, r in answer.rows.items()}}


def list_statements(rt: Runtime, *, problems: bool = False) -> list[StatementView]:
    """Imported statements with their balance check, latest first; `problems`: only those
    whose opening balance plus transactions does not give the closing balance."""
    from app.money.statements import list_statements as stored

    with rt.db.session() as s:
        return stored(s, problems=problems)


def answer_money_question(rt: Runtime, question: str, *,
                          today: date | None = None) -> AnswerResult | None:
    """A cited answer computed from the transactions; None when it is not a money question."""
    from app.money.ask import answer_money_question as answer

    with rt.db.session() as s:
        return answer(question, s, today=today or local_today(rt))
