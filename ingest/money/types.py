"""Typed results of statement parsing: accounts, statements, transactions with their location,
and the investment side (securities, positions, investment transactions) (pure).

Signs and statuses follow `ingest.money.conventions`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

FORMATS = ("ofx", "camt052", "camt053", "camt054", "mt940", "mt942", "qif", "csv", "xlsx", "pdf",
           "text")


@dataclass(frozen=True, slots=True)
class Location:
    """Where a transaction sits in its file: 1-based page, line and/or data row."""

    page: int | None = None
    line: int | None = None
    row: int | None = None

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in (("page", self.page), ("line", self.line), ("row", self.row)) if v}

    def label(self) -> str:
        parts = []
        if self.page:
            parts.append(f"page {self.page}")
        if self.row:
            parts.append(f"row {self.row}")
        elif self.line:
            parts.append(f"line {self.line}")
        return ", ".join(parts) or "file"


@dataclass(frozen=True, slots=True)
class AccountRef:
    """The account a statement belongs to. `identifier` is the full number/IBAN (hashed for
    identity, never stored); `masked` is what is shown."""

    identifier: str
    institution: str | None = None
    currency: str | None = None
    type: str | None = None

    @property
    def masked(self) -> str:
        ident = "".join(self.identifier.split())
        if len(ident) <= 4 or ":" in ident:  # short, or our own label such as "csv:ing-de"
            return ident
        keep_start = 4 if ident[:2].isalpha() and len(ident) > 12 else 0
        return ident[:keep_start] + "*" * (len(ident) - keep_start - 4) + ident[-4:]


@dataclass(frozen=True, slots=True)
class ParsedTransaction:
    """One transaction line. `amount` is signed: negative = money out of the account."""

    booking_date: date
    amount: Decimal
    currency: str
    counterparty: str | None = None
    description: str | None = None
    value_date: date | None = None
    bank_id: str | None = None  # FITID, AcctSvcrRef ...: unique per account when present
    type: str | None = None
    pending: bool = False
    location: Location = field(default_factory=Location)
    raw_date: str | None = None  # the date as written, when it was not a real date (Feb 30)


@dataclass(frozen=True, slots=True)
class Security:
    """A security as a statement names it. `key` is its identity across files: the ISIN, else
    the CUSIP, else another scheme's id, else the ticker, else the name."""

    key: str
    name: str | None = None
    ticker: str | None = None
    isin: str | None = None
    cusip: str | None = None
    type: str | None = None  # stock | fund | bond | option | other
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class Position:
    """Units of one security held in an account on a date, with price and value when given."""

    security: str  # Security.key
    as_of: date
    units: Decimal
    currency: str
    unit_price: Decimal | None = None
    market_value: Decimal | None = None
    location: Location = field(default_factory=Location)


INVESTMENT_KINDS = (
    "buy", "sell", "reinvest", "dividend", "interest", "income", "capital_gain", "fee",
    "tax", "transfer_in", "transfer_out", "split", "return_of_capital", "other",
)


@dataclass(frozen=True, slots=True)
class InvestmentTransaction:
    """A trade or income event. `units` is signed (+ into the account, - out); `cash` is the
    signed effect on the account's cash (conventions: a buy is negative, a dividend positive,
    a reinvestment zero); `amount` is the gross value of the event, unsigned."""

    trade_date: date
    kind: str  # one of INVESTMENT_KINDS
    cash: Decimal
    currency: str
    security: str | None = None  # Security.key
    units: Decimal | None = None
    unit_price: Decimal | None = None
    amount: Decimal | None = None
    fees: Decimal | None = None
    settle_date: date | None = None
    description: str | None = None
    bank_id: str | None = None
    location: Location = field(default_factory=Location)


@dataclass(frozen=True, slots=True)
class ParsedStatement:
    """A statement: one account over one period, with balances when the file gives them."""

    account: AccountRef
    transactions: tuple[ParsedTransaction, ...]
    currency: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    positions: tuple[Position, ...] = ()
    investments: tuple[InvestmentTransaction, ...] = ()
    # Control totals the file itself states (MT942 :90C:/:90D:, a card statement's "purchases"
    # and "payments" lines, a CSV trailer): money in, money out (negative), number of rows.
    stated_in: Decimal | None = None
    stated_out: Decimal | None = None
    stated_count: int | None = None


@dataclass(frozen=True, slots=True)
class BalanceCheck:
    """Opening + sum(transactions) against closing for one statement."""

    status: str  # ok | mismatch | unverified (conventions.BALANCE_STATUSES)
    expected_closing: Decimal | None = None
    difference: Decimal | None = None  # closing - expected

    @property
    def message(self) -> str | None:
        if self.status != "mismatch":
            return None
        return (
            f"closing balance differs from opening + transactions by {self.difference} "
            f"(expected {self.expected_closing})"
        )


@dataclass(frozen=True, slots=True)
class StatementFile:
    """Everything parsed from one file: one or more statements, format and warnings."""

    format: str  # one of FORMATS
    statements: tuple[ParsedStatement, ...]
    profile: str | None = None  # CSV/PDF layout profile used
    warnings: tuple[str, ...] = ()
    securities: tuple[Security, ...] = ()

    @property
    def transaction_count(self) -> int:
        return sum(len(s.transactions) for s in self.statements)

    @property
    def investment_count(self) -> int:
        return sum(len(s.investments) for s in self.statements)

    @property
    def position_count(self) -> int:
        return sum(len(s.positions) for s in self.statements)

    @property
    def has_data(self) -> bool:
        """Any transaction, trade or position: a statement file that yields none of them is a
        failure (conventions: never a silent text-only import)."""
        return bool(self.transaction_count or self.investment_count or self.position_count)
