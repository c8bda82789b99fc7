"""Opening balance + sum(booked transactions) = closing balance, per statement (pure).

The sum does not depend on the order of the rows, so a file listing rows newest first, or in
no order at all, checks the same. A statement without both balances is "unverified", never a
mismatch (`ingest.money.conventions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from ingest.money.conventions import BALANCE_MISMATCH, BALANCE_OK, BALANCE_UNVERIFIED
from ingest.money.types import BalanceCheck, ParsedStatement


def check_balance(stmt: ParsedStatement) -> BalanceCheck:
    """'ok', 'mismatch' (with the difference) or 'unverified' when a balance is missing.

    Pending transactions are left out: banks book them into the balance only once posted.
    Investment cash effects count when the statement has them (cash balance of a brokerage).
    """
    if stmt.opening_balance is None or stmt.closing_balance is None:
        return _check_totals(stmt)
    ccys = {t.currency for t in stmt.transactions} | {i.currency for i in stmt.investments}
    if len(ccys) > 1:
        return BalanceCheck(status=BALANCE_UNVERIFIED)  # mixed currencies: balances are per currency
    total = sum((t.amount for t in stmt.transactions if not t.pending), Decimal(0))
    total += sum((i.cash for i in stmt.investments), Decimal(0))
    expected = stmt.opening_balance + total
    diff = stmt.closing_balance - expected
    return BalanceCheck(
        status=BALANCE_OK if diff == 0 else BALANCE_MISMATCH, expected_closing=expected,
        difference=diff,
    )


def _check_totals(stmt: ParsedStatement) -> BalanceCheck:
    """Without balances, the file's own totals (money in, money out, row count) if it states
    them; "unverified" otherwise."""
    if stmt.stated_in is None and stmt.stated_out is None and stmt.stated_count is None:
        return BalanceCheck(status=BALANCE_UNVERIFIED)
    booked = [t.amount for t in stmt.transactions if not t.pending]
    got_in = sum((a for a in booked if a > 0), Decimal(0))
    got_out = sum((a for a in booked if a < 0), Decimal(0))
    diffs = [want - got for want, got in ((stmt.stated_in, got_in), (stmt.stated_out, got_out))
             if want is not None and want != got]
    if stmt.stated_count is not None and stmt.stated_count != len(booked):
        diffs.append(Decimal(stmt.stated_count - len(booked)))
    if not diffs:
        return BalanceCheck(status=BALANCE_OK, difference=Decimal(0))
    return BalanceCheck(status=BALANCE_MISMATCH, difference=diffs[0])


def running_balances(
    amounts: Sequence[Decimal], balances: Sequence[Decimal | None],
) -> tuple[Decimal, Decimal] | None:
    """(opening, closing) from a running-balance column: the balance after each row.

    The rows may be oldest first, newest first or in no useful order (several rows a day,
    sorted by amount): the chain is rebuilt by matching each row's balance before it
    (balance - amount) with another row's balance after it. None when a row has no balance or
    no single chain links every row (then the statement stays unverified, nothing is claimed).
    """
    n = len(amounts)
    if n < 2 or len(balances) != n or any(b is None for b in balances):
        return None  # one row's balance links nothing: it would check itself
    after: list[Decimal] = [b for b in balances if b is not None]
    before = [b - a for a, b in zip(amounts, after, strict=True)]
    for order in (range(n), range(n - 1, -1, -1)):  # the common cases, in O(n)
        idx = list(order)
        if all(before[idx[k]] == after[idx[k - 1]] for k in range(1, n)):
            return before[idx[0]], after[idx[-1]]
    # Any order: start at the row whose balance before no other row leaves behind.
    by_before: dict[Decimal, list[int]] = {}
    for i, b in enumerate(before):
        by_before.setdefault(b, []).append(i)
    after_count: dict[Decimal, int] = {}
    for b in after:
        after_count[b] = after_count.get(b, 0) + 1
    starts = [i for i, b in enumerate(before) if after_count.get(b, 0) < len(by_before[b])]
    if len(starts) != 1 and not (len(starts) == 0 and n == 1):
        return None
    current = starts[0] if starts else 0
    used = {current}
    by_before[before[current]].remove(current)
    for _ in range(n - 1):
        nxt = by_before.get(after[current])
        if not nxt:
            return None
        current = nxt.pop()
        used.add(current)
    return before[starts[0] if starts else 0], after[current]
