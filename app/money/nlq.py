"""A deterministic parser of money questions in English and German (pure, no LLM).

"How much did I spend on groceries in March?" -> sum, direction out, category groceries, March.
"Wie oft war ich letzten Monat bei REWE?" -> count, payee rewe, last month.
"How much did I pay for the bike?" -> sum, direction out, subject "bike" (payee ~ bike).
Returns None for questions that are not about money, so `ask` can fall back to retrieval.

Besides period, category, amounts (over/under/exact), currency and account, a question names
what the money went to in its own words ("the bike", "Joe's Bald Hairstyles", "the electricity
back-payment"): the words left once every known word is taken out become the `Subject`, read as
a payee filter; `app.money.facts.resolve` finds which reading of it matches rows (the phrase,
each word with its translations) or reports that none does.
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
from app.money.vocabulary import NOISE
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
# Money words that also say what the money was for: they make a money question and stay in its
# subject ("the electricity back-payment" -> text ~ back-payment|nachzahlung).
_PURPOSE = re.compile(r"\b(refunds?|refunded|nachzahlung\w*|(?:rück)?erstattung\w*|abschlag\w*|"
                      r"back-?payments?|deposit|kaution|dividends?|dividende\w*)\b", re.IGNORECASE)
# Holdings questions ("what is my portfolio worth", "which dividends did I receive"): answered by
# the holdings tools with an LLM, not by the transaction filters.
HOLDINGS = re.compile(r"\b(portfolio|holdings?|securit(?:y|ies)|shares?|stocks?|funds?|etfs?|"
                      r"dividends?|invest\w*|brokerage|depot\w*|wertpapier\w*|aktien?|"
                      r"dividende\w*|fonds)\b", re.IGNORECASE)
_UNUSUAL = re.compile(r"\b(unusual|strange|odd|suspicious|anomal\w*|unexpected|weird|"
                      r"ungewöhnlich\w*|auffällig\w*|seltsam\w*|verdächtig\w*|komisch\w*|"
                      r"merkwürdig\w*)\b", re.IGNORECASE)
_RECURRING = re.compile(r"\b(subscriptions?|recurring|abos?|abonnements?|wiederkehrend\w*|"
                        r"regelmäßig\w*)\b", re.IGNORECASE)
_COUNT = re.compile(r"\b(how many|how often|number of|wie viele|wie oft|anzahl)\b", re.IGNORECASE)
_SUM = re.compile(r"\b(how much|how high|wie hoch|total|sum|in total|wie ?viel|insgesamt|summe|gesamt)\b",
                  re.IGNORECASE)
_TOP = re.compile(r"\b(top|biggest|largest|most|highest|größte\w*|höchste\w*|meiste\w*|"
                  r"teuerste\w*)\b", re.IGNORECASE)
_BY_CATEGORY = re.compile(r"\b(categor(?:y|ies)|kategorien?|wofür|on what)\b", re.IGNORECASE)
_OUT = re.compile(r"\b(spen[dt]|spending|expenses?|paid|pay|payments?|costs?|charged?|bought|purchases?|"
                  r"ausgegeben|ausgaben|bezahlt|gezahlt|gekostet|kosten|abgebucht|"
                  r"lastschrift\w*|einkauf\w*|eingekauft)\b", re.IGNORECASE)
_IN = re.compile(r"\b(income|earn(?:ed)?|received|salary|got paid|refunds?|refunded|einnahmen|eingegangen|"
                 r"erhalten|gehalt|bekommen|gutschrift\w*)\b", re.IGNORECASE)
_NUM = r"(?P<num>[\d][\d.,']*)"
_CUR = r"(?:\s*(?P<cur>€|\$|£|euros?\b|eur\b|usd\b|dollars?\b|gbp\b|chf\b))?"
_MIN = re.compile(rf"\b(?:over|more than|above|greater than|at least|exceeding|über|mehr als|"
                  rf"ab|größer als|mindestens)\s*(?P<pre>[€$£])?\s*{_NUM}{_CUR}", re.IGNORECASE)
_MAX = re.compile(rf"\b(?:under|less than|below|at most|up to|unter|weniger als|bis zu|"
                  rf"höchstens|kleiner als)\s*(?P<pre>[€$£])?\s*{_NUM}{_CUR}", re.IGNORECASE)
_CURRENCY_WORDS = {"€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "$": "USD",
                   "usd": "USD",
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
class Subject:
    """What a question names the money by, in its own words.

    phrase: as written ("Joe's Bald Hairstyles", "BAIN, J MATTHEW", "back-payment");
    words: its content words; name: all capitalised (a proper name: every word must match)."""

    phrase: str
    words: tuple[str, ...]
    name: bool = False


@dataclass(frozen=True, slots=True)
class MoneyQuery:
    """What a money question asks, in terms of the typed query functions.

    `subject`: the question's own words for the payee or purpose, already in
    `filter.counterparty` as a phrase; `facts.resolve` tries its other readings."""

    intent: Intent
    filter: TxFilter
    period: Period | None = None
    group_by: str | None = None
    limit: int = 20
    understood: tuple[str, ...] = field(default=())
    subject: Subject | None = None


def _amount(m: re.Match[str]) -> Decimal | None:
    groups = m.groupdict()
    raw = (groups.get("num") or groups.get("num2") or groups.get("num3") or "").rstrip(".,")
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
    if period is None:
        period, rest = _find_day(question)
    unusual = bool(_UNUSUAL.search(rest))
    recurring = bool(_RECURRING.search(rest))
    if not (_MONEY.search(question) or _PURPOSE.search(question) or (unusual and period)):
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
    categories = list(categories)
    skip = {w for ws in CATEGORY_WORDS.values() for w in ws} | set(categories)
    account = read_account(rest)
    if account:
        f = replace(f, account=account)
        understood.append(f"account {account}")
        rest = _ACCOUNT.sub(" ", rest)
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
    exact = None
    m = _EXACT.search(rest)
    if m and f.min_amount is None and f.max_amount is None and (
            exact := _amount(m)) is not None:
        f = replace(f, min_amount=exact, max_amount=exact)
        if cur := _currency(m):
            f = replace(f, currency=cur)
        understood.append(f"amount {exact}")
        rest = rest[:m.start()] + " " + rest[m.end():]
    m = _IN_CURRENCY.search(rest)
    if m:
        f = replace(f, currency=_CURRENCY_WORDS[m.group(1).lower().rstrip("s")
                                                if m.group(1).lower() != "dollars" else "usd"])
        rest = rest[:m.start()] + " " + rest[m.end():]
    elif (iso := _ISO_CURRENCY.search(rest)) and not f.currency:
        f = replace(f, currency=iso.group(1))
        rest = rest[:iso.start()] + " " + rest[iso.end():]
    category, word = _category(rest, categories)
    if recurring and category == "subscriptions":
        category = None  # "which subscription ..." asks about recurring charges, not a category
    if category and not unusual:
        f = replace(f, category=category)
        understood.append(f"category {category}")
    taken = set(_words_of(word or ""))
    payee = _known_merchant(rest, merchants, skip | ({word} if word else set()))
    if payee:
        f = replace(f, counterparty=payee)
        understood.append(f"payee {payee}")
        taken |= set(_words_of(payee))
    subject = read_subject(rest, taken=taken)
    if recurring and not payee and not (subject and subject.name):
        subject = None  # "which subscription got more expensive": all recurring charges
    if subject and not payee:
        f = replace(f, counterparty=subject.phrase)
        understood.append(f"payee {subject.phrase}")
    if unusual:
        intent: Intent = "unusual"
    elif recurring and not f.counterparty:
        intent = "recurring"
    elif _COUNT.search(rest):
        intent = "count"
    elif _TOP.search(rest):
        intent = "top"
    elif _SUM.search(rest) or (direction and exact is None and not re.search(
            r"\b(show|list|which|what was|zeig\w*|liste|welche)\b", rest, re.I)):
        intent = "sum"
    else:
        intent = "list"
    group_by = None
    if intent == "top":
        group_by = "category" if _BY_CATEGORY.search(rest) else "merchant"
        if f.direction is None:
            f = replace(f, direction="out")
    return MoneyQuery(intent=intent, filter=f, period=period, group_by=group_by,
                      understood=tuple(understood),
                      subject=subject if intent not in ("unusual", "recurring") else None)


# -- the question's own words for what the money went to --------------------------------------
_ACCOUNT = re.compile(
    r"\b(?:on|from|in|with|auf|vom|von|im)\s+(?:the\s+|my\s+|dem\s+|meinem\s+)?"
    r"(?P<a>[A-Za-zÄÖÜäöüß0-9][\w-]*)\s+(?:account|konto)\b"
    r"|\b(?:account|konto)\s+(?P<b>[A-Za-zÄÖÜäöüß0-9][\w-]*)", re.IGNORECASE)
_NOT_ACCOUNT = {"the", "my", "this", "that", "which", "what", "each", "every", "an", "a", "one"}
_EXACT = re.compile(
    r"(?P<pre>[€$£])\s*(?P<num>\d[\d.,']*)"
    r"|(?P<num2>\d[\d.,']*)\s*(?P<cur>€|\$|£|eur\b|euros?\b|usd\b|dollars?\b|gbp\b|chf\b)"
    r"|(?<![\d.,])(?P<num3>\d{1,3}(?:[.,']\d{3})*[.,]\d{2})(?![\d.,]*\d)", re.IGNORECASE)
_ISO_CURRENCY = re.compile(r"\b(EUR|USD|GBP|CHF|CAD|AUD|NZD|JPY|PLN|HUF|CZK|SEK|NOK|DKK|SGD|HKD|"
                           r"BRL|NGN|RON|INR|CNY|ZAR|MXN|TRY)\b")
_TOKEN = re.compile(r"[\w][\w'’&\-]*[\w]|\w")
_NOISE_RE = [_MONEY, _OUT, _IN, _SUM, _COUNT, _TOP, _UNUSUAL, _RECURRING, _BY_CATEGORY]
_DAY = re.compile(r"\b(?:(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})|"
                  r"(?P<y2>\d{4})-(?P<m2>\d{2})-(?P<d2>\d{2}))\b")


def _find_day(text: str) -> tuple[Period | None, str]:
    """A single day written as 15.11.2026 or 2026-11-15 ("am 15.11.2026 bei Rewe")."""
    m = _DAY.search(text)
    if not m:
        return None, text
    g = m.groupdict()
    try:
        day = date(int(g["y"] or g["y2"]), int(g["m"] or g["m2"]), int(g["d"] or g["d2"]))
    except ValueError:
        return None, text
    return Period(day, day, day.isoformat()), (text[:m.start()] + " " + text[m.end():]).strip()


def _words_of(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


def _noise(token: str) -> bool:
    low = token.lower()
    if low in NOISE or len(low) == 1 or (low.endswith("ly") and len(low) > 4):
        return True
    if low.isdigit():
        return len(low) < 3 or (len(low) == 4 and low[:2] in ("19", "20"))
    return any(p.fullmatch(low) for p in _NOISE_RE)


def read_subject(text: str, *, taken: Iterable[str] = ()) -> Subject | None:
    """The words of `text` (a question without its period, amounts and account) that name what
    the money went to: what is left once question, money, intent and category words (and the
    words in `taken`) are removed. None when nothing is left."""
    skip = set(taken)
    tokens = list(_TOKEN.finditer(text))
    keep = [t for t in tokens if t.group(0).lower() not in skip and not _noise(t.group(0))]
    single = {t.group(0).lower() for t in keep if len(t.group(0)) == 1}
    if not keep or all(t.group(0).lower() in single for t in keep):
        return None
    first, last = tokens.index(keep[0]), tokens.index(keep[-1])
    contiguous = last - first + 1 == len(keep) or all(
        len(t.group(0)) == 1 for t in tokens[first:last + 1] if t not in keep)
    words = tuple(t.group(0) for t in keep if len(t.group(0)) > 1)
    if not words:
        return None
    phrase = text[keep[0].start():keep[-1].end()] if contiguous else " ".join(words)
    name = all(w[0].isupper() or w[0].isdigit() for w in words)
    return Subject(phrase=phrase.strip(" ,"), words=words, name=name)


def read_account(text: str) -> str | None:
    """The account a question names ("on the ING account", "Konto Giro")."""
    for m in _ACCOUNT.finditer(text):
        name = m.group("a") or m.group("b")
        if name and name.lower() not in _NOT_ACCOUNT:
            return name
    return None


def _known_merchant(text: str, merchants: Iterable[str], skip: set[str]) -> str | None:
    low = text.lower()
    for m in sorted(merchants, key=len, reverse=True):
        if len(m) >= 3 and m.lower() not in skip and re.search(rf"\b{re.escape(m.lower())}\b",
                                                               low):
            return m
    return None


def filter_phrases(mq: MoneyQuery) -> list[str]:
    """The filters a query applies, as the owner checks them: 'payee ~ bike', 'period 2026-10'."""
    f = mq.filter
    out: list[str] = []
    if f.counterparty:
        out.append(f"payee ~ {f.counterparty}")
    for group in f.terms:
        out.append("text ~ " + "|".join(group[:8]) + ("|…" if len(group) > 8 else ""))
    if f.category:
        out.append(f"category {f.category}")
    if mq.period is not None and (mq.period.start, mq.period.end) == (f.date_from, f.date_to):
        out.append(f"period {mq.period.label}")
    elif f.date_from or f.date_to:
        out.append(f"period {f.date_from or '…'}..{f.date_to or '…'}")
    if f.min_amount is not None and f.min_amount == f.max_amount:
        out.append(f"amount {f.min_amount}")
    else:
        if f.min_amount is not None:
            out.append(f"amount ≥ {f.min_amount}")
        if f.max_amount is not None:
            out.append(f"amount ≤ {f.max_amount}")
    if f.currency:
        out.append(f"currency {f.currency}")
    if f.account:
        out.append(f"account ~ {f.account}")
    if f.direction:
        out.append("money out" if f.direction == "out" else "money in")
    return out
