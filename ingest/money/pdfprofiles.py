r"""PDF statement layouts: the built-in line profiles and the owner's TOML profiles (pure).

A profile says how a transaction line reads in a statement's text layer: a regular expression
with named groups `date`, `text` and `amount` (optional: `value_date`, `balance`, and `dc`, a
debit/credit marker such as "S"/"H" or "DR"/"CR" printed beside an unsigned amount), the date
formats, the decimal separator, and where the opening and closing balances stand. The owner
adds layouts as [[pdf_profile]] tables in the same file as the CSV profiles, for example::

    [[pdf_profile]]
    name = "my-volksbank"
    # matched against each stripped line from its start; end it with $ to take the whole line
    line = '(?P<date>\d{2}\.\d{2}\.)\s+(?P<text>.+?)\s+(?P<amount>[\d.]+,\d{2})\s+(?P<dc>[SH])$'
    date_formats = ["%d.%m."]        # a format without a year takes the statement's year
    decimal = ","
    opening = 'alter Kontostand vom [\d.]+\s+(?P<amount>[\d.]+,\d{2})\s*(?P<dc>[SH])?'
    closing = 'neuer Kontostand vom [\d.]+\s+(?P<amount>[\d.]+,\d{2})\s*(?P<dc>[SH])?'
    detect = "Volksbank Musterstadt"  # optional: only PDFs whose text matches use this profile
    currency = "EUR"                  # optional: else the first EUR/USD/GBP/CHF in the text
    institution = "Volksbank Musterstadt"
    debit_markers = ["S"]             # a `dc` group reading S makes the amount negative
    credit_markers = ["H"]

`opening` and `closing` are optional and matched case-insensitively, with a group `amount`
(and optionally `dc`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.errors import ConfigError
from app.core.toml_file import read_toml

_AMT_COMMA = r"[-+]?\d{1,3}(?:\.\d{3})*,\d{2}[-+]?"
_AMT_DOT = r"[-+]?\d{1,3}(?:,\d{3})*\.\d{2}[-+]?"
_CURRENCY = re.compile(r"\b(EUR|USD|GBP|CHF)\b")


@dataclass(frozen=True, slots=True)
class PdfProfile:
    """How one statement layout reads. `line` has groups date, text, amount[, balance, dc]."""

    name: str
    line: re.Pattern[str]
    date_formats: tuple[str, ...]
    decimal: str
    opening: re.Pattern[str] | None
    closing: re.Pattern[str] | None
    currency: re.Pattern[str] = _CURRENCY
    detect: re.Pattern[str] | None = None  # text that identifies the bank (None: generic)
    institution: str | None = None
    account_currency: str | None = None  # the owner's fixed currency, used instead of `currency`
    # upper-case markers a `dc` group may read: debit makes the amount negative, credit positive
    debit_markers: tuple[str, ...] = ()
    credit_markers: tuple[str, ...] = ()


_DE_DATE = r"\d{2}\.\d{2}\.(?:\d{4}|\d{2})?"
GENERIC_DE = PdfProfile(
    name="generic-de",
    line=re.compile(
        rf"^(?P<date>{_DE_DATE})\s+(?:(?P<value_date>{_DE_DATE})\s+)?(?P<text>.+?)\s+"
        rf"(?P<amount>{_AMT_COMMA})(?:\s*(?:EUR|€))?(?:\s+(?P<balance>{_AMT_COMMA}))?\s*$"
    ),
    date_formats=("%d.%m.%Y", "%d.%m.%y", "%d.%m."),
    decimal=",",
    opening=re.compile(rf"(?:alter kontostand|anfangssaldo|saldo alt)\D*?(?P<amount>{_AMT_COMMA})",
                       re.IGNORECASE),
    closing=re.compile(rf"(?:neuer kontostand|endsaldo|saldo neu)\D*?(?P<amount>{_AMT_COMMA})",
                       re.IGNORECASE),
)
_EN_DATE = r"\d{4}-\d{2}-\d{2}|\d{2}/\d{2}/\d{4}"
GENERIC_EN = PdfProfile(
    name="generic-en",
    line=re.compile(
        rf"^(?P<date>{_EN_DATE})\s+(?:(?P<value_date>{_EN_DATE})\s+)?(?P<text>.+?)\s+"
        rf"(?P<amount>{_AMT_DOT})"
        rf"(?:\s+(?P<balance>{_AMT_DOT}))?\s*$"
    ),
    date_formats=("%Y-%m-%d", "%m/%d/%Y"),
    decimal=".",
    opening=re.compile(rf"(?:opening|previous|starting) balance\D*?(?P<amount>{_AMT_DOT})",
                       re.IGNORECASE),
    closing=re.compile(rf"(?:closing|new|ending) balance\D*?(?P<amount>{_AMT_DOT})",
                       re.IGNORECASE),
)

# German layouts that print an unsigned amount with S (Soll, debit) or H (Haben, credit) after
# it, balances too ("alter Kontostand vom 31.01.2026 1.234,56 H"); dates with or without year.
DE_SOLL_HABEN = PdfProfile(
    name="de-soll-haben",
    line=re.compile(
        rf"^(?P<date>{_DE_DATE})\s+(?:(?P<value_date>{_DE_DATE})\s+)?(?P<text>.+?)\s+"
        rf"(?P<amount>{_AMT_COMMA})(?:\s*(?:EUR|€))?\s*(?P<dc>[SH])"
        rf"(?:\s+(?P<balance>{_AMT_COMMA})\s*[SH]?)?\s*$"
    ),
    date_formats=("%d.%m.%Y", "%d.%m.%y", "%d.%m."),
    decimal=",",
    opening=re.compile(
        rf"(?:alter kontostand|anfangssaldo|saldo alt)(?:\s+(?:vom|am|per))?(?:\s+{_DE_DATE})?"
        rf"\D*?(?P<amount>{_AMT_COMMA})(?:\s*(?:EUR|€))?\s*(?P<dc>[SH])?\b", re.IGNORECASE),
    closing=re.compile(
        rf"(?:neuer kontostand|endsaldo|saldo neu)(?:\s+(?:vom|am|per))?(?:\s+{_DE_DATE})?"
        rf"\D*?(?P<amount>{_AMT_COMMA})(?:\s*(?:EUR|€))?\s*(?P<dc>[SH])?\b", re.IGNORECASE),
    debit_markers=("S",),
    credit_markers=("H",),
)

# Day and English month name, with or without year ("03 Feb 2026", "03-Feb", "3 Feb").
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_EN_DAY_MONTH = rf"\d{{1,2}}[ -]{_MONTH}(?:[ -]\d{{4}})?"
_EN_DAY_MONTH_FORMATS = ("%d %b %Y", "%d-%b-%Y", "%d %b", "%d-%b")
_EN_BAL_DATE = rf"(?:\s+(?:on|at|as at|as of))?(?:\s+(?:{_EN_DAY_MONTH}|\d{{4}}-\d{{2}}-\d{{2}}))?"


def _en_balance(words: str, marker: str) -> re.Pattern[str]:
    return re.compile(rf"(?:{words}){_EN_BAL_DATE}\D*?(?P<amount>{_AMT_DOT}){marker}",
                      re.IGNORECASE)


_EN_OPENING = r"(?:opening|previous|starting) balance|balance brought forward"
_EN_CLOSING = r"(?:closing|new|ending) balance|balance carried forward"
# English layouts that print an unsigned amount with DR (debit) or CR (credit) after it.
# Slash dates are left out on purpose: 03/02/2026 is February to some banks and March to
# others, and a wrong guess would file rows under the wrong day without any error.
EN_DR_CR = PdfProfile(
    name="en-dr-cr",
    line=re.compile(
        rf"^(?P<date>{_EN_DAY_MONTH}|\d{{4}}-\d{{2}}-\d{{2}})\s+(?P<text>.+?)\s+"
        rf"(?P<amount>{_AMT_DOT})\s*(?P<dc>(?i:dr|cr))"
        rf"(?:\s+(?P<balance>{_AMT_DOT})(?:\s*(?i:dr|cr))?)?\s*$"
    ),
    date_formats=("%Y-%m-%d", *_EN_DAY_MONTH_FORMATS),
    decimal=".",
    opening=_en_balance(_EN_OPENING, r"(?:\s*(?P<dc>dr|cr)\b)?"),
    closing=_en_balance(_EN_CLOSING, r"(?:\s*(?P<dc>dr|cr)\b)?"),
    debit_markers=("DR",),
    credit_markers=("CR",),
)
# English layouts with day-month-name dates and signed amounts ("03 Feb Coffee -4.50 1,230.00").
EN_DAY_MONTH = PdfProfile(
    name="en-day-month",
    line=re.compile(
        rf"^(?P<date>{_EN_DAY_MONTH})\s+(?P<text>.+?)\s+(?P<amount>{_AMT_DOT})"
        rf"(?:\s+(?P<balance>{_AMT_DOT}))?\s*$"
    ),
    date_formats=_EN_DAY_MONTH_FORMATS,
    decimal=".",
    opening=_en_balance(_EN_OPENING, ""),
    closing=_en_balance(_EN_CLOSING, ""),
)

# Order breaks ties between profiles whose lines add up equally well and that read equally many
# lines (see pdfparse.parse_pdf_text): a marker layout first, because a line it reads
# ("45,10 S 1.234,56") can also be misread by the generic profile as text "45,10 S" and amount
# 1.234,56, never the other way round.
BUILTIN_PDF_PROFILES: tuple[PdfProfile, ...] = (
    DE_SOLL_HABEN, EN_DR_CR, GENERIC_DE, GENERIC_EN, EN_DAY_MONTH,
)

_KEYS = ("name", "line", "date_formats", "decimal", "opening", "closing", "detect", "currency",
         "institution", "debit_markers", "credit_markers")
_REQUIRED = ("name", "line", "date_formats", "decimal")
_LINE_GROUPS = ("date", "text", "amount")


def load_pdf_profiles(path: Path | None) -> tuple[PdfProfile, ...]:
    """The owner's PDF layouts ([[pdf_profile]] tables); none if the file is absent.

    Raises ConfigError naming the file, the profile and the field.
    """
    data = read_toml(path)
    if data is None:
        return ()
    tables = data.get("pdf_profile", [])
    if not isinstance(tables, list):
        raise ConfigError(f"{path}: pdf_profile must be [[pdf_profile]] tables")
    return tuple(pdf_profile_from_dict(t, where=f"{path}: pdf_profile #{i}")
                 for i, t in enumerate(tables, start=1))


def pdf_profile_from_dict(raw: dict[str, Any], *, where: str = "pdf_profile") -> PdfProfile:
    """Build and check one owner profile; `where` starts every error message."""
    name = raw.get("name")
    if isinstance(name, str) and name.strip():
        where = f"{where} {name.strip()!r}"

    def fail(field: str, problem: str) -> ConfigError:
        return ConfigError(f"{where}: {field}: {problem}")

    unknown = sorted(set(raw) - set(_KEYS))
    if unknown:
        raise fail(unknown[0], f"unknown key (known: {', '.join(_KEYS)})")
    for key in _REQUIRED:
        if key not in raw:
            raise fail(key, "missing")
    if not isinstance(name, str) or not name.strip():
        raise fail("name", "must be a non-empty string")
    if raw["decimal"] not in (",", "."):
        raise fail("decimal", f'must be "," or ".", not {raw["decimal"]!r}')
    formats = raw["date_formats"]
    formats = [formats] if isinstance(formats, str) else formats
    if (not isinstance(formats, list) or not formats
            or not all(isinstance(f, str) and "%" in f for f in formats)):
        raise fail("date_formats", 'must be a list of strptime formats such as ["%d.%m.%Y"]')
    line = _pattern(raw["line"], fail, "line", groups=_LINE_GROUPS, flags=0)
    opening, closing = (
        _pattern(raw[k], fail, k, groups=("amount",), flags=re.IGNORECASE) if k in raw else None
        for k in ("opening", "closing")
    )
    detect = _pattern(raw["detect"], fail, "detect", groups=(), flags=0) if "detect" in raw else None
    debit, credit = (_markers(raw.get(k, []), fail, k) for k in ("debit_markers", "credit_markers"))
    with_dc = [p for p in (line, opening, closing) if p is not None and "dc" in p.groupindex]
    if with_dc and not (debit or credit):
        raise fail("debit_markers", "needed because a pattern has a (?P<dc>...) group")
    if (debit or credit) and not with_dc:
        raise fail("line", "has no (?P<dc>...) group to read the debit/credit markers from")
    if set(debit) & set(credit):
        raise fail("credit_markers", "a marker cannot be both debit and credit")
    currency = raw.get("currency")
    if currency is not None and not (isinstance(currency, str)
                                     and re.fullmatch(r"[A-Z]{3}", currency)):
        raise fail("currency", f"must be a three-letter code such as \"EUR\", not {currency!r}")
    institution = raw.get("institution")
    if institution is not None and not isinstance(institution, str):
        raise fail("institution", "must be a string")
    return PdfProfile(
        name=name.strip(), line=line, date_formats=tuple(formats), decimal=raw["decimal"],
        opening=opening, closing=closing, detect=detect, institution=institution,
        account_currency=currency, debit_markers=debit, credit_markers=credit,
    )


def _pattern(value: Any, fail: Any, field: str, *, groups: tuple[str, ...],
             flags: int) -> re.Pattern[str]:
    if not isinstance(value, str) or not value:
        raise fail(field, "must be a regular expression in a string")
    try:
        pattern = re.compile(value, flags)
    except re.error as exc:
        raise fail(field, f"bad regular expression ({exc})") from exc
    missing = [g for g in groups if g not in pattern.groupindex]
    if missing:
        need = ", ".join(f"(?P<{g}>...)" for g in missing)
        raise fail(field, f"the regular expression needs the named group(s) {need}")
    return pattern


def _markers(value: Any, fail: Any, field: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v.strip() for v in items):
        raise fail(field, 'must be a list of marker strings such as ["S"]')
    return tuple(v.strip().upper() for v in items)
