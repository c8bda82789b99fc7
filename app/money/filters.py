"""Transaction filters as people and programs type them (CLI options, query parameters, an
LLM's tool arguments), read once into a `TxFilter`: dates, amounts ("12,50"), periods ("last
month", "2026-03", "2026-W12", "letzte Woche"), payee, category, account, currency, direction.
A bad value is an InvalidInputError naming the parameter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from app.core.errors import InvalidInputError

if TYPE_CHECKING:  # imported where used: the shells import this module when they start
    from app.money.periods import Period
    from app.money.queries import TxFilter

DIRECTIONS = ("in", "out")
ORDERS = ("-date", "date", "amount", "-amount")
GROUP_BYS = ("merchant", "category", "month", "week", "account", "currency")


@dataclass(frozen=True, slots=True)
class TransactionFilterInput:
    """Transaction filters as typed by the caller (CLI options, query parameters); blank means
    no restriction. `resolve` reads them; a bad value is an InvalidInputError naming it.

    date_from / date_to: YYYY-MM-DD, inclusive ("from" / "to"). period: "2026-03", "2026-W12",
    "last month", "letzte Woche" ... (wins over from/to). account: part of the account number,
    name or bank. payee: text in payee, description or merchant. category: a category or
    "uncategorised". min_amount / max_amount: on the absolute amount ("min" / "max"; "12,50"
    is read as 12.50); amount: exactly this absolute amount (wins over min/max). currency: ISO
    code. direction: "out" (spent) or "in" (received).
    """

    date_from: str | None = None
    date_to: str | None = None
    period: str | None = None
    account: str | None = None
    payee: str | None = None
    category: str | None = None
    min_amount: str | None = None
    max_amount: str | None = None
    currency: str | None = None
    direction: str | None = None
    amount: str | None = None

    def resolve(self, *, today: date) -> TxFilter:
        from app.money.queries import TxFilter

        start, end = _date("from", self.date_from), _date("to", self.date_to)
        if _text(self.period):
            found = read_period(str(self.period), today)
            start, end = found.start, found.end
        direction = _text(self.direction)
        if direction is not None and direction not in DIRECTIONS:
            raise InvalidInputError(f"direction must be 'in' or 'out', not {direction!r}")
        exact = _decimal("amount", self.amount)
        return TxFilter(date_from=start, date_to=end, account=_text(self.account),
                        counterparty=_text(self.payee), category=_text(self.category),
                        min_amount=exact if exact is not None else _decimal("min", self.min_amount),
                        max_amount=exact if exact is not None else _decimal("max", self.max_amount),
                        currency=(_text(self.currency) or "").upper() or None,
                        direction=direction)  # type: ignore[arg-type]


def _text(value: str | None) -> str | None:
    return (value.strip() or None) if value is not None else None


def _decimal(name: str, value: str | None) -> Decimal | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return abs(Decimal(text.replace(",", ".")))
    except InvalidOperation as exc:
        raise InvalidInputError(f"{name}: {value!r} is not a number") from exc


def _date(name: str, value: str | None) -> date | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInputError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from exc


def read_period(text: str, today: date) -> Period:
    """An ISO week, a month or a phrase ("last month") as a period."""
    from app.money.periods import find_period, parse_month, parse_week

    text = text.strip()
    if "-W" in text.upper():
        return parse_week(text)
    if len(text) == 7 and text[4] == "-":
        return parse_month(text)
    found, _ = find_period(text, today)
    if found is None:
        raise InvalidInputError(f"period: cannot read {text!r} (try 2026-03, 2026-W12 or "
                                "'last month')")
    return found
