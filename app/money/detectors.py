"""Unusual-spending detectors over a transaction history (pure; robust statistics, no floats for money).

Each detector returns `Flag`s with a score, a one-line reason and the transactions it cites:
new merchant, amount outlier (Hampel: |x - median| > k * 1.4826 * MAD, with a minimum history),
possible double charge, recurring charge changed / stopped / started, category spend far above
its trailing median, unusual frequency. Amounts are compared within one currency only.
"""

from __future__ import annotations

import bisect
import itertools
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

HAMPEL_K = Decimal(3)
MAD_SCALE = Decimal("1.4826")
MIN_HISTORY = 5  # prior charges needed before an amount can be called an outlier
OUTLIER_WINDOW = 100  # most recent earlier charges the outlier statistics use
MIN_HISTORY_DAYS = 56  # history before the period needed to call a merchant "new"
DOUBLE_WINDOW_DAYS = 3


@dataclass(frozen=True, slots=True)
class DetTx:
    """The fields the detectors need of one transaction."""

    id: int
    date: date
    amount: Decimal  # signed: negative = money out
    currency: str
    merchant: str | None
    category: str | None = None
    counterparty: str | None = None

    @property
    def spend(self) -> Decimal:
        return -self.amount


@dataclass(frozen=True, slots=True)
class Flag:
    """One unusual thing, explained and cited."""

    kind: str
    score: float
    reason: str
    tx_ids: tuple[int, ...]
    currency: str | None = None
    merchant: str | None = None
    category: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "score": round(self.score, 2), "reason": self.reason,
                "transaction_ids": list(self.tx_ids), "currency": self.currency,
                "merchant": self.merchant, "category": self.category, "facts": self.facts}


def median(values: Sequence[Decimal]) -> Decimal:
    return statistics.median(values)


def mad(values: Sequence[Decimal], center: Decimal | None = None) -> Decimal:
    c = median(values) if center is None else center
    return statistics.median([abs(v - c) for v in values])


def _fmt(value: Decimal, currency: str) -> str:
    return f"{value:,.2f} {currency}"


def _label(tx: DetTx) -> str:
    return tx.counterparty or tx.merchant or "unknown payee"


def _outgoing(txs: Iterable[DetTx]) -> list[DetTx]:
    return [t for t in txs if t.amount < 0]


def new_merchants(history: Sequence[DetTx], start: date, end: date) -> list[Flag]:
    """Payees never paid before the period (needs MIN_HISTORY_DAYS of earlier data)."""
    out = _outgoing(history)
    if not out or (start - min(t.date for t in out)).days < MIN_HISTORY_DAYS:
        return []
    seen_before = {t.merchant for t in out if t.date < start and t.merchant}
    firsts: dict[str, list[DetTx]] = defaultdict(list)
    for t in out:
        if start <= t.date <= end and t.merchant and t.merchant not in seen_before:
            firsts[t.merchant].append(t)
    typical = median([t.spend for t in out if t.date < start]) if out else Decimal(1)
    flags = []
    for merchant, txs in firsts.items():
        total = sum((t.spend for t in txs), Decimal(0))
        cur = txs[0].currency
        score = 1.0 + min(3.0, float(total / max(typical, Decimal(1))) / 3)
        flags.append(Flag(
            "new_merchant", score,
            f"First payment to {_label(txs[0])}: {_fmt(total, cur)}"
            + (f" in {len(txs)} charges" if len(txs) > 1 else ""),
            tuple(t.id for t in txs), cur, merchant, txs[0].category,
            {"total": str(total), "count": len(txs)}))
    return flags


