"""Figures in a model's answer checked against the results it was given (pure).

A language model only words a money answer; every amount in its text must come from a computed
result or an offered source. `unverified_figures(answer, sources)` returns the amounts written
in `answer` that none of `sources` contains, allowing formatting differences: 1,234.50,
1.234,50, 1234.5, 1 234,50 and "EUR 1234.50" are the same figure; a sign is ignored
(money out is negative in the rows, positive in prose). Amounts are numbers with a currency next
to them, with cents, or with thousands separators; dates, times, percentages, citation markers
and plain counts ("3 transactions") are not amounts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

_SEP = "[.,'’\u00a0\u202f ]"  # thousands separators (a space too: 1 234,50)
_NUM = re.compile(rf"(?<![\w.,/:])(?<!\d-)(?:\d{{1,3}}(?:{_SEP}\d{{3}})+(?:[.,]\d{{1,2}})?"
                  rf"|\d+(?:[.,]\d{{1,3}})?)(?![\w%]|[.,/:-]\d|\])")
# Dates and times are blanked first: 15.11.2026, 2026-11-15, 15/11/26, 15.11., 12:30.
_NOT_AMOUNTS = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b|"
                          r"\b\d{1,2}\.\d{1,2}\.(?!\d)|\b\d{1,2}:\d{2}(?::\d{2})?\b|"
                          r"\[\d+(?:-\d+)?\]|\b\d{4}-W\d{1,2}\b")
_CURRENCY_BEFORE = re.compile(r"(?:[€$£¥]|\b[A-Z]{3}|\b(?:Fr|CHF|R\$))\s?[-−+]?\s?$")
_CURRENCY_AFTER = re.compile(r"^\s?(?:[€$£¥]|(?-i:[A-Z]{3})\b|"
                             r"(?:euros?|dollars?|pounds?|francs?|cents?)\b)", re.IGNORECASE)
MAX_FIGURES = 200


def values(number: str) -> frozenset[Decimal]:
    """The amounts a written number may mean ("1,234" is 1234 or 1.234; "1.234,50" is 1234.50)."""
    raw = re.sub(r"['’\u00a0\u202f ]", "", number)
    dots, commas = raw.count("."), raw.count(",")
    if dots and commas:
        dec = "." if raw.rfind(".") > raw.rfind(",") else ","
        readings = [raw.replace("," if dec == "." else ".", "").replace(dec, ".")]
    elif dots + commas == 0:
        readings = [raw]
    elif dots + commas > 1:
        readings = [raw.replace(".", "").replace(",", "")]
    else:
        whole, frac = re.split(r"[.,]", raw)
        readings = [f"{whole}.{frac}"]
        if len(frac) == 3:
            readings.append(whole + frac)  # a thousands separator
    out: set[Decimal] = set()
    for r in readings:
        try:
            out.add(abs(Decimal(r)))
        except InvalidOperation:
            continue
    return frozenset(out)


def _blank(text: str) -> str:
    return _NOT_AMOUNTS.sub(lambda m: " " * len(m.group(0)), text)


def figures(text: str) -> list[tuple[str, frozenset[Decimal]]]:
    """The amounts written in `text`: (as written, with an adjacent currency; its values)."""
    blanked = _blank(text)
    out: list[tuple[str, frozenset[Decimal]]] = []
    for m in _NUM.finditer(blanked):
        number = m.group(0)
        before = _CURRENCY_BEFORE.search(blanked[max(0, m.start() - 6):m.start()])
        after = _CURRENCY_AFTER.match(blanked[m.end():m.end() + 9])
        grouped = bool(re.search(rf"\d{_SEP}\d{{3}}(?!\d)", number)) and len(number) > 4
        cents = bool(re.search(r"[.,]\d{2}$", number))
        if not (before or after or cents or grouped):
            continue
        shown = ((before.group(0) if before else "") + number
                 + (after.group(0) if after else "")).strip()
        out.append((shown, values(number)))
        if len(out) >= MAX_FIGURES:
            break
    return out


def source_values(texts: Iterable[str]) -> frozenset[Decimal]:
    """Every number the sources contain, in every reading (counts and plain numbers too: an
    answer may write "EUR 30" where a row says "30")."""
    found: set[Decimal] = set()
    for text in texts:
        for m in _NUM.finditer(_blank(text)):
            found |= values(m.group(0))
    return frozenset(found)


def unverified_figures(answer: str, sources: Iterable[str]) -> list[str]:
    """The amounts in `answer` that no source contains (as written, each once, in order)."""
    known = source_values(sources)
    out: dict[str, None] = {}
    for shown, vals in figures(answer):
        if not vals & known:
            out.setdefault(shown)
    return list(out)
