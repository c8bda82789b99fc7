"""Typed queries over transactions: list, count, sum and group-by with filters, in SQL.

Amounts are summed by PostgreSQL `numeric` and returned as Decimal, always per currency: two
currencies are never added together. Every result carries the ids of the transactions behind
it, so a figure can cite its statement rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Select, Text, and_, func, literal, or_, select

from app.core.errors import InvalidInputError
from app.core.models import Account, Document, Transaction
from app.money.filters import GROUP_BYS, ORDERS

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

Direction = Literal["in", "out"]
GroupBy = Literal["category", "merchant", "month", "week", "account", "currency"]
CITE_LIMIT = 200  # ids carried by one aggregate; beyond that the citation says "and N more"


@dataclass(frozen=True, slots=True)
class TxFilter:
    """Restrict transactions. None / empty means no restriction.

    Attributes:
        date_from / date_to: booking date, both inclusive.
        account: substring of the account's masked number, name or institution; or its id.
        counterparty: case-insensitive text in payee, description or merchant.
        category: exact category (case-insensitive); "uncategorised" matches none.
        min_amount / max_amount: on the size of the amount (absolute value).
        currency: ISO code.
        direction: "out" (money spent, negative) or "in".
        ids: only these transactions.
        terms: words a question names the money by; every group must match payee, description
            or merchant, a group by any of its alternatives ("back-payment", "nachzahlung").
            Words of 5+ characters match anywhere, shorter ones only at the start of a word.
    """

    date_from: date | None = None
    date_to: date | None = None
    account: str | None = None
    counterparty: str | None = None
    category: str | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    currency: str | None = None
    direction: Direction | None = None
    include_pending: bool = True
    ids: tuple[int, ...] = ()
    terms: tuple[tuple[str, ...], ...] = ()

    def describe(self) -> str:
        """A short human phrase of the filter (used in answers)."""
        parts = []
        if self.direction:
            parts.append("spending" if self.direction == "out" else "income")
        if self.counterparty:
            parts.append(f"matching '{self.counterparty}'")
        for group in self.terms:
            parts.append(f"mentioning '{group[0]}'" + (
                f" (or {', '.join(repr(a) for a in group[1:4])})" if len(group) > 1 else ""))
        if self.category:
            parts.append(f"in category {self.category}")
        if self.date_from or self.date_to:
            parts.append(f"from {self.date_from or 'the start'} to {self.date_to or 'today'}")
        if self.min_amount is not None and self.min_amount == self.max_amount:
            parts.append(f"of exactly {self.min_amount}")
        else:
            if self.min_amount is not None:
                parts.append(f"of at least {self.min_amount}")
            if self.max_amount is not None:
                parts.append(f"of at most {self.max_amount}")
        if self.currency:
            parts.append(f"in {self.currency}")
        if self.account:
            parts.append(f"on account {self.account}")
        return " ".join(parts) or "all transactions"


_Date = date  # TxRow has a field named "date"; annotations inside it use this alias


@dataclass(frozen=True, slots=True)
class TxRow:
    """One transaction with its account label and the place it cites."""

    id: int
    date: _Date
    value_date: _Date | None
    amount: Decimal
    currency: str
    counterparty: str | None
    description: str | None
    merchant: str | None
    category: str | None
    suggested_category: str | None
    status: str
    account_id: int
    account: str
    document_id: int | None
    path: str | None
    page: int | None
    line: int | None
    row: int | None

    def location(self) -> str:
        if self.row:
            loc = f"row {self.row}"
        elif self.line:
            loc = f"line {self.line}"
        else:
            loc = ""
        if self.page:
            loc = f"page {self.page}" + (f", {loc}" if loc else "")
        return loc

    def to_json(self) -> dict[str, Any]:
        source: dict[str, Any] = {"document_id": self.document_id, "path": self.path}
        for key in ("page", "line", "row"):
            if getattr(self, key):
                source[key] = getattr(self, key)
        return {
            "id": self.id,
            "date": self.date.isoformat(),
            "value_date": self.value_date.isoformat() if self.value_date else None,
            "amount": format(self.amount, "f"),
            "currency": self.currency,
            "counterparty": self.counterparty,
            "description": self.description,
            "category": self.category,
            "status": self.status,
            "account": self.account,
            "account_id": self.account_id,
            "source": source,
        }


@dataclass(frozen=True, slots=True)
class Total:
    """A sum in one currency, with the transactions behind it."""

    currency: str
    total: Decimal
    count: int
    ids: tuple[int, ...] = ()  # at most CITE_LIMIT

    def to_json(self) -> dict[str, Any]:
        return {"currency": self.currency, "total": format(self.total, "f"),
                "count": self.count, "transaction_ids": list(self.ids)}


@dataclass(frozen=True, slots=True)
class Group:
    key: str
    currency: str
    total: Decimal
    count: int
    ids: tuple[int, ...] = field(default=())
    label: str | None = None  # merchants: the payee as the statements write it most often

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label or self.key, "currency": self.currency,
                "total": format(self.total, "f"), "count": self.count,
                "transaction_ids": list(self.ids)}


def account_label() -> Any:
    return func.coalesce(Account.name, func.concat_ws(" ", Account.institution,
                                                      Account.number_masked))


def _where(f: TxFilter) -> list[Any]:
    conds: list[Any] = []
    if f.date_from:
        conds.append(Transaction.booking_date >= f.date_from)
    if f.date_to:
        conds.append(Transaction.booking_date <= f.date_to)
    if f.direction == "out":
        conds.append(Transaction.amount < 0)
    elif f.direction == "in":
        conds.append(Transaction.amount > 0)
    if f.min_amount is not None:
        conds.append(func.abs(Transaction.amount) >= f.min_amount)
    if f.max_amount is not None:
        conds.append(func.abs(Transaction.amount) <= f.max_amount)
    if f.currency:
        conds.append(Transaction.currency == f.currency.upper())
    if f.category:
        if f.category.lower() in ("uncategorised", "uncategorized", "none"):
            conds.append(Transaction.category.is_(None))
        else:
            conds.append(func.lower(Transaction.category) == f.category.lower())
    if f.counterparty:
        like = f"%{_escape_like(f.counterparty)}%"
        conds.append(or_(Transaction.counterparty.ilike(like, escape="\\"),
                         Transaction.description.ilike(like, escape="\\"),
                         Transaction.merchant.ilike(like, escape="\\")))
    for group in f.terms:
        patterns = [term_pattern(t) for t in group if t.strip()]
        conds.append(or_(*(col.op("~*")(p) for p in patterns for col in (
            Transaction.counterparty, Transaction.description, Transaction.merchant))))
    if f.account:
        like = f"%{_escape_like(f.account)}%"
        named = Transaction.account_id.in_(select(Account.id).where(or_(
            Account.number_masked.ilike(like, escape="\\"),
            Account.name.ilike(like, escape="\\"),
            Account.institution.ilike(like, escape="\\"))))
        # A short number is an account id or the last digits of the number ("4455").
        conds.append(or_(Transaction.account_id == int(f.account), named)
                     if f.account.isdigit() and len(f.account) < 6 else named)
    if not f.include_pending:
        conds.append(Transaction.status == "booked")
    if f.ids:
        conds.append(Transaction.id.in_(f.ids))
    return conds


def term_pattern(term: str) -> str:
    """A PostgreSQL regular expression for one question word: anywhere for 5+ characters,
    at the start of a word for shorter ones ("tv" must not match "stv"); spaces and hyphens
    are interchangeable ("back-payment" finds "back payment")."""
    parts = [re.sub(r"([^\w\s])", r"\\\1", p) for p in re.split(r"[\s\-]+", term.strip())]
    body = r"[-\s]*".join(p for p in parts if p)
    return body if len(term.strip()) >= 5 else r"\m" + body


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _rows_query(f: TxFilter) -> Select[Any]:
    return (
        select(Transaction, account_label().label("account_label"), Document.origin)
        .join(Account, Account.id == Transaction.account_id)
        .outerjoin(Document, Document.id == Transaction.document_id)
        .where(and_(True, *_where(f)))
    )


def _row(tx: Transaction, label: str, origin: str | None) -> TxRow:
    return TxRow(
        id=tx.id, date=tx.booking_date, value_date=tx.value_date, amount=tx.amount,
        currency=tx.currency, counterparty=tx.counterparty, description=tx.description,
        merchant=tx.merchant, category=tx.category, suggested_category=tx.suggested_category,
        status=tx.status, account_id=tx.account_id, account=label, document_id=tx.document_id,
        path=origin, page=tx.page, line=tx.line, row=tx.row,
    )


def list_transactions(session: Session, f: TxFilter, *, limit: int = 100, offset: int = 0,
                      order: str = "-date") -> list[TxRow]:
    """Transactions matching `f`, newest first by default."""
    if order not in ORDERS:
        raise InvalidInputError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")
    col = Transaction.booking_date if order.endswith("date") else Transaction.amount
    ordering = [col.desc() if order.startswith("-") else col.asc(), Transaction.id]
    q = _rows_query(f).order_by(*ordering).limit(max(1, min(limit, 10000))).offset(max(0, offset))
    return [_row(tx, label, origin) for tx, label, origin in session.execute(q).all()]


def count_transactions(session: Session, f: TxFilter) -> int:
    q = select(func.count()).select_from(Transaction).where(and_(True, *_where(f)))
    return int(session.scalar(q) or 0)


def sum_transactions(session: Session, f: TxFilter) -> list[Total]:
    """Totals per currency (signed: spending is negative), largest count first."""
    ids = func.array_agg(Transaction.id)
    q = (select(Transaction.currency, func.sum(Transaction.amount), func.count(), ids)
         .where(and_(True, *_where(f))).group_by(Transaction.currency)
         .order_by(func.count().desc()))
    return [Total(currency=c, total=t, count=n, ids=tuple(sorted(i)[:CITE_LIMIT]))
            for c, t, n, i in session.execute(q).all()]


def _group_key(by: str) -> Any:
    if by == "category":
        return func.coalesce(Transaction.category, "uncategorised")
    if by == "merchant":
        return func.coalesce(Transaction.merchant, Transaction.counterparty, "unknown")
    if by == "month":
        return func.to_char(Transaction.booking_date, "YYYY-MM")
    if by == "week":
        return func.to_char(Transaction.booking_date, 'IYYY-"W"IW')
    if by == "account":
        return account_label()
    if by == "currency":
        return Transaction.currency
    raise InvalidInputError(f"group by must be one of {', '.join(GROUP_BYS)}, not {by!r}")


def group_transactions(session: Session, f: TxFilter, *, by: str, limit: int = 50,
                       order: str = "total") -> list[Group]:
    """Sums per group and currency. order="total" puts the largest spending (most negative)
    first when filtering for spending, the largest sum otherwise; "key" sorts by the key."""
    key = _group_key(by).label("key")
    total = func.sum(Transaction.amount)
    # The merchant key is folded ("backerei korn"); show the payee as written ("Bäckerei Korn").
    label = (func.mode().within_group(Transaction.counterparty) if by == "merchant"
             else literal(None, Text)).label("label")
    q = (select(key, Transaction.currency, total, func.count(), func.array_agg(Transaction.id),
                label)
         .select_from(Transaction).join(Account, Account.id == Transaction.account_id)
         .where(and_(True, *_where(f))).group_by(key, Transaction.currency))
    if order == "key":
        q = q.order_by(key, Transaction.currency)
    else:
        q = q.order_by(total.asc() if f.direction == "out" else total.desc(), key)
    q = q.limit(max(1, min(limit, 1000)))
    return [Group(key=k, currency=c, total=t, count=n, ids=tuple(sorted(i)[:CITE_LIMIT]),
                  label=lab) for k, c, t, n, i, lab in session.execute(q).all()]


def get_transactions(session: Session, ids: list[int] | tuple[int, ...]) -> list[TxRow]:
    """Rows for these ids (in date order), for citations."""
    if not ids:
        return []
    return list_transactions(session, TxFilter(ids=tuple(ids)), limit=len(ids), order="date")