def amount_outliers(history: Sequence[DetTx], start: date, end: date) -> list[Flag]:
    """Charges far above the merchant's (else the category's) own history (Hampel filter over
    the last OUTLIER_WINDOW earlier charges: recent behaviour, and bounded work)."""
    by_merchant: dict[tuple[str, str], list[DetTx]] = defaultdict(list)
    by_category: dict[tuple[str, str], list[DetTx]] = defaultdict(list)
    for t in sorted(_outgoing(history), key=lambda t: (t.date, t.id)):
        if t.merchant:
            by_merchant[(t.merchant, t.currency)].append(t)
        if t.category:
            by_category[(t.category, t.currency)].append(t)
    dates = {id(g): [t.date for t in g] for g in (*by_merchant.values(), *by_category.values())}
    cache: dict[tuple[str, str, str, date], tuple[Decimal, Decimal, int] | None] = {}

    def stats(scope: str, key: tuple[str, str], group: list[DetTx],
              day: date) -> tuple[Decimal, Decimal, int] | None:
        ck = (scope, *key, day)
        if ck not in cache:
            idx = bisect.bisect_left(dates[id(group)], day)
            prior = [p.spend for p in group[max(0, idx - OUTLIER_WINDOW):idx]]
            if len(prior) < MIN_HISTORY * (1 if scope == "merchant" else 2):
                cache[ck] = None
            else:
                med = median(prior)
                # MAD is 0 for fixed prices; a floor keeps a 1-cent change from scoring infinity.
                spread = max(mad(prior, med) * MAD_SCALE, abs(med) * Decimal("0.05"), Decimal(1))
                cache[ck] = (med, spread, len(prior))
        return cache[ck]

    flags = []
    for t in _outgoing(history):
        if not start <= t.date <= end:
            continue
        for scope, groups in (("merchant", by_merchant), ("category", by_category)):
            name = t.merchant if scope == "merchant" else t.category
            if name is None:
                continue
            key = (name, t.currency)
            found = stats(scope, key, groups[key], t.date)
            if found is None:
                continue
            med, spread, n = found
            if t.spend > med and (t.spend - med) > HAMPEL_K * spread:
                z = float((t.spend - med) / spread)
                what = _label(t) if scope == "merchant" else f"category {t.category}"
                flags.append(Flag(
                    "amount_outlier", min(z, 50.0),
                    f"{_label(t)} charged {_fmt(t.spend, t.currency)} on {t.date}, usual for "
                    f"{what} is {_fmt(med, t.currency)} (median of {n})",
                    (t.id,), t.currency, t.merchant, t.category,
                    {"amount": str(t.spend), "median": str(med), "scope": scope,
                     "history": n}))
            break  # the merchant's own history decides when there is enough of it
    return flags


def double_charges(history: Sequence[DetTx], start: date, end: date) -> list[Flag]:
    """Same payee and amount within a few days, unless that payee repeats amounts routinely."""
    groups: dict[tuple[str, str, Decimal], list[DetTx]] = defaultdict(list)
    for t in _outgoing(history):
        if t.merchant:
            groups[(t.merchant, t.currency, t.amount)].append(t)
    per_merchant: dict[str, int] = defaultdict(int)
    repeats: dict[str, int] = defaultdict(int)
    for (merchant, _, _), txs in groups.items():
        txs.sort(key=lambda t: (t.date, t.id))
        per_merchant[merchant] += len(txs)
        repeats[merchant] += sum(1 for a, b in itertools.pairwise(txs)
                                 if (b.date - a.date).days <= DOUBLE_WINDOW_DAYS
                                 and a.date < start)
    flags = []
    for (merchant, cur, _amount), txs in groups.items():
        routine = per_merchant[merchant] >= 6 and repeats[merchant] / per_merchant[merchant] > 0.2
        for a, b in itertools.pairwise(txs):
            if routine or not (start <= b.date <= end):
                continue
            if (b.date - a.date).days <= DOUBLE_WINDOW_DAYS:
                flags.append(Flag(
                    "double_charge", 2.0 + min(3.0, float(b.spend) / 50),
                    f"Possible double charge: {_label(b)} {_fmt(b.spend, cur)} on {a.date} "
                    f"and {b.date}", (a.id, b.id), cur, merchant, b.category,
                    {"amount": str(b.spend), "dates": [str(a.date), str(b.date)],
                     "label": _label(b)}))
    return flags


@dataclass(frozen=True, slots=True)
class Series:
    """A recurring charge: one payee, one currency, a regular interval."""

    merchant: str
    currency: str
    interval_days: int
    txs: tuple[DetTx, ...]

    @property
    def label(self) -> str:
        return _label(self.txs[-1])

    @property
    def cadence(self) -> str:
        return {7: "weekly", 30: "monthly", 91: "quarterly", 365: "yearly"}.get(
            self.interval_days, f"every {self.interval_days} days")


_CADENCES = ((7, 2), (30, 5), (91, 10), (365, 20))


