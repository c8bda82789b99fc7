"""Property tests: amount parsing, CSV sniffing round trips, dedup invariants (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ingest.money.amounts import parse_amount, sniff_decimal
from ingest.money.csvparse import parse_csv
from ingest.money.csvprofiles import CsvOptions
from ingest.money.dedup import dedup_keys
from ingest.money.types import ParsedTransaction
from tests.support.statements_synth import Tx, csv_signed

cents = st.integers(min_value=-10**9, max_value=10**9).filter(lambda c: c != 0)


def _group(digits: str, sep: str) -> str:
    out = []
    while len(digits) > 3:
        out.insert(0, digits[-3:])
        digits = digits[:-3]
    out.insert(0, digits)
    return sep.join(out)


def render(value: Decimal, *, decimal: str, grouped: bool, style: str) -> str:
    whole, frac = f"{abs(value):.2f}".split(".")
    if grouped:
        whole = _group(whole, "." if decimal == "," else ",")
    body = f"{whole}{decimal}{frac}"
    if value >= 0:
        return body
    return {"minus": f"-{body}", "trailing": f"{body}-", "paren": f"({body})"}[style]


@given(c=cents, decimal=st.sampled_from([",", "."]), grouped=st.booleans(),
       style=st.sampled_from(["minus", "trailing", "paren"]))
def test_parse_amount_round_trips_every_notation(c: int, decimal: str, grouped: bool,
                                                  style: str) -> None:
    value = Decimal(c) / 100
    assert parse_amount(render(value, decimal=decimal, grouped=grouped, style=style),
                        decimal=decimal) == value


@given(values=st.lists(cents, min_size=3, max_size=30), decimal=st.sampled_from([",", "."]))
def test_sniff_decimal_finds_the_separator_when_cents_are_written(values: list[int],
                                                                  decimal: str) -> None:
    cells = [render(Decimal(c) / 100, decimal=decimal, grouped=True, style="minus")
             for c in values]
    assert sniff_decimal(cells) == decimal


payees = st.sampled_from(["REWE", "Café Olé", "Shell; Tankstelle", 'Quote "Co"', "Amazon"])
tx_strategy = st.builds(
    Tx,
    day=st.dates(min_value=date(2020, 1, 13), max_value=date(2026, 12, 28)),
    amount=cents.map(lambda c: Decimal(c) / 100),
    payee=payees,
    memo=st.sampled_from(["", "Kartenzahlung", "Miete, März"]),
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(txs=st.lists(tx_strategy, min_size=1, max_size=25), german=st.booleans())
def test_csv_round_trip_through_sniffing(txs: list[Tx], german: bool) -> None:
    # A file whose amounts are all positive is refused (nothing says which are money out);
    # test_bank_csv checks that refusal.
    assume(any(t.amount < 0 for t in txs) or len(txs) == 1)
    data = csv_signed(txs, german=german, encoding="cp1252" if german else "utf-8")
    stmt = parse_csv(data, name="p.csv", options=CsvOptions()).statements[0]
    assert [t.amount for t in stmt.transactions] == [t.amount for t in txs]
    assert [t.counterparty for t in stmt.transactions] == [t.payee for t in txs]
    # Day-first is preferred for German exports; ISO dates are never ambiguous.
    assert [t.booking_date for t in stmt.transactions] == [t.day for t in txs]


small_tx = st.builds(
    lambda d, a, p: ParsedTransaction(booking_date=date(2026, 1, 1) + timedelta(days=d),
                                      amount=Decimal(a), currency="EUR", counterparty=p),
    st.integers(0, 9), st.sampled_from(["-4.50", "-4.5", "-12.00", "100.00"]),
    st.sampled_from(["Coffee", "coffee ", "Bakery"]),
)


@given(txs=st.lists(small_tx, max_size=40))
def test_dedup_keys_are_unique_and_count_identical_rows(txs: list[ParsedTransaction]) -> None:
    keys = dedup_keys(txs)
    assert len(set(keys)) == len(txs)  # two identical coffees stay two
    assert dedup_keys(list(txs)) == keys  # deterministic: re-import changes nothing


@given(txs=st.lists(small_tx, max_size=40), a=st.integers(0, 9), b=st.integers(0, 9))
def test_overlapping_statements_never_double_count(txs: list[ParsedTransaction], a: int,
                                                   b: int) -> None:
    txs = sorted(txs, key=lambda t: t.booking_date)
    first_end, second_start = max(a, b), min(a, b)  # the two periods overlap on whole days
    start = date(2026, 1, 1)
    first = [t for t in txs if (t.booking_date - start).days <= first_end]
    second = [t for t in txs if (t.booking_date - start).days >= second_start]
    union = set(dedup_keys(first)) | set(dedup_keys(second))
    assert len(union) == len(txs)


@given(txs=st.lists(small_tx, min_size=1, max_size=20))
def test_bank_ids_win_over_content(txs: list[ParsedTransaction]) -> None:
    from dataclasses import replace

    with_ids = [replace(t, bank_id=f"FIT{i}") for i, t in enumerate(txs)]
    assert dedup_keys(with_ids) == [f"id:FIT{i}" for i in range(len(txs))]
