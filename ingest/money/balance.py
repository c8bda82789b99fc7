"""Opening balance + sum(booked transactions) = closing balance, per statement (pure)."""

from __future__ import annotations

from decimal import Decimal

from ingest.money.types import BalanceCheck, ParsedStatement


def check_balance(stmt: ParsedStatement) -> BalanceCheck:
    """'ok', 'mismatch' (with the difference) or 'unknown' when a balance is missing.

    Pending transactions are left out: banks book them into the balance only once posted.
    """
    if stmt.opening_balance is None or stmt.closing_balance is None:
        return BalanceCheck(status="unknown")
    if len({t.currency for t in stmt.transactions}) > 1:
        return BalanceCheck(status="unknown")  # mixed currencies: balances are per currency
    total = sum((t.amount for t in stmt.transactions if not t.pending), Decimal(0))
    expected = stmt.opening_balance + total
    diff = stmt.closing_balance - expected
    return BalanceCheck(
        status="ok" if diff == 0 else "mismatch", expected_closing=expected, difference=diff
    )