def recurring_series(history: Sequence[DetTx], *, until: date) -> list[Series]:
    """Payees charged at a regular cadence (>= 3 charges at a steady price)."""
    groups: dict[tuple[str, str], list[DetTx]] = defaultdict(list)
    for t in _outgoing(history):
        if t.merchant and t.date <= until:
            groups[(t.merchant, t.currency)].append(t)
    series = []
    for (merchant, cur), txs in groups.items():
        if len(txs) < 3:
            continue
        txs.sort(key=lambda t: (t.date, t.id))
        gaps = [(b.date - a.date).days for a, b in itertools.pairwise(txs)]
        gap = statistics.median(gaps)
        cadence = next((c for c, tol in _CADENCES if abs(gap - c) <= tol), None)
        if cadence is None:
            continue
        recent = txs[-8:]
        regular = sum(1 for g in gaps[-7:] if abs(g - cadence) <= _tol(cadence))
        # Subscriptions hold their price between changes: at most two price levels (runs of
        # amounts within 2 %) among the recent charges, so one price change still counts.
        if regular < 0.8 * len(gaps[-7:]) or len(price_runs(recent)) > 2:
            continue
        series.append(Series(merchant, cur, cadence, tuple(txs)))
    return series


def price_runs(txs: Sequence[DetTx]) -> list[list[DetTx]]:
    """Consecutive charges grouped while the amount stays within 2 % of the run's first."""
    runs: list[list[DetTx]] = []
    for t in txs:
        if runs and abs(t.spend - runs[-1][0].spend) <= runs[-1][0].spend * Decimal("0.02"):
            runs[-1].append(t)
        else:
            runs.append([t])
    return runs


def _tol(cadence: int) -> int:
    return dict(_CADENCES)[cadence]


def recurring_changes(history: Sequence[DetTx], start: date, end: date) -> list[Flag]:
    """A subscription whose price changed, that stopped, or that started."""
    flags = []
    # "Started" needs history from before the first charge: a series that begins with the
    # oldest imported statement has merely come into view.
    history_start = min((t.date for t in history), default=start)
    for s in recurring_series(history, until=end):
        last = s.txs[-1]
        before = [t for t in s.txs if t.date < start]
        in_period = [t for t in s.txs if start <= t.date <= end]
        if in_period and len(before) >= 2:
            prev = median([t.spend for t in before[-3:]])
            now = in_period[-1].spend
            if abs(now - prev) >= max(Decimal("0.50"), prev * Decimal("0.01")):
                pct = (now - prev) / prev * 100 if prev else Decimal(0)
                verb = "rose" if now > prev else "fell"
                flags.append(Flag(
                    "recurring_changed", 3.0 + min(5.0, abs(float(pct)) / 10),
                    f"{s.cadence.capitalize()} charge {s.label} {verb} from {_fmt(prev, s.currency)}"
                    f" to {_fmt(now, s.currency)} ({pct:+.0f}%)",
                    (before[-1].id, in_period[-1].id), s.currency, s.merchant, last.category,
                    {"before": str(prev), "after": str(now), "change_pct": f"{pct:.1f}",
                     "cadence": s.cadence, "label": s.label}))
        if not in_period and last.date < start:
            due = last.date + timedelta(days=s.interval_days + _tol(s.interval_days))
            if start <= due <= end:
                flags.append(Flag(
                    "recurring_stopped", 2.0,
                    f"{s.cadence.capitalize()} charge {s.label} ({_fmt(last.spend, s.currency)}) "
                    f"was due by {due} but did not come; last on {last.date}",
                    (last.id,), s.currency, s.merchant, last.category,
                    {"last_date": str(last.date), "amount": str(last.spend),
                     "cadence": s.cadence}))
        if in_period and len(s.txs) - len(in_period) <= 2 and len(s.txs) <= 4 and \
                len(before) < 3 and s.txs[0].date >= start - timedelta(days=3 * s.interval_days) \
                and (s.txs[0].date - history_start).days > s.interval_days + _tol(s.interval_days):
            flags.append(Flag(
                "recurring_started", 1.5,
                f"New {s.cadence} charge {s.label}: {_fmt(in_period[-1].spend, s.currency)} "
                f"since {s.txs[0].date}", tuple(t.id for t in s.txs), s.currency, s.merchant,
                last.category, {"amount": str(in_period[-1].spend), "since": str(s.txs[0].date),
                                "cadence": s.cadence}))
    return flags


def periods_back(start: date, end: date, count: int) -> list[tuple[date, date]]:
    """The `count` periods of the same length right before [start, end] (for monthly periods:
    calendar months)."""
    length = (end - start).days + 1
    out = []
    if start.day == 1 and (end + timedelta(days=1)).day == 1:  # calendar month
        s = start
        for _ in range(count):
            e = s - timedelta(days=1)
            s = e.replace(day=1)
            out.append((s, e))
        return out
    for i in range(1, count + 1):
        s = start - timedelta(days=length * i)
        out.append((s, s + timedelta(days=length - 1)))
    return out


