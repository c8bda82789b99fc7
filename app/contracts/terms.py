"""Contract key terms as validated values, and the parsing of dates, periods and money (pure).

Both extractors (rules and LLM) produce `ContractTerms`; every value passes through the
validators here, so a date is a real calendar date in a plausible range, a period is a positive
count of days/weeks/months/years, and an amount is an exact Decimal with an ISO currency.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from app.core.months import MONTH_NAMES_PATTERN, MONTHS

UNITS = ("days", "weeks", "months", "years")
RHYTHMS = ("once", "weekly", "monthly", "quarterly", "half-yearly", "yearly")
AFTER_TERM = ("renews", "ends", "open_ended")
EARLIEST = date(1950, 1, 1)
LATEST = date(2150, 12, 31)
MAX_AMOUNT = Decimal("1000000000")


@dataclass(frozen=True, slots=True)
class Period:
    """A positive length of time in one unit."""

    count: int
    unit: str  # days | weeks | months | years

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unknown period unit {self.unit!r}")
        if not 0 < self.count <= (3650 if self.unit == "days" else 600):
            raise ValueError(f"implausible period {self.count} {self.unit}")

    @property
    def months(self) -> int | None:
        """Whole months (years × 12), None for days/weeks."""
        if self.unit == "months":
            return self.count
        if self.unit == "years":
            return self.count * 12
        return None

    def iso(self) -> str:
        return {"days": f"P{self.count}D", "weeks": f"P{self.count}W", "months": f"P{self.count}M",
                "years": f"P{self.count}Y"}[self.unit]

    def label(self) -> str:
        unit = self.unit[:-1] if self.count == 1 else self.unit
        return f"{self.count} {unit}"

    def after(self, day: date) -> date:
        return shift(day, self, sign=1)

    def before(self, day: date) -> date:
        return shift(day, self, sign=-1)


def add_months(day: date, months: int) -> date:
    """Calendar months later (or earlier), clamped to the month's last day (31 Jan + 1 → 28 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def shift(day: date, period: Period, *, sign: int) -> date:
    if period.unit == "days":
        return day + timedelta(days=sign * period.count)
    if period.unit == "weeks":
        return day + timedelta(weeks=sign * period.count)
    return add_months(day, sign * (period.months or 0))


def month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a value was found: the chunk (and page) and the sentence that says it."""

    chunk_id: int | None
    page: int | None
    quote: str

    def to_json(self) -> dict[str, Any]:
        return {"chunk_id": self.chunk_id, "page": self.page, "quote": self.quote}


@dataclass(frozen=True, slots=True)
class Amount:
    value: Decimal
    currency: str
    rhythm: str | None
    citation: Citation | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"amount": str(self.value), "currency": self.currency,
                               "rhythm": self.rhythm}
        if self.citation is not None:
            out["citation"] = self.citation.to_json()
        return out


@dataclass(frozen=True, slots=True)
class ContractTerms:
    """Key terms of one contract; `citations` maps a field name to where it was found."""

    method: str  # rules | llm
    parties: tuple[str, ...] = ()
    start_date: date | None = None
    term: Period | None = None
    renewal: Period | None = None
    after_term: str | None = None
    notice: Period | None = None
    notice_to_month_end: bool = False
    end_date: date | None = None
    amounts: tuple[Amount, ...] = ()
    payment_rhythm: str | None = None
    citations: Mapping[str, Citation] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    model: str | None = None

    @property
    def found(self) -> list[str]:
        names = ("parties", "start_date", "term", "renewal", "notice", "end_date", "amounts")
        return [n for n in names if getattr(self, n)]


# -- parsing helpers used by both extractors ----------------------------------------------------
DATE_PATTERN = (
    r"(?:\d{4}-\d{1,2}-\d{1,2}"
    r"|\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}"
    r"|\d{1,2}/\d{1,2}/\d{4}"
    rf"|\d{{1,2}}\.?\s+(?:{MONTH_NAMES_PATTERN})\.?,?\s+\d{{4}}"
    rf"|(?:{MONTH_NAMES_PATTERN})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"
)
_DATE_RE = re.compile(DATE_PATTERN, re.I)


def parse_date_text(text: str) -> date | None:
    """A date written the usual English or German ways; None when not a valid, plausible date."""
    text = text.strip().rstrip(".,")
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if m:
        return _valid(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = re.fullmatch(r"(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{2,4})", text)
    if m:
        return _valid(_year(m.group(3)), int(m.group(2)), int(m.group(1)))
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if m:  # day first: the household's documents are European
        return _valid(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    m = re.fullmatch(r"(\d{1,2})\.?\s+([A-Za-zäÄ]+)\.?,?\s+(\d{4})", text)
    if m and m.group(2).lower() in MONTHS:
        return _valid(int(m.group(3)), MONTHS[m.group(2).lower()], int(m.group(1)))
    m = re.fullmatch(r"([A-Za-zäÄ]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", text)
    if m and m.group(1).lower() in MONTHS:
        return _valid(int(m.group(3)), MONTHS[m.group(1).lower()], int(m.group(2)))
    return None


def find_date(text: str) -> tuple[date, int, int] | None:
    """The first valid date in `text` with its span."""
    for m in _DATE_RE.finditer(text):
        value = parse_date_text(m.group(0))
        if value is not None:
            return value, m.start(), m.end()
    return None


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 100 else year


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        value = date(year, month, day)
    except ValueError:
        return None
    return value if EARLIEST <= value <= LATEST else None


def parse_iso_date(value: object) -> date | None:
    """Strict YYYY-MM-DD (what the LLM must answer); None for anything else or out of range."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return None
    return parse_date_text(value)


def parse_amount(text: str) -> Decimal | None:
    """'1.234,56', '1,234.56', '850,00', '19.99', '1 200' → Decimal; None when not a number."""
    raw = re.sub(r"[\s\u00a0\u202f']", "", text.strip())
    raw = raw.rstrip(",-–").removesuffix(",—")
    if not re.fullmatch(r"\d[\d.,]*", raw):
        return None
    if "," in raw and "." in raw:
        decimal_sep = "," if raw.rfind(",") > raw.rfind(".") else "."
    elif "," in raw or "." in raw:
        sep = "," if "," in raw else "."
        tail = raw.rpartition(sep)[2]
        # "1.234.567" and "1.234" group thousands; "850,00", "19.99", "12,5" have decimals.
        decimal_sep = "" if raw.count(sep) > 1 or len(tail) == 3 else sep
    else:
        decimal_sep = ""
    thousands = {",", "."} - {decimal_sep}
    for sep in thousands:
        raw = raw.replace(sep, "")
    if decimal_sep:
        raw = raw.replace(decimal_sep, ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    return value if Decimal(0) < value < MAX_AMOUNT else None


CURRENCIES = {"€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "$": "USD", "usd": "USD",
              "£": "GBP", "gbp": "GBP", "chf": "CHF", "fr.": "CHF", "sfr": "CHF"}


def currency_code(text: str) -> str | None:
    value = text.strip().lower()
    if value in CURRENCIES:
        return CURRENCIES[value]
    return value.upper() if re.fullmatch(r"[a-z]{3}", value) and value.upper() in _ISO else None


_ISO = frozenset(["EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "JPY", "CAD", "AUD"])
