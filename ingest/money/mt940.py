"""MT940 (SWIFT customer statement) and MT942 (interim report) parser with line numbers, for
the dialects banks really emit.

Handles SWIFT envelopes ({1:..}{4:), bank headers, several statements per file, :86: details in
German ?20 / Dutch >20 subfield styles, Rabobank's legacy :61:, non-standard tags (:NS:), 8-bit
encodings, blanks instead of the entry date (Citi, ASN), a funds code after the debit/credit mark
("DR17,90" is a debit in EUR, not a reversal), and impossible dates (Feb 30), which are flagged
and clamped to the month's end, never shifted into the next month silently.

MT942 has no opening/closing balances; its :90D:/:90C: totals (number and sum of debits and
credits) are the file's own control figures, and the balance check compares against them.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from app.core.errors import CorruptDocumentError, UnsupportedFormatError
from ingest.money.amounts import AmountError, money, parse_amount
from ingest.money.text import clean, decode_bytes, strip_controls
from ingest.money.types import (
    AccountRef,
    Location,
    ParsedStatement,
    ParsedTransaction,
    StatementFile,
)

_TAG = re.compile(r"^:(\d\d[A-Z]?|NS):(.*)$")
_BALANCE = re.compile(r"^([CD])(\d{6})([A-Z]{3})([\d,\.]+)\s*$")
_LINE61 = re.compile(
    r"^(?P<vdate>\d{6})(?P<edate>\d{4}| {4})? ?(?P<mark>RC|RD|C|D)(?P<funds>[A-Z])? ?"
    r"(?P<amount>\d[\d]*,\d*)(?P<rest>.*)$"
)
_TOTAL = re.compile(r"^(\d+)([A-Z]{3})([\d,\.]+)\s*$")
_SUBFIELD = re.compile(r"[?>](\d\d)")
_SEPA_KEY = re.compile(r"(EREF\+|KREF\+|MREF\+|CRED\+|DEBT\+|SVWZ\+|ABWA\+|ABWE\+|IBAN\+|BIC\+)")
# Free-text :86: patterns that name the payee (ABN AMRO card payments and giro transfers).
_FREE_PAYEE = (
    re.compile(r"^BEA\s+NR:\S+\s+\S+\s+(.+?),PAS\d+"),
    re.compile(r"^GIRO\s+\d+\s+(.+?)\s{2,}"),
)


def looks_like_mt940(text: str) -> bool:
    head = text[:4096]
    return ":20:" in head and ":25:" in head and any(
        t in text for t in (":60F:", ":60M:", ":13D:", ":34F:", ":90D:", ":90C:"))


@dataclass
class _Field:
    tag: str
    lines: list[str]
    line_no: int

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class _Draft:
    fields: list[_Field] = field(default_factory=list)


def _fields(text: str) -> list[list[_Field]]:
    """Split into statements (lists of fields); each field keeps its first line number."""
    statements: list[list[_Field]] = []
    current: list[_Field] | None = None
    last: _Field | None = None
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if "{4:" in line:  # SWIFT envelope before the text block
            line = line.split("{4:", 1)[1]
        if line.startswith("-") and (line.strip("-}{5:XO") == "" or line.startswith("-}")):
            last = None  # end of a statement block
            continue
        m = _TAG.match(line)
        if m:
            tag, rest = m.group(1), m.group(2)
            if tag == "20":
                current = []
                statements.append(current)
            if current is None:
                last = None
                continue
            last = _Field(tag, [rest], no)
            current.append(last)
        elif last is not None and line.strip():
            last.lines.append(line)
    return statements


def _clamped_date(yy: int, mm: int, dd: int) -> tuple[date, bool]:
    """A date, or the last day of its month when the bank wrote an impossible one (Feb 30)."""
    year = 2000 + yy if yy < 80 else 1900 + yy
    if not 1 <= mm <= 12:
        raise ValueError(f"month {mm:02d} does not exist")
    last = calendar.monthrange(year, mm)[1]
    if 1 <= dd <= last:
        return date(year, mm, dd), False
    if dd < 1 or dd > 31:
        raise ValueError(f"day {dd:02d} does not exist")
    return date(year, mm, last), True


def _balance(fld: _Field, where: str) -> tuple[Decimal, str, date]:
    m = _BALANCE.match(fld.text.replace("\n", ""))
    if not m:
        raise CorruptDocumentError(f"{where} line {fld.line_no}: unreadable balance {fld.text!r}")
    sign, d, cur, amt = m.groups()
    value = money(parse_amount(amt, decimal=","))
    try:
        day, _ = _clamped_date(int(d[0:2]), int(d[2:4]), int(d[4:6]))
    except ValueError as exc:  # month 00, day 45: one line naming the field, not a traceback
        raise CorruptDocumentError(
            f"{where} line {fld.line_no}: impossible balance date {d} ({exc})") from exc
    return (-value if sign == "D" else value), cur, day


def _details(text: str) -> tuple[str | None, str | None]:
    """(counterparty, description) from a :86: field, structured (?20/>20) or free text."""
    flat = text.replace("\n", "")
    if _SUBFIELD.search(flat) and re.match(r"^\d{3}[?>]|^[?>]\d\d", flat):
        parts: dict[str, str] = {}
        pieces = _SUBFIELD.split(flat)
        for i in range(1, len(pieces) - 1, 2):
            parts[pieces[i]] = parts.get(pieces[i], "") + pieces[i + 1]
        name = clean(" ".join(parts.get(k, "") for k in ("32", "33")))
        # SEPA splits the purpose every 27 characters, mid-word: join without spaces, but
        # keep the SEPA keywords (EREF+, SVWZ+ ...) apart.
        purpose = clean(_SEPA_KEY.sub(r" \1", "".join(parts.get(str(k), "") for k in range(20, 30))))
        extra = clean(" ".join(parts.get(str(k), "") for k in range(60, 64)))
        posting = clean(parts.get("00"))
        desc = " ".join(x for x in (posting, purpose, extra) if x) or None
        return name, desc
    if "/NAME/" in flat or "/REMI/" in flat:  # newer ING / ABN structured style
        name_m = re.search(r"/NAME/([^/]*)", flat)
        remi_m = re.search(r"/REMI/(?:USTD//)?([^/]*)", flat)
        return clean(name_m.group(1)) if name_m else None, clean(
            remi_m.group(1) if remi_m else flat
        )
    for pattern in _FREE_PAYEE:
        m = pattern.match(text)
        if m:
            return clean(m.group(1)), clean(" ".join(text.split("\n")))
    return None, clean(" ".join(text.split("\n")))


def _ns_details(text: str) -> tuple[str | None, str | None]:
    """Sberbank-style :NS: lines, each "<2-digit code><text>": 15/16 name, 09 description."""
    codes: dict[str, str] = {}
    for line in text.split("\n"):
        if len(line) > 2 and line[:2].isdigit():
            codes[line[:2]] = codes.get(line[:2], "") + line[2:]
    name = clean(codes.get("15", "") + codes.get("16", ""))
    return name, clean(codes.get("09")) or clean(" ".join(text.split("\n")))


def _transaction(
    f61: _Field, f86: list[_Field], currency: str, where: str, warnings: list[str]
) -> ParsedTransaction:
    m = _LINE61.match(f61.lines[0])
    if not m:
        raise CorruptDocumentError(
            f"{where} line {f61.line_no}: unreadable :61: line {f61.lines[0]!r}"
        )
    vd = m.group("vdate")
    try:
        value_date, bad_v = _clamped_date(int(vd[0:2]), int(vd[2:4]), int(vd[4:6]))
    except ValueError as exc:
        raise CorruptDocumentError(f"{where} line {f61.line_no}: bad date {vd!r}: {exc}") from exc
    raw_date = vd if bad_v else None
    if bad_v:
        warnings.append(
            f"line {f61.line_no}: value date {vd} is not a real date; "
            f"kept as {value_date.isoformat()} and flagged"
        )
    booking_date = value_date
    ed = (m.group("edate") or "").strip()
    if ed:
        year = value_date.year
        if int(ed[0:2]) == 1 and value_date.month == 12:
            year += 1
        elif int(ed[0:2]) == 12 and value_date.month == 1:
            year -= 1
        try:
            booking_date, bad_e = _clamped_date(year % 100, int(ed[0:2]), int(ed[2:4]))
        except ValueError as exc:
            raise CorruptDocumentError(
                f"{where} line {f61.line_no}: bad entry date {ed!r}: {exc}"
            ) from exc
        if bad_e:
            raw_date = raw_date or ed
            warnings.append(
                f"line {f61.line_no}: entry date {ed} is not a real date; "
                f"kept as {booking_date.isoformat()} and flagged"
            )
    try:
        amount = money(parse_amount(m.group("amount"), decimal=","))
    except AmountError as exc:
        raise CorruptDocumentError(f"{where} line {f61.line_no}: {exc}") from exc
    if m.group("mark") in ("D", "RC"):  # RC: reversal of a credit takes money out
        amount = -amount
    rest = m.group("rest")
    ttype = rest[:4].strip() or None if rest else None
    reference = rest[4:]
    bank_ref = None
    if "//" in reference:
        reference, bank_ref = reference.split("//", 1)
        bank_ref = bank_ref.strip() or None
    counterparty = None
    ref_parts = re.split(r"\s{2,}", reference.strip(), maxsplit=1)
    if len(ref_parts) == 2:  # Rabobank legacy: counter account, then the name
        counterparty = clean(ref_parts[1])
    supplementary = clean(" ".join(f61.lines[1:])) if len(f61.lines) > 1 else None
    name, desc = (None, None)
    if f86 and f86[0].tag == "NS":
        name, desc = _ns_details(f86[0].text)
    elif f86:
        name, desc = _details("\n".join(f.text for f in f86))
    counterparty = name or counterparty
    if supplementary and not counterparty:
        if desc and supplementary.lower() in desc.lower():  # ASN: the name, repeated in :86:
            counterparty = supplementary
        else:  # a type text ("Csoportos atutalas") or a reference
            desc = " ".join(x for x in (supplementary, desc) if x)
    if bank_ref and (bank_ref.upper() == "NONREF" or len(bank_ref) < 8):
        bank_ref = None
    return ParsedTransaction(
        booking_date=booking_date,
        value_date=value_date,
        amount=amount,
        currency=currency,
        counterparty=counterparty,
        description=desc,
        bank_id=bank_ref,
        type=ttype,
        location=Location(line=f61.line_no),
        raw_date=raw_date,
    )


def parse_mt940(data: bytes, *, name: str = "statement") -> StatementFile:
    """Parse every statement in an MT940 file.

    Raises:
        UnsupportedFormatError: not MT940 at all.
        CorruptDocumentError: a statement block that cannot be read (names file and line).
    """
    text, encoding = decode_bytes(data)
    text = strip_controls(text)
    if not looks_like_mt940(text):
        raise UnsupportedFormatError(f"{name}: not an MT940 statement")
    warnings: list[str] = []
    statements: list[ParsedStatement] = []
    interim = False
    for block in _fields(text):
        tags = {f.tag for f in block}
        if "25" in tags and not ({"60F", "60M"} & tags) and {"13D", "34F", "90D", "90C"} & tags:
            interim = True
            statements.append(_interim(block, name, warnings))
            continue
        if "25" not in tags or not ({"60F", "60M"} & tags):
            if block:
                raise CorruptDocumentError(
                    f"{name} line {block[0].line_no}: statement without account or "
                    "opening balance (truncated file?)"
                )
            continue
        statements.append(_statement(block, name, warnings))
    if not statements:
        raise CorruptDocumentError(f"{name}: no MT940 statement found")
    if encoding not in ("utf-8", "utf-8-sig"):
        warnings.append(f"decoded as {encoding}")
    return StatementFile(format="mt942" if interim else "mt940", statements=tuple(statements),
                         warnings=tuple(warnings))


def _statement(block: list[_Field], name: str, warnings: list[str]) -> ParsedStatement:
    account_raw = next(f.text for f in block if f.tag == "25").strip()
    opening_f = next(f for f in block if f.tag in ("60F", "60M"))
    opening, currency, opening_date = _balance(opening_f, name)
    closing_f = next((f for f in block if f.tag in ("62F", "62M")), None)
    if closing_f is None:
        raise CorruptDocumentError(
            f"{name} line {opening_f.line_no}: statement without closing balance :62: "
            "(truncated file?)"
        )
    closing, _, closing_date = _balance(closing_f, name)
    account = _account(account_raw, currency)
    txs, info = _entries(block, currency, name, warnings)
    number = next((f.text.strip() for f in block if f.tag in ("28", "28C")), None)
    ref = next((f.text.strip() for f in block if f.tag == "20"), None)
    start = min([opening_date, *(t.booking_date for t in txs)])
    return ParsedStatement(
        account=AccountRef(identifier=account, currency=currency),
        transactions=tuple(txs),
        currency=currency,
        period_start=start,
        period_end=max([closing_date, *(t.booking_date for t in txs)]),
        opening_balance=opening,
        closing_balance=closing,
        meta={k: v for k, v in (("number", number), ("reference", ref),
                                ("info", " ".join(info) or None)) if v},
    )


def _account(raw: str, currency: str) -> str:
    if len(raw) > 6:  # Rabobank/Raiffeisen append the currency: "1291.99.348EUR"
        return re.sub(rf"/?{currency}$", "", raw).rstrip("/").strip()
    return raw.strip()


def _interim(block: list[_Field], name: str, warnings: list[str]) -> ParsedStatement:
    """An MT942 interim report: entries and the report's own debit/credit totals."""
    currency = None
    floor = next((f for f in block if f.tag == "34F"), None)
    if floor is not None:
        currency = floor.text.strip()[:3]
    totals: dict[str, tuple[int, Decimal]] = {}
    for f in block:
        if f.tag in ("90D", "90C"):
            m = _TOTAL.match(f.text.replace("\n", ""))
            if not m:
                raise CorruptDocumentError(f"{name} line {f.line_no}: unreadable total {f.text!r}")
            currency = currency or m.group(2)
            totals[f.tag] = (int(m.group(1)), money(parse_amount(m.group(3), decimal=",")))
    if currency is None:
        raise CorruptDocumentError(f"{name}: MT942 report without currency (:34F: or :90C:)")
    account = _account(next(f.text for f in block if f.tag == "25"), currency)
    txs, info = _entries(block, currency, name, warnings)
    dates = [t.booking_date for t in txs]
    return ParsedStatement(
        account=AccountRef(identifier=account, currency=currency),
        transactions=tuple(txs), currency=currency,
        period_start=min(dates, default=None), period_end=max(dates, default=None),
        stated_in=totals["90C"][1] if "90C" in totals else None,
        stated_out=-totals["90D"][1] if "90D" in totals else None,
        stated_count=sum(n for n, _ in totals.values()) if len(totals) == 2 else None,
        meta={k: v for k, v in (("reference", next((f.text.strip() for f in block
                                                    if f.tag == "20"), None)),
                                ("info", " ".join(info) or None)) if v},
    )


def _entries(block: list[_Field], currency: str, name: str,
             warnings: list[str]) -> tuple[list[ParsedTransaction], list[str]]:
    txs: list[ParsedTransaction] = []
    info: list[str] = []
    i = 0
    while i < len(block):
        f = block[i]
        if f.tag == "61":
            details: list[_Field] = []
            j = i + 1
            while j < len(block) and block[j].tag in ("86", "NS"):
                if block[j].tag == "86" or not details:
                    details.append(block[j])
                j += 1
            txs.append(_transaction(f, [d for d in details if d.tag == "86"] or details,
                                    currency, name, warnings))
            i = j
            continue
        if f.tag == "86":
            info.append(f.text)
        i += 1
    return txs, info
