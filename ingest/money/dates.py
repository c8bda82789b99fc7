"""Dates as statement exports write them, and the one decision they need: which format a
column is in, day/month order included, taken from all its values and stated (pure).

"04 Nov 2009", "2012:03:01", "1.2.2026", "20230522", "2018-02-25 12:34:56 +0000", "6/4/2016
10:46", "Dec 31, 2015" all read; times are dropped. A year outside 1950..next year is not a
plausible statement date and fails the file instead of being stored (anonymised exports write
1111/11/11).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date

from ingest.money.amounts import parse_date

_TIME = re.compile(
    r"^(?P<d>.*?\d)(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?"
    r"\s*(?:Z|[+-]\d{2}:?\d{2}|\(?[A-Z]{2,5}\)?)?)$")

# Unambiguous formats first; then the day/month pairs the decision picks from.
FORMATS: tuple[str, ...] = (
    "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y:%m:%d", "%Y%m%d",
    "%d.%m.%Y", "%d.%m.%y", "%m.%d.%Y", "%m.%d.%y",
    "%d/%m/%Y", "%m/%d/%Y", "%d/%m/%y", "%m/%d/%y",
    "%d-%m-%Y", "%m-%d-%Y", "%d-%m-%y", "%m-%d-%y",
    "%d %b %Y", "%d %B %Y", "%d-%b-%Y", "%d-%B-%Y", "%d %b %y", "%d-%b-%y", "%d.%b.%Y",
    "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y", "%d. %B %Y", "%d. %b %Y",
)
_DAY_FIRST = {f for f in FORMATS if f.startswith("%d")}
_MONTH_FIRST = {f for f in FORMATS if f.startswith("%m")}


class DateError(ValueError):
    """No format fits the column, or a date is not plausible (the message names the value)."""


def strip_time(raw: str) -> str:
    s = raw.strip().strip('"')
    m = _TIME.match(s)
    return m.group("d") if m else s


def _fits(values: Sequence[str], fmt: str) -> bool:
    try:
        for v in values:
            parse_date(v, fmt)
    except ValueError:
        return False
    return True


def fitting_formats(values: Iterable[str]) -> tuple[list[str], list[str]]:
    """(formats that read every value, the distinct values tried)."""
    sample = list(dict.fromkeys(strip_time(v) for v in values if v and v.strip()))[:400]
    return ([f for f in FORMATS if sample and _fits(sample, f)], sample)


def _in_order(values: Sequence[str], fmt: str) -> bool:
    try:
        days = [parse_date(v, fmt) for v in values]
    except ValueError:
        return False
    return len(set(days)) > 1 and (days == sorted(days) or days == sorted(days, reverse=True))


def decide_format(values: Sequence[str], *, day_first_hint: bool | None = None,
                  ) -> tuple[str, str | None]:
    """The column's format and, when day/month order had to be decided, the reason.

    Order of evidence: a part over 12 (only one reading fits), the only reading that keeps the
    rows in date order, the file's conventions (`day_first_hint`: decimal comma, ';' delimiter,
    a European currency -> True; US dollars with a decimal point -> False). Without any of
    that the column is ambiguous and DateError says so.
    """
    fits, sample = fitting_formats(values)
    if not fits:
        shown = sample[0] if sample else "?"
        raise DateError(f"dates such as {shown!r} match no known date format")
    day, month = [f for f in fits if f in _DAY_FIRST], [f for f in fits if f in _MONTH_FIRST]
    if not (day and month):
        fmt = fits[0]
        check_plausible(sample, fmt)
        return fmt, None
    ordered = [f for f in (day[0], month[0]) if _in_order([strip_time(v) for v in values if v
                                                            and v.strip()], f)]
    if len(ordered) == 1:
        fmt = ordered[0]
        reason = "the only reading that keeps the rows in date order"
    elif day_first_hint is not None:
        fmt = day[0] if day_first_hint else month[0]
        reason = ("the file's number format and currency" if day_first_hint is not None else "")
    else:
        raise DateError(f"dates such as {sample[0]!r} can be day/month or month/day and nothing "
                        "in the file decides it (set date_format in a profile)")
    check_plausible(sample, fmt)
    order = "day/month" if fmt in _DAY_FIRST else "month/day"
    return fmt, f"dates read as {order} ({reason})"


def check_plausible(values: Sequence[str], fmt: str) -> None:
    """DateError for a year no statement has (1111/11/11 in anonymised exports)."""
    top = date.today().year + 1
    for v in values:
        d = parse_date(v, fmt)
        if not 1950 <= d.year <= top:
            raise DateError(f"date {v!r} (year {d.year}) is not a plausible statement date")


def read_date(raw: str, fmt: str) -> date:
    return parse_date(strip_time(raw), fmt)
