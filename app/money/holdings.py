"""Investment queries in SQL: portfolio value at a date, money invested in a security, income
received (dividends, interest, distributions), investment cash flows.

Amounts are summed by PostgreSQL `numeric` per currency (never across currencies). Every row
carries its document and place in the file (page/line/row), so an answer can cite the statement.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_, select

from app.core.models import Account, Document
from app.core.models.money import Holding, InvestmentTransaction, Security

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

INCOME_KINDS = ("dividend", "interest", "income", "capital_gain", "return_of_capital")
INVEST_KINDS = ("buy", "reinvest")


def _num(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


@dataclass(frozen=True, slots=True)
class Cite:
    """Where a figure comes from: the statement document and the place in it."""

    document_id: int | None
    origin: str | None
    page: int | None = None
    line: int | None = None
    row: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"document_id": self.document_id, "path": self.origin,
                **{k: v for k, v in (("page", self.page), ("line", self.line),
                                     ("row", self.row)) if v}}


@dataclass(frozen=True, slots=True)
class PositionRow:
    account: str | None
    security: str
    ticker: str | None
    as_of: date
    units: Decimal
    unit_price: Decimal | None
    market_value: Decimal | None
    currency: str
    cite: Cite

    def to_json(self) -> dict[str, Any]:
        return {"account": self.account, "security": self.security, "ticker": self.ticker,
                "as_of": self.as_of.isoformat(), "units": _num(self.units),
                "unit_price": _num(self.unit_price), "market_value": _num(self.market_value),
                "currency": self.currency, "source": self.cite.to_json()}


@dataclass(frozen=True, slots=True)
class Portfolio:
    """Positions of every account as of its latest statement on or before `at`."""

    at: date | None
    positions: tuple[PositionRow, ...]
    totals: dict[str, Decimal]  # market value per currency
    unpriced: int  # positions without a market value (left out of the totals)

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat() if self.at else None,
                "totals": {c: _num(v) for c, v in sorted(self.totals.items())},
                "unpriced": self.unpriced, "positions": [p.to_json() for p in self.positions]}


@dataclass(frozen=True, slots=True)
class InvestmentRow:
    trade_date: date
    kind: str
    account: str | None
    security: str | None
    ticker: str | None
    units: Decimal | None
    unit_price: Decimal | None
    amount: Decimal | None
    cash: Decimal
    currency: str
    description: str | None
    cite: Cite

    def to_json(self) -> dict[str, Any]:
        return {"date": self.trade_date.isoformat(), "kind": self.kind, "account": self.account,
                "security": self.security, "ticker": self.ticker, "units": _num(self.units),
                "unit_price": _num(self.unit_price), "amount": _num(self.amount),
                "cash": _num(self.cash), "currency": self.currency,
                "description": self.description, "source": self.cite.to_json()}


@dataclass(frozen=True, slots=True)
class InvestmentSummary:
    rows: tuple[InvestmentRow, ...]
    totals: dict[str, Decimal]  # per currency, see the function for what is summed

    def to_json(self) -> dict[str, Any]:
        return {"totals": {c: _num(v) for c, v in sorted(self.totals.items())},
                "rows": [r.to_json() for r in self.rows]}


def _security_filter(text: str | None):
    if not text:
        return None
    like = f"%{text.strip()}%"
    exact = text.strip().upper()
    return or_(func.upper(Security.ticker) == exact, Security.isin == exact,
               Security.cusip == exact, func.upper(Security.key) == exact,
               Security.name.ilike(like))


def _account_label(acct: Account) -> str | None:
    return acct.name or acct.number_masked


def portfolio(session: Session, *, at: date | None = None, account: str | None = None,
              security: str | None = None) -> Portfolio:
    """Each account's positions from its latest statement dated on or before `at` (all dates
    when None). When two files report the same account and date, the later-stored one counts."""
    latest = select(Holding.account_id, func.max(Holding.as_of).label("as_of"))
    if at is not None:
        latest = latest.where(Holding.as_of <= at)
    latest_sq = latest.group_by(Holding.account_id).subquery()
    stmt_sq = (select(Holding.account_id, Holding.as_of,
                      func.max(Holding.statement_id).label("statement_id"))
               .join(latest_sq, and_(latest_sq.c.account_id == Holding.account_id,
                                     latest_sq.c.as_of == Holding.as_of))
               .group_by(Holding.account_id, Holding.as_of).subquery())
    q = (select(Holding, Security, Account, Document.origin)
         .join(stmt_sq, Holding.statement_id == stmt_sq.c.statement_id)
         .join(Security, Security.id == Holding.security_id)
         .join(Account, Account.id == Holding.account_id)
         .join(Document, Document.id == Holding.document_id)
         .order_by(Account.id, Security.name, Security.key, Holding.id))
    if account:
        q = q.where(or_(Account.number_masked.ilike(f"%{account}%"),
                        Account.name.ilike(f"%{account}%"),
                        Account.institution.ilike(f"%{account}%")))
    cond = _security_filter(security)
    if cond is not None:
        q = q.where(cond)
    rows = []
    totals: dict[str, Decimal] = defaultdict(Decimal)
    unpriced = 0
    for h, sec, acct, origin in session.execute(q).all():
        rows.append(PositionRow(
            account=_account_label(acct), security=sec.name or sec.key, ticker=sec.ticker,
            as_of=h.as_of, units=h.units, unit_price=h.unit_price, market_value=h.market_value,
            currency=h.currency,
            cite=Cite(h.document_id, origin, h.page, h.line, h.row)))
        if h.market_value is None:
            unpriced += 1
        else:
            totals[h.currency] += h.market_value
    return Portfolio(at=at, positions=tuple(rows), totals=dict(totals), unpriced=unpriced)


def _investments(session: Session, *, kinds: tuple[str, ...] | None, security: str | None,
                 date_from: date | None, date_to: date | None,
                 account: str | None) -> list[InvestmentRow]:
    q = (select(InvestmentTransaction, Security, Account, Document.origin)
         .outerjoin(Security, Security.id == InvestmentTransaction.security_id)
         .join(Account, Account.id == InvestmentTransaction.account_id)
         .outerjoin(Document, Document.id == InvestmentTransaction.document_id)
         .order_by(InvestmentTransaction.trade_date, InvestmentTransaction.id))
    if kinds:
        q = q.where(InvestmentTransaction.kind.in_(kinds))
    if date_from:
        q = q.where(InvestmentTransaction.trade_date >= date_from)
    if date_to:
        q = q.where(InvestmentTransaction.trade_date <= date_to)
    if account:
        q = q.where(or_(Account.number_masked.ilike(f"%{account}%"),
                        Account.name.ilike(f"%{account}%")))
    cond = _security_filter(security)
    if cond is not None:
        q = q.where(cond)
    out = []
    for t, sec, acct, origin in session.execute(q).all():
        out.append(InvestmentRow(
            trade_date=t.trade_date, kind=t.kind, account=_account_label(acct),
            security=(sec.name or sec.key) if sec else None, ticker=sec.ticker if sec else None,
            units=t.units, unit_price=t.unit_price, amount=t.amount, cash=t.cash_amount,
            currency=t.currency, description=t.description,
            cite=Cite(t.document_id, origin, t.page, t.line, t.row)))
    return out


def invested(session: Session, *, security: str | None = None, date_from: date | None = None,
             date_to: date | None = None, account: str | None = None) -> InvestmentSummary:
    """Money put into securities: buys (their cash paid, fees included) and reinvested income
    (its amount), per currency. Sales are not netted: this answers "how much did I invest"."""
    rows = _investments(session, kinds=INVEST_KINDS, security=security, date_from=date_from,
                        date_to=date_to, account=account)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        totals[r.currency] += -r.cash if r.kind == "buy" else (r.amount or Decimal(0))
    return InvestmentSummary(rows=tuple(rows), totals=dict(totals))


def income_received(session: Session, *, kinds: tuple[str, ...] = ("dividend",),
                    security: str | None = None, date_from: date | None = None,
                    date_to: date | None = None, account: str | None = None,
                    include_reinvested: bool = True) -> InvestmentSummary:
    """Dividends (or other income kinds) received, per currency: cash paid out to the account
    plus, when `include_reinvested`, income that was reinvested at once."""
    wanted = kinds + (("reinvest",) if include_reinvested else ())
    rows = _investments(session, kinds=wanted, security=security, date_from=date_from,
                        date_to=date_to, account=account)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        totals[r.currency] += (r.amount or Decimal(0)) if r.kind == "reinvest" else r.cash
    return InvestmentSummary(rows=tuple(rows), totals=dict(totals))


def cash_flows(session: Session, *, date_from: date | None = None, date_to: date | None = None,
               account: str | None = None, security: str | None = None) -> InvestmentSummary:
    """Every investment transaction that moved cash, with the net cash per currency."""
    rows = [r for r in _investments(session, kinds=None, security=security, date_from=date_from,
                                    date_to=date_to, account=account) if r.cash != 0]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        totals[r.currency] += r.cash
    return InvestmentSummary(rows=tuple(rows), totals=dict(totals))
