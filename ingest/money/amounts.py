"""Exact amount and date parsing for statements: decimal commas, signs, date-format sniffing (pure)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

# Spaces used as thousands separators: ASCII, no-break, narrow no-break, thin; apostrophes (CH).
_GROUPING = str.maketrans("", "", " \u00a0\u202f\u2009'\u2019")
_CURRENCY = re.compile(r"^[A-Z]{3}\s*|\s*[A-Z]{3}$|[€$£¥₣₤₽₹]|\bCHF\b|\bEUR\b|\bUSD\b|\bGBP\b")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


class AmountError(ValueError):
    """An amount that is not a number (the message names the value)."""


class DateFormatError(ValueError):
    """A date column whose values fit no known format."""


def sniff_decimal(values: Iterable[str]) -> str:
    """Which character is the decimal separator in these amounts: "," or "."."""
    votes = {",": 0, ".": 0}
    for raw in values:
        s = _strip(raw)
        if not s:
            continue
        last_comma, last_dot = s.rfind(","), s.rfind(".")
        if last_comma >= 0 and last_dot >= 0:
            votes["," if last_comma > last_dot else "."] += 2
        else:
            for sep, other in ((",", "."), (".", ",")):
                pos = s.rfind(sep)
                if pos < 0:
                    continue
                tail = len(s) - pos - 1
                if tail != 3:  # "12,5" / "12,50": a decimal separator
                    votes[sep] += 2
                elif s.count(sep) > 1:  # "1,234,567": grouping, so the other one is decimal
                    votes[other] += 2
                # a single "1,234" says nothing
    return "," if votes[","] > votes["."] else "."


def _strip(raw: str) -> str:
    s = raw.strip().translate(_GROUPING)
    s = _CURRENCY.sub("", s).strip()
    return s


def decimal_of(raw: str, default: str) -> str:
    """The decimal mark of one value when the value itself shows it ("1.234,56", "-1,00",
    "12.5", "-1.2108"), else `default` ("1,234" and "1.234" may be thousands).
    Exports that mix "-1,00" and "-1.00" in one column (DEGIRO) read right this way."""
    s = raw.strip()
    comma, dot = s.rfind(","), s.rfind(".")
    if comma >= 0 and dot >= 0:
        return "," if comma > dot else "."
    pos = max(comma, dot)
    if pos < 0:
        return default
    digits = len(re.match(r"\d*", s[pos + 1:]).group())  # type: ignore[union-attr]
    if digits != 3 and s.count(s[pos]) == 1:  # only 3 digits could be a thousands group
        return s[pos]
    return default


def parse_amount(raw: str, *, decimal: str = ".", flexible: bool = False) -> Decimal:
    """Parse "1.234,56", "-12,50", "12,50-", "(12.50)", "+1,234.56 EUR" exactly.

    With `flexible`, a value that shows its own decimal mark uses it (see `decimal_of`).
    Raises AmountError naming the value when it is not a number.
    """
    if flexible:
        decimal = decimal_of(_strip(raw), decimal)
    s = _strip(raw)
    if not s:
        raise AmountError(f"empty amount {raw!r}")
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    if s.endswith("-"):  # trailing minus (some German exports)
        negative, s = not negative, s[:-1].strip()
    elif s.endswith("+"):
        s = s[:-1].strip()
    if s[:1] in "+-\u2212":
        negative = negative != (s[0] in "-\u2212")
        s = s[1:].strip()
    group = "." if decimal == "," else ","
    s = s.replace(group, "")
    if decimal == ",":
        s = s.replace(",", ".")
    if s.startswith("."):
        s = "0" + s
    if s.endswith("."):
        s = s[:-1]
    if not _NUMBER.match(s):
        raise AmountError(f"not an amount: {raw.strip()!r}")
    try:
        value = Decimal(s)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards
        raise AmountError(f"not an amount: {raw.strip()!r}") from exc
    return -value if negative else value


def money(value: Decimal) -> Decimal:
    """At least two decimal places, exact (never rounds: 1.005 stays 1.005)."""
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        return value
    return value.quantize(Decimal("0.01"))


# Candidate formats, most specific first. Day-first before month-first (most of our banks).
DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d.%m.%Y",
    "%d.%m.%y",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y/%m/%d",
    "%Y%m%d",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%d-%b-%Y",
)


@functools.lru_cache(maxsize=8192)
def parse_date(raw: str, fmt: str) -> date:
    """strptime, cached: a statement repeats the same few hundred dates thousands of times."""
    return datetime.strptime(raw.strip(), fmt).date()


def _fits(values: Sequence[str], fmt: str) -> bool:
    try:
        for v in values:
            parse_date(v, fmt)
    except ValueError:
        return False
    return True


def sniff_date_format(
    values: Iterable[str], *, prefer_day_first: bool = True
) -> tuple[str, bool]:
    """The format that parses every value, and whether another format fit as well (ambiguous).

    Raises DateFormatError when no format fits all values.
    """
    # Distinct values only (dates repeat), at most 500 of them: enough to tell formats apart.
    sample = list(dict.fromkeys(v.strip() for v in values if v and v.strip()))[:500]
    if not sample:
        raise DateFormatError("no dates to read")
    fits = [f for f in DATE_FORMATS if _fits(sample, f)]
    if not fits:
        raise DateFormatError(f"dates such as {sample[0]!r} match no known date format")
    if not prefer_day_first:
        month_first = [f for f in fits if f.startswith("%m")]
        if month_first:
            return month_first[0], len(fits) > 1
    return fits[0], len(fits) > 1


def yymmdd(raw: str) -> date:
    """SWIFT YYMMDD (years 00-79 are 20xx, 80-99 19xx)."""
    yy, mm, dd = int(raw[0:2]), int(raw[2:4]), int(raw[4:6])
    return date(2000 + yy if yy < 80 else 1900 + yy, mm, dd)
