"""Detectors on a synthetic household history with planted anomalies (pure)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.money.detectors import (
    DetTx,
    amount_outliers,
    detect,
    double_charges,
    mad,
    median,
    recurring_changes,
    recurring_series,
)
from ingest.money.categories import categorise
from ingest.money.text import merchant_key
from tests.support.statements_synth import Tx, random_history

D = Decimal
WEEK = (date(2026, 1, 26), date(2026, 2, 1))
MONTH = (date(2026, 1, 1), date(2026, 1, 31))


def as_det(txs: list[Tx], currency: str = "EUR", first_id: int = 0) -> list[DetTx]:
    out = []
    for i, t in enumerate(txs, start=first_id):
        cat = categorise(t.payee, t.memo, t.amount)
        out.append(DetTx(i, t.day, t.amount, currency, merchant_key(t.payee),
                         cat[0] if cat else None, t.payee))
    return out


@pytest.fixture(scope="module")
def base() -> list[Tx]:
    return random_history(start=date(2025, 1, 1), days=396, seed=3)


def kinds(flags) -> list[str]:
    return sorted(f.kind for f in flags)


def test_ordinary_history_raises_no_flags(base: list[Tx]) -> None:
    hist = as_det(base)
    assert detect(hist, *WEEK) == []
    assert detect(hist, *MONTH) == []
    assert {s.merchant for s in recurring_series(hist, until=WEEK[1])} == {
        "netflix", "spotify", "stadtwerke strom", "hausverwaltung meier"}


def test_subscription_price_rise_is_flagged_with_both_charges_cited(base: list[Tx]) -> None:
    txs = [t if not (t.payee == "Netflix" and t.day >= date(2026, 1, 1))
           else Tx(t.day, D("-15.99"), "Netflix", "Abo") for t in base]
    hist = as_det(txs)
    flags = recurring_changes(hist, *MONTH)
    assert len(flags) == 1
    flag = flags[0]
    assert flag.kind == "recurring_changed" and flag.merchant == "netflix"
    assert "rose from 12.99 EUR to 15.99 EUR (+23%)" in flag.reason
    cited = {t.id: t for t in hist if t.id in flag.tx_ids}
    assert sorted(t.amount for t in cited.values()) == [D("-15.99"), D("-12.99")]


def test_stopped_subscription_is_flagged_when_it_was_due(base: list[Tx]) -> None:
    txs = [t for t in base if not (t.payee == "Spotify" and t.day >= date(2025, 12, 1))]
    flags = [f for f in detect(as_det(txs), date(2025, 12, 1), date(2025, 12, 31))
             if f.kind == "recurring_stopped"]
    assert [f.merchant for f in flags] == ["spotify"]
    assert "did not come; last on 2025-11-05" in flags[0].reason


def test_new_merchant_outlier_double_charge_spike_and_frequency(base: list[Tx]) -> None:
    planted = [
        Tx(date(2026, 1, 27), D("-899.00"), "Luxus Uhren Berlin", "Uhr"),
        Tx(date(2026, 1, 28), D("-412.30"), "REWE Markt", "Einkauf"),
        Tx(date(2026, 1, 29), D("-249.00"), "IKEA", "Regal"),
        Tx(date(2026, 1, 30), D("-249.00"), "IKEA", "Regal"),
        *[Tx(date(2026, 1, 26) + timedelta(days=i % 7), D("-38.50"), "Pizza Roma", "Essen")
          for i in range(9)],
    ]
    hist = as_det(base + planted)
    flags = detect(hist, *WEEK)
    by_kind = {f.kind: f for f in flags}
    assert {"new_merchant", "amount_outlier", "double_charge", "category_spike",
            "unusual_frequency"} <= set(by_kind)
    assert by_kind["new_merchant"].merchant == "luxus uhren berlin"
    assert any(f.kind == "amount_outlier" and f.merchant == "rewe markt" for f in flags)
    ikea = [f for f in flags if f.kind == "double_charge" and f.merchant == "ikea"]
    assert len(ikea) == 1 and len(ikea[0].tx_ids) == 2
    assert any(f.kind == "category_spike" and f.category == "restaurants" for f in flags)
    assert by_kind["unusual_frequency"].merchant == "pizza roma"
    for f in flags:
        assert f.reason and "\n" not in f.reason and f.tx_ids and f.score > 0
    assert flags == sorted(flags, key=lambda f: (-f.score, f.kind, f.tx_ids))


def test_outlier_needs_minimum_history_and_stays_within_a_currency() -> None:
    day = date(2026, 1, 1)
    few = [DetTx(i, day + timedelta(days=7 * i), D("-10.00"), "EUR", "shop") for i in range(3)]
    few.append(DetTx(99, day + timedelta(days=30), D("-500.00"), "EUR", "shop"))
    assert amount_outliers(few, day + timedelta(days=25), day + timedelta(days=35)) == []
    usd = [DetTx(i, day + timedelta(days=3 * i), D("-10.00"), "USD", "shop") for i in range(8)]
    eur = [DetTx(50, day + timedelta(days=30), D("-80.00"), "EUR", "shop")]
    assert amount_outliers(usd + eur, day + timedelta(days=29), day + timedelta(days=31)) == []


def test_routine_same_amount_purchases_are_not_double_charges() -> None:
    day = date(2026, 1, 1)
    coffees = [DetTx(i, day + timedelta(days=i // 2), D("-3.20"), "EUR", "bakery")
               for i in range(40)]
    assert double_charges(coffees, day + timedelta(days=15), day + timedelta(days=20)) == []


def test_median_and_mad() -> None:
    values = [D(1), D(2), D(3), D(4), D(100)]
    assert median(values) == D(3)
    assert mad(values) == D(1)


def _monthly(merchant: str, first: date, count: int, amount: str, first_id: int) -> list[DetTx]:
    return [DetTx(first_id + i, first + timedelta(days=30 * i), D(amount), "EUR", merchant)
            for i in range(count)]


def test_new_subscription_is_flagged_only_when_history_reaches_before_it() -> None:
    salary = [DetTx(900 + i, date(2025, 6, 28) + timedelta(days=30 * i), D("3000"), "EUR",
                    "employer") for i in range(9)]
    fresh = _monthly("newsstream", date(2025, 11, 5), 3, "-9.99", 100)
    flags = recurring_changes(salary + fresh, *MONTH)
    assert [f.kind for f in flags] == ["recurring_started"]
    assert "newsstream" in flags[0].reason.lower()


def test_series_that_begins_with_the_oldest_statement_is_not_called_new() -> None:
    # The imported history itself starts with these charges: nothing says they are new.
    rent = _monthly("landlord", date(2025, 11, 3), 3, "-950", 1)
    assert recurring_changes(rent, *MONTH) == []
