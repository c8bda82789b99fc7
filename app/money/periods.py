"""Periods: ISO weeks ("2026-W47"), months ("2026-10") and spoken phrases in English and German
("last month", "im März", "letzte Woche", "last 30 days") resolved against a given day (pure)."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from app.core.errors import InvalidInputError
from app.core.months import MONTH_NAMES_PATTERN, MONTHS

_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "twelve": 12,
            "ein": 1, "einen": 1, "eine": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5,
            "sechs": 6, "zwölf": 12, "a": 1}


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date  # inclusive
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def month_period(year: int, month: int) -> Period:
    last = calendar.monthrange(year, month)[1]
    return Period(date(year, month, 1), date(year, month, last), f"{year:04d}-{month:02d}")


def week_period(year: int, week: int) -> Period:
    try:
        start = date.fromisocalendar(year, week, 1)
    except ValueError as exc:
        raise InvalidInputError(f"{year}-W{week:02d} is not an ISO week") from exc
    return Period(start, start + timedelta(days=6), f"{year:04d}-W{week:02d}")


def parse_week(text: str) -> Period:
    m = re.fullmatch(r"\s*(\d{4})-?W(\d{1,2})\s*", text, re.IGNORECASE)
    if not m:
        raise InvalidInputError(f"week must look like 2026-W47, not {text!r}")
    return week_period(int(m.group(1)), int(m.group(2)))


def parse_month(text: str) -> Period:
    m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InvalidInputError(f"month must look like 2026-10, not {text!r}")
    return month_period(int(m.group(1)), int(m.group(2)))


def previous_week(today: date) -> Period:
    """The last complete ISO week before `today` (Monday's report covers the week before)."""
    monday = today - timedelta(days=today.weekday() + 7)
    year, week, _ = monday.isocalendar()
    return week_period(year, week)


def _shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def find_period(text: str, today: date) -> tuple[Period | None, str]:
    """The first period phrase in `text`, and the text with that phrase removed."""
    low = text.lower()
    for pattern, build in _PATTERNS:
        m = pattern.search(low)
        if m:
            period = build(m, today)
            if period is not None:
                return period, (text[:m.start()] + " " + text[m.end():]).strip()
    return None, text


def _last_n(m: re.Match[str], today: date) -> Period:
    raw = m.group("n")
    n = int(raw) if raw.isdigit() else _NUMBERS.get(raw, 1)
    unit = m.group("unit")
    if unit.startswith(("day", "tag")):
        days = n
    elif unit.startswith(("week", "woche")):
        days = 7 * n
    elif unit.startswith(("month", "monat")):
        start_y, start_m = _shift_month(today.year, today.month, -n)
        start = date(start_y, start_m, min(today.day, calendar.monthrange(start_y, start_m)[1]))
        return Period(start + timedelta(days=1), today, f"last {n} months")
    else:
        days = 365 * n
    return Period(today - timedelta(days=days - 1), today, f"last {n} {unit}")


def _named_month(m: re.Match[str], today: date) -> Period:
    month = MONTHS[m.group("month")]
    year_s = m.group("year")
    if year_s:
        return month_period(int(year_s), month)
    year = today.year if month <= today.month else today.year - 1  # the most recent one
    return month_period(year, month)


def _relative(m: re.Match[str], today: date) -> Period | None:
    word = m.group(0).strip()
    last = any(w in word for w in ("last", "previous", "letzt", "vorig", "vergangen"))
    if any(w in word for w in ("month", "monat")):
        y, mo = _shift_month(today.year, today.month, -1 if last else 0)
        p = month_period(y, mo)
        return p if last else Period(p.start, min(p.end, today), p.label)
    if any(w in word for w in ("week", "woche")):
        if last:
            return previous_week(today)
        year, week, _ = today.isocalendar()
        p = week_period(year, week)
        return Period(p.start, today, p.label)
    if any(w in word for w in ("year", "jahr")):
        year = today.year - 1 if last else today.year
        return Period(date(year, 1, 1), date(year, 12, 31) if last else today, str(year))
    return None


def _day(m: re.Match[str], today: date) -> Period:
    word = m.group(0).strip()
    day = today - timedelta(days=1) if word in ("yesterday", "gestern") else today
    return Period(day, day, day.isoformat())


def _iso_range(m: re.Match[str], today: date) -> Period:
    start, end = date.fromisoformat(m.group("a")), date.fromisoformat(m.group("b"))
    return Period(start, end, f"{start} to {end}")


def _since(m: re.Match[str], today: date) -> Period:
    month = MONTHS[m.group("month")]
    year = today.year if month <= today.month else today.year - 1
    start = date(year, month, 1)
    return Period(start, today, f"since {start}")


_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], date], Period | None]], ...] = (
    (re.compile(r"(?:from|von|between|zwischen)\s+(?P<a>\d{4}-\d{2}-\d{2})\s+(?:to|until|bis|and|und)\s+"
                r"(?P<b>\d{4}-\d{2}-\d{2})"), _iso_range),
    (re.compile(r"(?:last|past|previous|in den letzten|letzten|vergangenen)\s+"
                r"(?P<n>\d+|one|two|three|four|five|six|twelve|zwei|drei|vier|fünf|sechs|zwölf)"
                r"\s+(?P<unit>days?|weeks?|months?|years?|tagen?|wochen?|monaten?|jahren?)"),
     _last_n),
    (re.compile(rf"(?:since|seit)\s+(?P<month>{MONTH_NAMES_PATTERN})\b"), _since),
    # "May" and "Mar" are ordinary words: a month name needs a preposition or a year with it.
    (re.compile(rf"\b(?P<month>{MONTH_NAMES_PATTERN})\.?\s+(?P<year>\d{{4}})\b"), _named_month),
    (re.compile(rf"\b(?:in|im|during|for|of|für|über)\s+(?:the month of\s+|monat\s+)?"
                rf"(?P<month>{MONTH_NAMES_PATTERN})\b(?P<year>)"), _named_month),
    (re.compile(r"\b(?:last|previous|this|current|letzte[nmr]?|vorige[nmr]?|vergangene[nmr]?|"
                r"diese[nmr]?|im letzten|im vorigen|in diesem)\s+(?:month|week|year|monat|woche|jahr)"
                r"\b"), _relative),
    (re.compile(r"\b(?:yesterday|today|gestern|heute)\b"), _day),
    (re.compile(r"\b(?P<y>\d{4})-(?P<mo>\d{2})\b(?!-)"),
     lambda m, t: month_period(int(m.group("y")), int(m.group("mo")))
     if 1 <= int(m.group("mo")) <= 12 else None),
    (re.compile(r"\b(?:in|im jahr|im|year)\s+(?P<y>20\d{2}|19\d{2})\b"),
     lambda m, t: Period(date(int(m.group("y")), 1, 1), date(int(m.group("y")), 12, 31),
                         m.group("y"))),
)
