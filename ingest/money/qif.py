"""QIF (Quicken Interchange Format) exports: bank, cash, credit card, other asset/liability
accounts, and investment accounts (`qifinvest`), with splits, several accounts per file.

- Each `!Type:` section of transactions gives one statement; an `!Account` block before it
  names the account. Category, class, memorized and security lists are skipped.
- The opening-balance record (payee "Opening Balance" / "Eröffnungssaldo" ..., or a transfer to
  the account itself) is the statement's opening balance, not a transaction.
- Splits (S/E/$ lines) stay inside their transaction: the T amount is the movement; the split
  lines are listed in its description. A record without T takes the sum of its splits.
- Day/month order is decided for the whole file from all its dates (`!Option:MDY`/`DMY` when
  given; else any date whose first or second part is over 12), QIF's own default being
  month/day; the decision is stated in the file's warnings. A file whose dates contradict each
  other fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from app.core.errors import CorruptDocumentError, EmptyDocumentError, UnsupportedFormatError
from ingest.money.amounts import AmountError, money, parse_amount, sniff_decimal
from ingest.money.text import clean, decode_bytes
from ingest.money.types import (
    AccountRef,
    Location,
    ParsedStatement,
    ParsedTransaction,
    Security,
    StatementFile,
)

_TX_TYPES = {"bank": "checking", "cash": "cash", "ccard": "credit", "oth a": "asset",
             "oth l": "liability", "invst": "investment", "port": "investment"}
_LIST_TYPES = ("cat", "class", "memorized", "security", "prices", "invitem", "template",
               "budget", "payee", "tag")
_OPENING = re.compile(r"^(opening balance|eröffnungssaldo|anfangssaldo|beginsaldo|"
                      r"solde (d'ouverture|initial)|saldo (inicial|iniziale|di apertura)|"
                      r"startsaldo|ingående saldo|saldo otwarcia)$", re.IGNORECASE)
_DATE = re.compile(r"^\s*(\d{1,4})\s*[/.\-]\s*(\d{1,2})\s*(?:[/.\-]|'|\s)\s*(\d{2,4})\s*$")


def looks_like_qif(head: str) -> bool:
    first = head.lstrip("\ufeff \t\r\n")[:40].lower()
    return first.startswith(("!type:", "!account", "!option:", "!clear:")) or (
        "\n!type:" in head[:4096].lower() and "\n^" in head[:8192])


@dataclass
class _Record:
    fields: list[tuple[str, str]] = field(default_factory=list)
    line: int = 0

    def get(self, code: str) -> str | None:
        return next((v for c, v in self.fields if c == code), None)


@dataclass
class _Section:
    type: str  # bank, ccard, invst ...
    account: str | None
    line: int
    records: list[_Record] = field(default_factory=list)


def _sections(text: str) -> tuple[list[_Section], str | None]:
    """Transaction sections with their records, and the !Option date order if given."""
    sections: list[_Section] = []
    option: str | None = None
    current: _Section | None = None
    account: str | None = None
    in_account = False
    record = _Record()
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line.strip():
            continue
        if line.startswith("!"):
            head = line[1:].strip().lower()
            if head in ("option:mdy", "option:dmy", "option:ymd"):
                option = head[7:]
            elif head == "account":
                in_account, current = True, None
                record = _Record(line=no)
            elif head.startswith("type:"):
                kind = head[5:].strip()
                in_account = False
                current = None
                if kind in _TX_TYPES:
                    current = _Section(kind, account, no)
                    sections.append(current)
                elif kind not in _LIST_TYPES:
                    raise UnsupportedFormatError(f"unknown QIF section !Type:{kind} (line {no})")
            record = _Record(line=no + 1)
            continue
        if line.startswith("^"):
            if in_account:
                account = record.get("N") or account
            elif current is not None and record.fields:
                current.records.append(record)
            record = _Record(line=no + 1)
            continue
        if not record.fields:
            record.line = no
        record.fields.append((line[0], line[1:].strip()))
    if current is not None and record.fields:  # a last record without ^
        current.records.append(record)
    return sections, option


def decide_date_order(values: list[str], option: str | None,
                      decimal: str = ".") -> tuple[str, str]:
    """("mdy" | "dmy" | "ymd", the reason, for the warnings), from all dates of the file:
    the file's !Option, else a part over 12, else the only reading under which the records are
    in date order, else the date separator and decimal mark ("03.11.25" with "12,50" is
    European day/month), else QIF's own default, month/day."""
    if option:
        return option, f"dates read as {option.upper()} (the file's !Option:{option.upper()})"
    parts = [m.groups() for m in (_DATE.match(_plain(v)) for v in values) if m]
    if parts and all(len(p[0]) == 4 for p in parts):
        return "ymd", "dates read as year/month/day"
    first_big = any(int(p[0]) > 12 for p in parts)
    second_big = any(int(p[1]) > 12 for p in parts)
    if first_big and second_big:
        raise CorruptDocumentError("dates fit neither day/month nor month/day order "
                                   "(both parts go over 12)")
    if first_big:
        return "dmy", "dates read as day/month (a first part over 12 decides it)"
    if second_big:
        return "mdy", "dates read as month/day (a second part over 12 decides it)"
    ordered = [o for o in ("dmy", "mdy") if _in_order(parts, o)]
    if len(ordered) == 1:
        return ordered[0], (f"dates read as {'day/month' if ordered[0] == 'dmy' else 'month/day'}"
                            " (the only reading that keeps the records in date order)")
    if all("." in v for v in values) or decimal == ",":
        return "dmy", "dates read as day/month (European dates: dots and decimal commas)"
    return "mdy", "dates read as month/day (QIF's default; no date in the file decides it)"