def covered_periods(history: Sequence[DetTx], start: date, end: date,
                    count: int = 12) -> list[tuple[date, date]]:
    """The previous periods (up to `count`) that the history covers: a period that ended before
    the first transaction is not a period of zero spending but one without data, and would pull
    every median to zero. A period counts when at least half of it lies after the data began."""
    windows = periods_back(start, end, count)
    since = min((t.date for t in history), default=None)
    if since is None:
        return []
    return [(ws, we) for ws, we in windows
            if ((we - max(ws, since)).days + 1) * 2 >= (we - ws).days + 1]


def trailing(history: Sequence[DetTx], start: date, end: date, *, key: str,
             count: int = 12) -> dict[tuple[str, str], list[Decimal]]:
    """Per (key value, currency): spend in each previous period the data covers (0 when none
    in a covered period; see `covered_periods`)."""
    windows = covered_periods(history, start, end, count)
    if not windows:
        return {}
    first = windows[-1][0]
    sums: dict[tuple[str, str], list[Decimal]] = defaultdict(
        lambda: [Decimal(0)] * len(windows))
    for t in _outgoing(history):
        if not first <= t.date < start:
            continue
        k = getattr(t, key) or ("uncategorised" if key == "category" else None)
        if k is None:
            continue
        for i, (ws, we) in enumerate(windows):
            if ws <= t.date <= we:
                sums[(k, t.currency)][i] += t.spend
                break
    return dict(sums)


def category_spikes(history: Sequence[DetTx], start: date, end: date) -> list[Flag]:
    """Categories whose spend in the period is far above their trailing median."""
    past = trailing(history, start, end, key="category")
    now: dict[tuple[str, str], list[DetTx]] = defaultdict(list)
    for t in _outgoing(history):
        if start <= t.date <= end:
            now[(t.category or "uncategorised", t.currency)].append(t)
    flags = []
    for key, txs in now.items():
        series = past.get(key)
        if not series or sum(1 for v in series if v) < 4:
            continue
        spent = sum((t.spend for t in txs), Decimal(0))
        med = median(series)
        spread = max(mad(series, med) * MAD_SCALE, med * Decimal("0.25"), Decimal(10))
        if spent > med + HAMPEL_K * spread and spent > med * 2:
            ratio = float(spent / med) if med else 10.0
            top = sorted(txs, key=lambda t: t.amount)[:10]
            flags.append(Flag(
                "category_spike", min(ratio, 20.0),
                f"{key[0].capitalize()} spend {_fmt(spent, key[1])} is {ratio:.1f}x its "
                f"trailing median of {_fmt(med, key[1])}", tuple(t.id for t in top), key[1],
                None, key[0], {"spent": str(spent), "median": str(med)}))
    return flags


def unusual_frequency(history: Sequence[DetTx], start: date, end: date) -> list[Flag]:
    """A payee charged far more often than in its usual period."""
    windows = covered_periods(history, start, end, 12)
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(windows))
    now: dict[str, list[DetTx]] = defaultdict(list)
    for t in _outgoing(history):
        if not t.merchant:
            continue
        if start <= t.date <= end:
            now[t.merchant].append(t)
            continue
        for i, (ws, we) in enumerate(windows):
            if ws <= t.date <= we:
                counts[t.merchant][i] += 1
                break
    flags = []
    for merchant, txs in now.items():
        past = counts.get(merchant)
        if past is None or sum(1 for c in past if c) < 3:
            continue
        med = statistics.median(past)
        if len(txs) >= 4 and len(txs) > 2.5 * max(med, 1):
            flags.append(Flag(
                "unusual_frequency", min(len(txs) / max(med, 1), 20.0),
                f"{_label(txs[0])} charged {len(txs)} times, usually {med:g} per period",
                tuple(t.id for t in txs), txs[0].currency, merchant, txs[0].category,
                {"count": len(txs), "usual": f"{med:g}"}))
    return flags


DETECTORS = (new_merchants, amount_outliers, double_charges, recurring_changes, category_spikes,
             unusual_frequency)


def detect(history: Sequence[DetTx], start: date, end: date) -> list[Flag]:
    """All detectors, highest score first."""
    flags = [f for d in DETECTORS for f in d(history, start, end)]
    return sorted(flags, key=lambda f: (-f.score, f.kind, f.tx_ids))
