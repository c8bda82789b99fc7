"""Rule-based key-term extraction for the common English and German phrasings (pure).

Used when no extraction LLM is configured (or it fails); results are marked `method="rules"`.
Patterns run over the document's full text; each match is cited by the chunk that contains it
(its id and page) and the sentence around it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.contracts.terms import (
    DATE_PATTERN,
    Amount,
    Citation,
    ContractTerms,
    Period,
    currency_code,
    find_date,
    parse_amount,
)

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "thirty": 30,
    "sixty": 60, "ninety": 90, "twenty-four": 24, "thirty-six": 36, "eighteen": 18,
    "ein": 1, "eine": 1, "einen": 1, "einem": 1, "einer": 1, "eines": 1, "zwei": 2, "drei": 3,
    "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9, "zehn": 10, "elf": 11,
    "zwölf": 12, "vierzehn": 14, "achtzehn": 18, "dreißig": 30, "vierundzwanzig": 24,
    "sechsunddreißig": 36,
    # "for a further year", "um ein weiteres Jahr"
    "a": 1, "an": 1, "another": 1, "a further": 1, "an additional": 1, "one further": 1,
    "ein weiteres": 1, "einen weiteren": 1, "jeweils ein": 1, "jeweils einen": 1,
}
_WORDS = "|".join(re.escape(w) for w in sorted(NUMBER_WORDS, key=len, reverse=True))
N = rf"(?P<n>\d{{1,3}}|{_WORDS})(?:\s*\(\s*(?P<nd>\d{{1,3}})\s*\))?"
U = (r"(?P<u>days?|weeks?|months?|years?|kalendermonate?n?|kalendertage?n?|tage?n?|wochen?"
     r"|monate?n?|monats|jahre?n?|jahres)\b")
NU = rf"{N}[\s-]*{U}"
DATE = rf"(?P<date>{DATE_PATTERN})"

_NOTICE = [
    rf"{NU}['’]?\s+(?:prior\s+|advance\s+)?(?:written\s+)?notice",
    rf"notice\s+period\s*(?:of|is|shall\s+be|:|\|)\s*(?:at\s+least\s+)?{NU}",
    rf"(?:written\s+)?notice\s+of\s+(?:at\s+least\s+)?{NU}",
    rf"(?:at\s+least\s+|no\s+later\s+than\s+)?{NU}\s+(?:prior\s+to|before)\s+(?:the\s+)?"
    r"(?:end|expiry|expiration|renewal)",
    rf"kündigungsfrist\s*(?:von|beträgt|:|\|)?\s*(?:mindestens\s+)?{NU}",
    rf"(?:mit\s+einer|unter\s+einhaltung\s+einer)\s+(?:kündigungs)?frist\s+von\s+{NU}",
    rf"(?:spätestens|mindestens)\s+{NU}\s+vor\s+(?:ablauf|ende)",
    rf"{NU}\s+(?:vor\s+(?:ablauf|ende|dem\s+ende)|zum\s+(?:ende|ablauf|monatsende|quartalsende))",
]
_TERM = [
    rf"(?:initial\s+|minimum\s+)?term\s+(?:of\s+this\s+(?:agreement|contract)\s+)?"
    rf"(?:is|shall\s+be|of|:)\s*(?:an?\s+)?(?:initial\s+)?(?:period\s+of\s+)?{NU}",
    rf"for\s+(?:an?\s+)?(?:initial|minimum|fixed)\s+(?:period|term)\s+of\s+{NU}",
    rf"(?:agreement|contract)\s+(?:shall|will)\s+(?:remain\s+in\s+(?:full\s+)?(?:force|effect)|"
    rf"continue|run|be\s+in\s+effect)\s+for\s+(?:an?\s+)?(?:period|term)\s+of\s+{NU}",
    rf"^[^\n|:]{{0,20}}\bterm\b[^\n|:]{{0,30}}[|:]\s*{NU}",
    rf"(?:mindest)?(?:vertrags)?laufzeit\s*(?:von|beträgt|:|\|)?\s*(?:zunächst\s+)?{NU}",
    rf"(?:für|auf)\s+(?:die\s+dauer\s+von\s+|eine\s+dauer\s+von\s+)?{NU}\s+(?:fest\s+)?"
    r"(?:geschlossen|abgeschlossen|befristet)",
]
_RENEWAL = [
    rf"(?:renew|extend)\w*\s+(?:automatically\s+|tacitly\s+)?(?:for\s+|by\s+)?(?:an?\s+)?"
    rf"(?:successive\s+|additional\s+|further\s+|consecutive\s+)?(?:(?:periods|terms)\s+of\s+)?{NU}",
    rf"verlängert\s+sich\s+(?:der\s+vertrag\s+|das\s+vertragsverhältnis\s+)?"
    rf"(?:(?:automatisch|stillschweigend|jeweils)\s+)*um\s+(?:jeweils\s+)?(?:weitere\s+)?{NU}",
]
# OCR sprinkles stray dots and commas between words ("fest. abgeschlossen", "jeweils.um"):
# between the words of these phrases any run of spaces and such specks is accepted.
_NOTICE, _TERM, _RENEWAL = ([p.replace(r"\s+", r"[\s.,]+") for p in group]
                            for group in (_NOTICE, _TERM, _RENEWAL))
_OPEN_ENDED = [
    r"auf\s+unbestimmte\s+zeit", r"\bunbefristet", r"for\s+an\s+indefinite\s+period",
    r"month[\s-]to[\s-]month", r"until\s+terminated\s+by\s+(?:either|one)\s+party",
]
_ENDS = [
    r"\bendet\b[^.]{0,60}\bohne\s+dass\s+es\s+einer\s+kündigung\s+bedarf",
    r"endet\s+automatisch", r"(?:expires|terminates|ends)\s+automatically",
    r"will\s+not\s+(?:be\s+)?(?:automatically\s+)?renew", r"no\s+automatic\s+renewal",
]
_MONTH_END = re.compile(
    r"zum\s+(?:monatsende|ende\s+(?:eines|des)\s+(?:kalender)?monats)"
    r"|(?:to|at)\s+the\s+end\s+of\s+(?:a|the|any)\s+(?:calendar\s+)?month", re.I)
_START = [
    rf"effective\s+date\s*[:\-|]?\s*(?:is\s+)?{DATE}",
    rf"(?:start|commencement)\s+date\s*[:\-|]?\s*{DATE}",
    rf"(?:effective|commenc\w*|start\w*|begin\w*|entered\s+into)\s+(?:as\s+of|on|from|with\s+effect"
    rf"\s+from)?\s*(?:the\s+)?{DATE}",
    rf"(?:vertragsbeginn|mietbeginn|versicherungsbeginn|beginn)\s*[:\-|]?\s*(?:am|ab|zum)?\s*{DATE}",
    rf"(?:beginnt|gilt|gültig)\s+(?:am|ab|zum|mit\s+dem)\s+{DATE}",
    rf"mit\s+wirkung\s+(?:zum|ab|vom)\s+{DATE}",
]
_END = [
    rf"(?:ends|expires|terminates)\s+on\s+{DATE}",
    rf"(?:endet|läuft)\s+(?:am|zum|bis\s+zum)\s+{DATE}",
    rf"(?:vertragsende|end\s+date|expiry\s+date)\s*[:\-|]?\s*{DATE}",
    rf"befristet\s+bis\s+(?:zum\s+)?{DATE}",
]
_PARTIES = [
    r"\bbetween\s+(?P<a>[^\n;:]{2,120}?)\s*(?:\([^)]{0,100}\)\s*)?,?\s+and\s+"
    r"(?P<b>[^\n;:]{2,120}?)\s*(?=\(|,|\.\s|;|\n|$)",
    r"\bzwischen\s+(?P<a>[^\n;:]{2,120}?)\s*(?:\([^)]{0,100}\)\s*)?,?\s+und\s+"
    r"(?P<b>[^\n;:]{2,120}?)\s*(?=\(|,|\.\s|;|\n|$)",
]
_ROLE = re.compile(
    r"^\s*(?:vermieter|mieter|auftraggeber|auftragnehmer|anbieter|kunde|kundin|versicherer"
    r"|vertragspartner|dienstleister|lieferant|verkäufer|käufer|vendor|seller|buyer|employer"
    r"|employee"
    r"|versicherungsnehmer|arbeitgeber|arbeitnehmer|landlord|tenant|provider|customer|client"
    r"|contractor|supplier|lessor|lessee|party\s+[12ab])(?:in)?\s*[:：]\s*(?P<name>[^\n]{2,120})$",
    re.I | re.M,
)
_MONEY = re.compile(
    r"(?P<c1>€|EUR|USD|\$|£|GBP|CHF)\s?(?P<n1>\d{1,3}(?:[.,\s]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)"
    r"|(?P<n2>\d{1,3}(?:[.,\s]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)\s?(?P<c2>€|EUR|Euros?|USD"
    r"|\$|£|GBP|CHF)(?![a-z])", re.I)
_PAY_WORDS = re.compile(
    r"fee|price|rent|premium|charge|cost|payment|pay|amount|salary|compensation|subscription"
    r"|miete|beitrag|gebühr|entgelt|preis|kosten|vergütung|zahlung|zahlen|abschlag|rate|prämie"
    r"|gehalt|honorar|pauschale", re.I)
_RHYTHMS = [
    ("monthly", r"monthly|per\s+month|a\s+month|/\s?month|p\.\s?m\.|monatlich|pro\s+monat"
                r"|im\s+monat|je\s+monat|mtl\.|/\s?monat|monatsmiete|monatsbeitrag"),
    ("quarterly", r"quarterly|per\s+quarter|vierteljährlich|quartalsweise|pro\s+quartal"),
    ("half-yearly", r"half[\s-]yearly|semi[\s-]annual\w*|halbjährlich"),
    ("yearly", r"annual\w*|yearly|per\s+year|per\s+annum|a\s+year|p\.\s?a\.|jährlich"
               r"|pro\s+jahr|im\s+jahr|/\s?jahr|jahresbeitrag"),
    ("weekly", r"weekly|per\s+week|wöchentlich"),
    ("once", r"one[\s-]time|one[\s-]off|once|einmalig"),
]


@dataclass(frozen=True, slots=True)
class ChunkSpan:
    """Where a stored chunk sits in the document text."""

    chunk_id: int
    start: int
    end: int
    page: int | None


class _Cite:
    def __init__(self, content: str, spans: Sequence[ChunkSpan]) -> None:
        self.content = content
        self.spans = sorted(spans, key=lambda s: s.start)

    def at(self, start: int, end: int) -> Citation:
        span = next((s for s in self.spans if s.start <= start < s.end), None)
        return Citation(span.chunk_id if span else None, span.page if span else None,
                        sentence(self.content, start, end))


def sentence(text: str, start: int, end: int, limit: int = 300) -> str:
    """The sentence (or line) around text[start:end], at most about `limit` characters."""
    left = max(text.rfind(". ", 0, start) + 2, text.rfind("\n", 0, start) + 1,
               text.rfind("; ", 0, start) + 2, start - limit // 2, 0)
    stops = [i for i in (text.find(". ", end), text.find("\n", end), text.find("; ", end))
             if i != -1]
    right = min([*stops, end + limit // 2, len(text)])
    if right < len(text) and text[right] == ".":
        right += 1
    return " ".join(text[left:right].split())


def _count(m: re.Match[str]) -> int | None:
    if m.groupdict().get("nd"):
        return int(m.group("nd"))
    raw = m.group("n").lower()
    return int(raw) if raw.isdigit() else NUMBER_WORDS.get(" ".join(raw.split()))


def _unit(raw: str) -> str:
    raw = raw.lower()
    if raw.startswith(("day", "tag", "kalendertag")):
        return "days"
    if raw.startswith(("week", "woche")):
        return "weeks"
    if raw.startswith(("month", "monat", "kalendermonat")):
        return "months"
    return "years"


def _first(patterns: Sequence[str], text: str) -> re.Match[str] | None:
    best: re.Match[str] | None = None
    for pattern in patterns:
        m = re.search(pattern, text, re.I | re.M)
        if m and (best is None or m.start() < best.start()):
            best = m
    return best


def _period(patterns: Sequence[str], text: str) -> tuple[Period, re.Match[str]] | None:
    """The earliest valid match of any pattern: a contract states its notice period before it
    mentions other notices ("prices may rise with two months' notice" in a later clause)."""
    best: tuple[Period, re.Match[str]] | None = None
    for pattern in patterns:
        for m in re.finditer(pattern, text, re.I | re.M):
            if best is not None and m.start() >= best[1].start():
                break
            try:
                best = Period(_count(m) or 0, _unit(m.group("u"))), m
            except ValueError:
                continue  # "0 days", "999 years": not a real term; look further
            break
    return best


def _clean_party(name: str) -> str:
    name = re.split(r"\s*(?:\(|,\s*(?:hereinafter|im\s+folgenden|nachfolgend)|"
                    r"\s(?:hereinafter|im\s+folgenden|nachfolgend))", name, maxsplit=1, flags=re.I)[0]
    name = re.split(r",\s*(?=[^,]*\d)|\s\|\s", name, maxsplit=1)[0]  # "Name, Street 1, City"
    name = name.strip(" \t\"'“”„‚‘’,.")
    name = re.sub(r"^(?:the|die|der|das|dem|den)\s+", "", name, flags=re.I)
    return "" if re.fullmatch(r"[{\[<][^}\]>]*[}\]>]", name) else name  # template placeholder


def _both_parties(name: str, line: str) -> list[str]:
    """'Vertragspartner: A GmbH und B' names both parties on one line."""
    if re.match(r"\s*vertragspartner\b", line, re.I):
        return [_clean_party(p) for p in re.split(r"\s+(?:und|and)\s+", name)]
    return [name]


def extract_parties(text: str) -> tuple[list[str], tuple[int, int] | None]:
    m = _first(_PARTIES, text[:20000])
    if m is not None:
        parties = [p for p in (_clean_party(m.group("a")), _clean_party(m.group("b"))) if p]
        if len(parties) == 2 and all(len(p) <= 100 for p in parties):
            return parties, (m.start(), m.end())
    roles = [(_clean_party(r.group("name")), r.span()) for r in _ROLE.finditer(text[:20000])]
    names = [part for (name, span) in roles for part in _both_parties(name, text[span[0]:])
             if part]
    if names:
        return list(dict.fromkeys(names))[:4], roles[0][1]
    return [], None


def _nearest_rhythm(text: str, start: int, end: int) -> str | None:
    """The payment rhythm word closest to the amount within its own sentence."""
    left = max(text.rfind(". ", 0, start) + 2, text.rfind("\n", 0, start) + 1, start - 150)
    stops = [i for i in (text.find(". ", end), text.find("\n", end)) if i != -1]
    right = min([*stops, end + 150, len(text)])
    best: tuple[int, str] | None = None
    for name, pattern in _RHYTHMS:
        for r in re.finditer(pattern, text[left:right], re.I):
            pos = left + r.start()
            distance = start - (left + r.end()) if pos < start else pos - end
            if best is None or distance < best[0]:
                best = (distance, name)
    return best[1] if best else None


def extract_amounts(text: str, cite: _Cite, limit: int = 8) -> list[Amount]:
    found: list[Amount] = []
    seen: set[tuple[object, ...]] = set()
    for m in _MONEY.finditer(text):
        window = sentence(text, m.start(), m.end(), limit=240)
        if not _PAY_WORDS.search(window):
            continue  # a number with a currency sign but no price/fee/rent around it
        value = parse_amount(m.group("n1") or m.group("n2") or "")
        currency = currency_code(m.group("c1") or m.group("c2") or "")
        if value is None or currency is None:
            continue
        rhythm = _nearest_rhythm(text, m.start(), m.end())
        key = (value, currency, rhythm)
        if key in seen:
            continue
        seen.add(key)
        found.append(Amount(value, currency, rhythm, cite.at(m.start(), m.end())))
        if len(found) >= limit:
            break
    return found


def extract_rules(content: str, spans: Sequence[ChunkSpan]) -> ContractTerms:
    """Key terms from the text by rules; values validated, each with its citation."""
    text = content
    cite = _Cite(content, spans)
    citations: dict[str, Citation] = {}
    warnings: list[str] = []

    parties, where = extract_parties(text)
    if where:
        citations["parties"] = cite.at(*where)
    start_date = end_date = None
    m = _first(_START, text)
    if m and (found := find_date(m.group("date"))):
        start_date = found[0]
        citations["start_date"] = cite.at(m.start(), m.end())
    m = _first(_END, text)
    if m and (found := find_date(m.group("date"))):
        end_date = found[0]
        citations["end_date"] = cite.at(m.start(), m.end())
    term = renewal = notice = None
    if hit := _period(_TERM, text):
        term = hit[0]
        citations["term"] = cite.at(hit[1].start(), hit[1].end())
    if hit := _period(_RENEWAL, text):
        renewal = hit[0]
        citations["renewal"] = cite.at(hit[1].start(), hit[1].end())
    month_end = False
    if hit := _period(_NOTICE, text):
        notice = hit[0]
        citations["notice"] = cite.at(hit[1].start(), hit[1].end())
        month_end = bool(_MONTH_END.search(sentence(text, hit[1].start(), hit[1].end())))
    after_term: str | None = None
    if renewal is not None:
        after_term = "renews"
    elif m := _first(_OPEN_ENDED, text):
        after_term = "open_ended"
        citations["after_term"] = cite.at(m.start(), m.end())
    elif m := _first(_ENDS, text):
        after_term = "ends"
        citations["after_term"] = cite.at(m.start(), m.end())
    amounts = extract_amounts(text, cite)
    rhythm = next((a.rhythm for a in amounts if a.rhythm), None)
    if amounts:
        citations["amounts"] = amounts[0].citation  # type: ignore[assignment]
    if term is not None and after_term is None:
        warnings.append("the text does not say what happens after the fixed term")
    if notice is None:
        warnings.append("no notice period found")
    return ContractTerms(
        method="rules", parties=tuple(parties), start_date=start_date, term=term,
        renewal=renewal, after_term=after_term, notice=notice, notice_to_month_end=month_end,
        end_date=end_date, amounts=tuple(amounts), payment_rhythm=rhythm,
        citations=citations, warnings=tuple(warnings),
    )