def _plain(raw: str) -> str:
    return raw.replace("'", "/", 1) if raw.count("'") == 1 else raw


def _in_order(parts: list[tuple[str, ...]], order: str) -> bool:
    keys = []
    for a, b, c in parts:
        y = int(c) + (2000 if int(c) < 100 else 0)
        keys.append((y, int(b), int(a)) if order == "dmy" else (y, int(a), int(b)))
    if len(set(keys)) < 2:
        return False
    return keys == sorted(keys) or keys == sorted(keys, reverse=True)


def qif_date(raw: str, order: str, where: str) -> date:
    m = _DATE.match(_plain(raw)) or _DATE.match(raw)
    if not m:
        raise CorruptDocumentError(f"{where}: date {raw!r} is not a QIF date")
    a, b, c = m.groups()
    if order == "ymd" or len(a) == 4:
        y, mo, d = int(a), int(b), int(c)
    elif order == "dmy":
        d, mo, y = int(a), int(b), int(c)
    else:
        mo, d, y = int(a), int(b), int(c)
    if y < 100:  # "'04" and "04" -> 2004; 2-digit years before 1970 do not occur in exports
        y += 2000 if (y < 70 or "'" in raw) else 1900
    try:
        return date(y, mo, d)
    except ValueError as exc:
        raise CorruptDocumentError(f"{where}: date {raw!r} does not exist") from exc


def qif_amount(raw: str | None, decimal: str, where: str, code: str = "T") -> Decimal | None:
    if raw is None or not raw.strip():
        return None
    try:
        return money(parse_amount(raw, decimal=decimal))
    except AmountError as exc:
        raise CorruptDocumentError(f"{where}: {code} {exc}") from exc


