"""A deterministic parser of money questions in English and German (pure, no LLM).

"How much did I spend on groceries in March?" -> sum, direction out, category groceries, March.
"Wie oft war ich letzten Monat bei REWE?" -> count, payee rewe, last month.
Returns None for questions that are not about money, so `ask` can fall back to retrieval.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Literal

from app.money.periods import Period, find_period
from app.money.queries import TxFilter
from ingest.money.amounts import AmountError, parse_amount

Intent = Literal["sum", "count", "list", "top", "unusual", "recurring"]

_MONEY = re.compile(
    r"\b(spen[dt]|spending|expenses?|paid|pay|payments?|costs?|charged?|charges|bought|purchases?|"
    r"transactions?|income|earn(?:ed)?|received|salary|money|bank|subscriptions?|fees?|"
    r"ausgegeben|ausgaben|bezahlt|gezahlt|kosten|gekostet|buchungen|umsätze|umsatz|überweisung\w*|"
    r"einnahmen|gehalt|eingegangen|abos?|abonnements?|lastschrift\w*|gebühren|abgebucht|geld|"
    r"einkauf\w*|eingekauft|shopp(?:ing|ed))\b"
    r"|[€$£]|\b(?:eur|euro|usd|dollars?|chf|gbp)\b",
    re.IGNORECASE,
)
_UNUSUAL = re.compile(r"\b(unusual|strange|odd|suspicious|anomal\w*|unexpected|weird|"
                      r"ungewöhnlich\w*|auffällig\w*|seltsam\w*|verdächtig\w*|komisch\w*|"
                      r"merkwürdig\w*)\b", re.IGNORECASE)
_RECURRING = re.compile(r"\b(subscriptions?|recurring|abos?|abonnements?|wiederkehrend\w*|"
                        r"regelmäßig\w*)\b", re.IGNORECASE)
_COUNT = re.compile(r"\b(how many|how often|number of|wie viele|wie oft|anzahl)\b", re.IGNORECASE)
_SUM = re.compile(r"\b(how much|total|sum|in total|wie ?viel|insgesamt|summe|gesamt)\b",
                  re.IGNORECASE)
_TOP = re.compile(r"\b(top|biggest|largest|most|highest|größte\w*|höchste\w*|meiste\w*|"
                  r"teuerste\w*)\b", re.IGNORECASE)
_BY_CATEGORY = re.compile(r"\b(categor(?:y|ies)|kategorien?|wofür|on what)\b", re.IGNORECASE)
_OUT = re.compile(r"\b(spen[dt]|spending|expenses?|paid|pay|payments?|costs?|charged?|bought|purchases?|"
                  r"ausgegeben|ausgaben|bezahlt|gezahlt|gekostet|kosten|abgebucht|"
                  r"lastschrift\w*|einkauf\w*|eingekauft)\b", re.IGNORECASE)
_IN = re.compile(r"\b(income|earn(?:ed)?|received|salary|got paid|einnahmen|eingegangen|"
                 r"erhalten|gehalt|bekommen|gutschrift\w*)\b", re.IGNORECASE)
_NUM = r"(?P<num>[\d][\d.,']*)"
_CUR = r"(?:\s*(?P<cur>€|\$|£|eur|euro|usd|dollars?|gbp|chf))?"
_MIN = re.compile(rf"\b(?:over|more than|above|greater than|at least|exceeding|über|mehr als|"
                  rf"ab|größer als|mindestens)\s*(?P<pre>[€$£])?\s*{_NUM}{_CUR}", re.IGNORECASE)
_MAX = re.compile(rf"\b(?:under|less than|below|at most|up to|unter|weniger als|bis zu|"
                  rf"höchstens|kleiner als)\s*(?P<pre>[€$£])?\s*{_NUM}{_CUR}", re.IGNORECASE)
_CURRENCY_WORDS = {"€": "EUR", "eur": "EUR", "euro": "EUR", "$": "USD", "usd": "USD",
                   "dollar": "USD", "dollars": "USD", "£": "GBP", "gbp": "GBP", "chf": "CHF"}
_IN_CURRENCY = re.compile(r"\bin\s+(eur|euro|usd|dollars?|gbp|chf)\b", re.IGNORECASE)
_PAYEE = re.compile(
    r"\b(?:at|on|to|from|with|for|by|bei|an|für|von|auf|zu)\s+"
    r"(?P<name>\"[^\"]+\"|'[^']+'|[A-Z0-9ÄÖÜ][\w&.\-ÄÖÜäöüß]*(?:\s+[A-Z0-9ÄÖÜ][\w&.\-ÄÖÜäöüß]*){0,2})"
)
_STOP = {"i", "the", "my", "me", "a", "an", "all", "this", "that", "last", "what", "which",
         "ich", "der", "die", "das", "den", "dem", "mein", "meine", "alle", "letzten", "diesem",
         "how", "wie", "eur", "euro", "usd", "in", "im", "und", "and"}

CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "groceries": ("groceries", "grocery", "supermarket", "food shopping", "lebensmittel",
                  "supermarkt", "einkäufe", "einkauf"),
    "restaurants": ("restaurants", "restaurant", "eating out", "dining", "takeaway", "coffee",
                    "cafe", "essen gehen", "essen", "kaffee", "lieferdienst"),
    "subscriptions": ("subscriptions", "subscription", "streaming", "abos", "abo",
                      "abonnements"),
    "transport": ("transport", "travel", "fuel", "petrol", "gas station", "train", "taxi",
                  "tanken", "benzin", "bahn", "fahrten", "reisen"),
    "utilities": ("utilities", "electricity", "power", "phone", "internet", "strom",
                  "nebenkosten", "telefon", "handy"),
    "insurance": ("insurance", "insurances", "versicherung", "versicherungen"),
    "rent": ("rent", "miete", "housing", "wohnung"),
    "fees": ("fees", "fee", "bank charges", "gebühren", "gebuehren", "entgelte", "zinsen"),
    "cash": ("cash", "atm", "bargeld", "geldautomat"),
    "shopping": ("shopping", "online shopping", "clothes", "kleidung", "shoppen"),
    "salary": ("salary", "wages", "gehalt", "lohn"),
}


@dataclass(frozen=True, slots=True)
class MoneyQuery:
    """What a money question asks, in terms of the typed query functions."""

    intent: Intent
    filter: TxFilter
    period: Period | None = None
    group_by: str | None = None
    limit: int = 20
    understood: tuple[str, ...] = field(default=())


def _amount(m: re.Match[str]) -> Decimal | None:
    raw = m.group("num").rstrip(".,")
    decimal = "," if re.search(r",\d{1,2}$", raw) else "."
    try:
        return abs(parse_amount(raw, decimal=decimal))
    except AmountError:
        return None


def _currency(m: re.Match[str]) -> str | None:
    token = (m.groupdict().get("pre") or m.groupdict().get("cur") or "").lower()
    return _CURRENCY_WORDS.get(token)


def _category(text: str, known: Iterable[str]) -> tuple[str | None, str | None]:
    low = text.lower()
    for cat in sorted(known, key=len, reverse=True):
        if re.search(rf"\b{re.escape(cat.lower())}\b", low):
            return cat, cat
    for cat, words in CATEGORY_WORDS.items():
        for w in words:
            if re.search(rf"\b{re.escape(w)}\b", low):
                return cat, w
    return None, None


def _payee(text: str, merchants: Iterable[str], skip: set[str]) -> str | None:
    low = text.lower()
    for m in sorted(merchants, key=len, reverse=True):
        if len(m) >= 3 and m.lower() not in skip and re.search(rf"\b{re.escape(m.lower())}\b",
                                                               low):
            return m
    for found in _PAYEE.finditer(text):
        name = found.group("name").strip("\"'")
        words = [w for w in name.split() if w.lower() not in _STOP]
        if words and not any(w.lower() in skip for w in words) and not words[0].isdigit():
            return " ".join(words)
    return None


def parse_money_question(question: str, *, today: date, categories: Iterable[str] = (),
                         merchants: Iterable[str] = ()) -> MoneyQuery | None:
    """The money query a question asks, or None when it is not a money question."""
    period, rest = find_period(question, today)
    unusual = bool(_UNUSUAL.search(rest))
    recurring = bool(_RECURRING.search(rest))
    if not (_MONEY.search(question) or (unusual and period)):
        return None
    understood: list[str] = []
    f = TxFilter()
    if period:
        f = replace(f, date_from=period.start, date_to=period.end)
        understood.append(f"period {period.start} to {period.end}")
    direction = "in" if _IN.search(rest) and not _OUT.search(rest) else (
        "out" if _OUT.search(rest) or unusual else None)
    if direction:
        f = replace(f, direction=direction)  # type: ignore[arg-type]
    skip = {w for ws in CATEGORY_WORDS.values() for w in ws} | set(categories)
    for pattern, attr in ((_MIN, "min_amount"), (_MAX, "max_amount")):
        m = pattern.search(rest)
        if m and (value := _amount(m)) is not None:
            f = replace(f, min_amount=value) if attr == "min_amount" else replace(
                f, max_amount=value)
            cur = _currency(m)
            if cur:
                f = replace(f, currency=cur)
            understood.append(f"{attr.replace('_', ' ')} {value}")
            rest = rest[:m.start()] + " " + rest[m.end():]
    m = _IN_CURRENCY.search(rest)
    if m:
        f = replace(f, currency=_CURRENCY_WORDS[m.group(1).lower().rstrip("s")
                                                if m.group(1).lower() != "dollars" else "usd"])
    category, word = _category(rest, categories)
    if recurring and category == "subscriptions":
        category = None  # "which subscription ..." asks about recurring charges, not a category
    if category and not unusual:
        f = replace(f, category=category)
        understood.append(f"category {category}")
    payee = _payee(rest, merchants, skip | ({word} if word else set()))
    if payee:
        f = replace(f, counterparty=payee)
        understood.append(f"payee {payee}")
    if unusual:
        intent: Intent = "unusual"
    elif recurring and not f.counterparty:
        intent = "recurring"
    elif _COUNT.search(rest):
        intent = "count"
    elif _TOP.search(rest):
        intent = "top"
    elif _SUM.search(rest) or (direction and not re.search(r"\b(show|list|which|zeig\w*|"
                                                             r"liste|welche)\b", rest, re.I)):
        intent = "sum"
    else:
        intent = "list"
    group_by = None
    if intent == "top":
        group_by = "category" if _BY_CATEGORY.search(rest) else "merchant"
        if f.direction is None:
            f = replace(f, direction="out")
    return MoneyQuery(intent=intent, filter=f, period=period, group_by=group_by,
                      understood=tuple(understood))