def parse_qif(data: bytes, *, name: str = "statement.qif") -> StatementFile:
    """Parse every account section of a QIF file.

    Raises:
        UnsupportedFormatError: not QIF.
        EmptyDocumentError: no transaction in any section (category lists only ...).
        CorruptDocumentError: a date or amount that cannot be read (names the line).
    """
    text, encoding = decode_bytes(data)
    if not looks_like_qif(text):
        raise UnsupportedFormatError(f"{name}: not a QIF file")
    try:
        sections, option = _sections(text)
    except UnsupportedFormatError as exc:
        raise CorruptDocumentError(f"{name}: {exc}") from exc
    dates = [r.get("D") or "" for s in sections for r in s.records if r.get("D")]
    if not dates:
        raise EmptyDocumentError(f"{name}: QIF file without transactions (only lists of "
                                 "categories, classes or accounts)")
    decimal = sniff_decimal([v for s in sections for r in s.records for c, v in r.fields
                             if c in "TU$"])
    try:
        order, reason = decide_date_order(dates, option, decimal)
    except CorruptDocumentError as exc:
        raise CorruptDocumentError(f"{name}: {exc}") from exc
    warnings = [reason]
    if encoding not in ("utf-8", "utf-8-sig"):
        warnings.append(f"decoded as {encoding}")
    statements = []
    securities: dict[str, Security] = {}
    from ingest.money.qifinvest import investment_section  # (imports this module)

    for section in sections:
        if not section.records:
            continue
        if section.type in ("invst", "port"):
            statements.append(investment_section(section, name=name, order=order,
                                                 decimal=decimal, securities=securities))
        else:
            statements.append(_bank_section(section, name=name, order=order, decimal=decimal))
    if not statements:
        raise EmptyDocumentError(f"{name}: QIF file without transactions")
    if securities:
        warnings.append(f"{len(securities)} securities named by their QIF names only")
    return StatementFile(format="qif", statements=tuple(statements), warnings=tuple(warnings),
                         securities=tuple(securities.values()))


def account_ref(section: _Section, kind: str, name: str) -> AccountRef:
    label = section.account or f"qif:{section.type}"
    return AccountRef(identifier=label, type=kind)


def _bank_section(section: _Section, *, name: str, order: str, decimal: str) -> ParsedStatement:
    account = account_ref(section, _TX_TYPES[section.type], name)
    txs: list[ParsedTransaction] = []
    opening: Decimal | None = None
    for rec in section.records:
        where = f"{name} line {rec.line}"
        raw_date = rec.get("D")
        if raw_date is None:
            raise CorruptDocumentError(f"{where}: QIF record without a date (D line)")
        day = qif_date(raw_date, order, where)
        amount = qif_amount(rec.get("T") or rec.get("U"), decimal, where)
        splits = [(v, c) for c, v in rec.fields if c in "SE$"]
        split_amounts = [qif_amount(v, decimal, where, "$") for v, c in splits if c == "$"]
        if amount is None:
            if not split_amounts:
                raise CorruptDocumentError(f"{where}: QIF record without an amount (T line)")
            amount = sum((a for a in split_amounts if a is not None), Decimal("0.00"))
        payee = clean(rec.get("P"))
        category = rec.get("L") or ""
        if not txs and opening is None and _is_opening(payee, category, section.account):
            opening = amount
            continue
        memo = clean(rec.get("M"))
        split_text = _split_text(rec)
        description = " / ".join(x for x in (memo, category if not split_text else None,
                                             split_text) if x) or None
        txs.append(ParsedTransaction(
            booking_date=day, amount=amount, currency="XXX", counterparty=payee,
            description=description, bank_id=None, type=clean(rec.get("N")),
            location=Location(line=rec.line)))
    closing = opening + sum((t.amount for t in txs), Decimal(0)) if opening is not None \
        else None
    return ParsedStatement(
        account=account, transactions=tuple(txs), currency=None,
        period_start=min((t.booking_date for t in txs), default=None),
        period_end=max((t.booking_date for t in txs), default=None),
        # The file's own opening balance is kept; its closing is not printed in QIF, so the
        # statement stays unverified rather than checking itself against itself.
        opening_balance=opening, closing_balance=None,
        meta={"derived_closing": str(closing)} if closing is not None else {},
    )


def _is_opening(payee: str | None, category: str, account: str | None) -> bool:
    if payee and _OPENING.match(payee):
        return True
    return bool(account) and category.strip("[]") == account and category.startswith("[")


def _split_text(rec: _Record) -> str | None:
    parts, current = [], ""
    for code, value in rec.fields:
        if code == "S":
            current = value
        elif code == "$":
            parts.append(f"{current or '?'} {value}".strip())
            current = ""
    return ("split: " + "; ".join(parts)) if parts else None
