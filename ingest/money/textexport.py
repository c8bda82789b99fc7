"""Statement text exports (fixed-width or semi-structured .txt, and the text of PDF statements
that no layout profile reads): transaction lines found by their shape.

A transaction line holds a date near its start and ends with an amount, optionally followed by
a debit/credit marker (CR, DR, +, -, H, S); lines below it without a date or an amount continue
its text; lines naming a total are skipped; the opening and closing balances are read from their
labels in many languages (Russian included: "остаток на начало периода").

Signs: a signed amount is read as printed; a marker decides an unsigned one. When only credits
are marked (card statements print "CR" beside payments and refunds and nothing beside
purchases), unmarked amounts are money out, and that reading must be proven by the statement's
own balances: without balances that agree, the file fails rather than guess.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal

from app.core.errors import CorruptDocumentError, EmptyDocumentError
from ingest.money.amounts import AmountError, money, parse_amount
from ingest.money.balance import check_balance, running_balances
from ingest.money.conventions import BALANCE_OK, UnreadableStatementError
from ingest.money.csvprofiles import CsvOptions
from ingest.money.csvvocab import ISO_CURRENCIES
from ingest.money.text import clean, decode_bytes
from ingest.money.types import (
    AccountRef,
    Location,
    ParsedStatement,
    ParsedTransaction,
    StatementFile,
)

MONTHS: dict[str, int] = {}
for _i, _names in enumerate((
        "jan january januar jänner janv janvier ene enero gen gennaio янв январь",
        "feb february februar fév févr fevrier février febrero febbraio фев февраль",
        "mar march märz maerz mrz mars marzo мар март",
        "apr april avr avril abr abril aprile апр апрель",
        "may mai mei mayo maggio май мая",
        "jun june juni juin junio giu giugno июн июнь",
        "jul july juli juil juillet julio lug luglio июл июль",
        "aug august août aout ago agosto авг август",
        "sep sept september septembre septiembre set settembre сен сентябрь",
        "oct october okt oktober octobre octubre ott ottobre окт октябрь",
        "nov november novembre noviembre ноя ноябрь",
        "dec december dez dezember déc décembre dic diciembre dicembre дек декабрь"), start=1):
    for _n in _names.split():
        MONTHS[_n] = _i
_MONTH_RE = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))
_DATE = (rf"(?:\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}|\d{{1,2}}\.\d{{1,2}}\."
         rf"|\d{{1,2}}[ .\-]?(?:{_MONTH_RE})\.?(?:[ .\-]?\d{{2,4}})?)")
_DATE_TOKEN = re.compile(rf"(?<![\w.])({_DATE})(?![\w])", re.IGNORECASE)
_AMOUNT = (r"(?<![\d.,])[-+(]?(?:[$€£]\s?)?(?:\d{1,3}(?:[ ,.'\u00a0]\d{3})*(?:[.,]\d{2})|\d+[.,]\d{2})"
           r"\)?")
_MARK = r"CR|DR|Cr|Dr|H|S|\+|-"
_LINE_END = re.compile(rf"(?P<amount>{_AMOUNT})\s*(?P<mark>{_MARK})?\s*$")
_TOTAL = re.compile(r"\b(total|totals|summe|итого|subtotal|zwischensumme|totaal|totale)\b|итого",
                    re.IGNORECASE)
_OPENING = re.compile(r"opening balance|previous balance|balance brought forward|last month'?s "
                      r"balance|alter kontostand|anfangssaldo|saldo (alt|inicial|iniziale|"
                      r"anterior)|solde (initial|précédent|precedent)|beginsaldo|остаток на "
                      r"начало|входящий остаток", re.IGNORECASE)
_CLOSING = re.compile(r"closing balance|new balance|balance carried forward|this month'?s "
                      r"balance|neuer kontostand|endsaldo|saldo (neu|final|finale)|solde "
                      r"(final|nouveau)|eindsaldo|остаток на конец|исходящий остаток",
                      re.IGNORECASE)
_OPENING_LC = re.compile(_OPENING.pattern)
_CLOSING_LC = re.compile(_CLOSING.pattern)
_CARD = re.compile(r"credit card|card statement|credit limit|minimum payment|payment due|"
                   r"kreditkarte|carte de cr[ée]dit|tarjeta de cr[ée]dito|creditcard|"
                   r"carta di credito|karta kredytowa|kredittkort|kreditkort|отчет по счету карты",
                   re.IGNORECASE)
_PAYMENT = re.compile(r"payment|thank you|zahlung|paiement|pago|betaling|gutschrift|refund",
                      re.IGNORECASE)
_CREDIT_MARKS = {"CR", "H", "+"}
_DEBIT_MARKS = {"DR", "S", "-"}


def looks_like_text_export(data: bytes) -> bool:
    """Balance wording and at least three transaction-shaped lines."""
    text, _ = decode_bytes(data[:65536])
    # Speed: the balance wording is sought in the lowered text without IGNORECASE (~4x faster;
    # this test runs on every text file).
    lowered = text.lower()
    return (bool(_OPENING_LC.search(lowered) or _CLOSING_LC.search(lowered))
            and len(_candidates(text)) >= 3)


def _candidates(text: str) -> list[tuple[int, str, re.Match[str], re.Match[str]]]:
    out = []
    for no, line in enumerate(text.splitlines(), start=1):
        if _TOTAL.search(line) or _OPENING.search(line) or _CLOSING.search(line):
            continue
        d = _DATE_TOKEN.search(line)
        a = _LINE_END.search(line.rstrip())
        if d and a and d.start() < len(line) * 0.5 and d.end() <= a.start():
            out.append((no, line, d, a))
    return out


def _date(token: str, year_hint: int | None) -> date | None:
    t = token.strip().lower().rstrip(".")
    m = re.fullmatch(rf"(\d{{1,2}})[ .\-]?({_MONTH_RE})\.?(?:[ .\-]?(\d{{2,4}}))?", t)
    if m:
        day, month = int(m.group(1)), MONTHS[m.group(2)]
        year = int(m.group(3)) if m.group(3) else year_hint
        if year is None:
            return None
        year += 2000 if year < 100 else 0
        return date(year, month, day)
    for pattern, order in ((r"(\d{4})-(\d{2})-(\d{2})", "ymd"),
                           (r"(\d{1,2})[./-](\d{1,2})[./-](\d{2,4})", "dmy")):
        m = re.fullmatch(pattern, t)
        if m:
            a, b, c = (int(x) for x in m.groups())
            y, mo, d = (a, b, c) if order == "ymd" else (c + (2000 if c < 100 else 0), b, a)
            return date(y, mo, d)
    return None


def _balance(text: str, pattern: re.Pattern[str], decimal: str) -> Decimal | None:
    for line in text.splitlines():
        if pattern.search(line):
            m = _LINE_END.search(line.rstrip())
            if m:
                value = money(parse_amount(m.group("amount"), decimal=decimal))
                mark = (m.group("mark") or "").upper()
                return -abs(value) if mark in _DEBIT_MARKS else value
    return None


def parse_text_export(data: bytes, *, name: str = "statement.txt",
                      options: CsvOptions | None = None) -> StatementFile:
    text, encoding = decode_bytes(data)
    return parse_statement_text(text, name=name, encoding=encoding)


def parse_statement_text(text: str, *, name: str, encoding: str = "utf-8",
                         pages: list[int] | None = None) -> StatementFile:
    """Transactions of a statement's text. Raises UnreadableStatementError when the text is a
    statement but its lines cannot be read without a guess, EmptyDocumentError without lines."""
    cands = _candidates(text)
    if not cands:
        raise EmptyDocumentError(f"{name}: no transaction lines in the statement text")
    decimal = "," if sum(a.group("amount")[-3] == "," for *_, a in cands) > len(cands) / 2 else "."
    years = [int(y) for y in re.findall(r"\b(?:19|20)(\d{2})\b", text)]
    year_hint = 2000 + years[0] if years else None
    lines = text.splitlines()
    txs: list[ParsedTransaction] = []
    marks: list[str] = []
    before: list[tuple[Decimal, str] | None] = []  # the amount left of the last one, if any
    for no, line, d, a in cands:
        tokens = _DATE_TOKEN.findall(line[:a.start()])
        days = [x for x in (_date(t, year_hint) for t in tokens) if x]
        with_year = [x for t, x in zip(tokens, days, strict=False) if re.search(r"\d{2,4}$", t)
                     and not re.fullmatch(r"\d{1,2}", t)]
        if not days:
            continue
        day = with_year[0] if with_year else days[0]
        try:
            value = money(parse_amount(a.group("amount"), decimal=decimal))
        except AmountError as exc:
            raise CorruptDocumentError(f"{name} line {no}: {exc}") from None
        mark = (a.group("mark") or "").upper()
        marks.append(mark)
        prev = _LINE_END.search(line[:a.start()].rstrip())
        if prev and prev.start() > d.end():
            before.append((money(parse_amount(prev.group("amount"), decimal=decimal)),
                           (prev.group("mark") or "").upper()))
        else:
            before.append(None)
        desc = clean(line[d.end():(prev.start() if prev and prev.start() > d.end()
                                   else a.start())])
        nxt = no
        while nxt < len(lines) and lines[nxt].strip() and not _DATE_TOKEN.search(lines[nxt]) \
                and not _LINE_END.search(lines[nxt].rstrip()) and not _TOTAL.search(lines[nxt]):
            desc = clean(f"{desc} {lines[nxt]}")
            nxt += 1
        txs.append(ParsedTransaction(booking_date=day, amount=value, currency="XXX",
                                     description=desc, location=Location(line=no)))
    if not txs:
        raise UnreadableStatementError(f"{name}: transaction lines without readable dates")
    opening = _balance(text, _OPENING, decimal)
    closing = _balance(text, _CLOSING, decimal)
    running = _running_balance_reading(txs, marks, before, opening)
    if running is not None:  # the last column is a running balance, the one before it the amount
        amounts, opening, last = running
        txs = [replace(t, amount=v) for t, v in zip(txs, amounts, strict=True)]
        marks = ["" for _ in marks]
        closing = closing if closing is not None else last
    signed = [t.amount for t in txs]
    credit_only = any(m in _CREDIT_MARKS for m in marks) and not any(m in _DEBIT_MARKS
                                                                      for m in marks)
    fixed = []
    for t, m in zip(txs, marks, strict=True):
        amt = t.amount
        if m in _CREDIT_MARKS:
            amt = abs(amt)
        elif m in _DEBIT_MARKS or (credit_only and amt > 0):
            amt = -abs(amt)
        fixed.append(replace(t, amount=amt))
    card = card_owed(text, fixed, marks)
    if card:
        fixed = [replace(t, amount=-t.amount) for t in fixed]
    currency = _currency(text)
    if currency:
        fixed = [replace(t, currency=currency) for t in fixed]
    if card:  # "Previous/New Balance" is what is owed: the holder's balance is its negative
        opening = -opening if opening is not None else None
        closing = -closing if closing is not None else None
    ident = _account(text) or f"text:{currency or 'statement'}"
    stmt = ParsedStatement(
        account=AccountRef(identifier=ident, currency=currency,
                           type="credit" if card or credit_only else None),
        transactions=tuple(fixed), currency=currency,
        period_start=min(t.booking_date for t in fixed),
        period_end=max(t.booking_date for t in fixed),
        opening_balance=opening, closing_balance=closing)
    warnings = ["card statement printing purchases positive: read as money out, and its "
                "balances as amounts owed"] if card else []
    if credit_only:
        if check_balance(stmt).status != BALANCE_OK:
            raise UnreadableStatementError(
                f"{name}: only credits are marked (CR) and the balances do not prove that the "
                "unmarked amounts are money out")
        warnings.append("unmarked amounts read as money out (credits are marked CR; the "
                        "balances agree)")
    if running is not None:
        warnings.append("amounts read beside a running balance; their signs follow the balance")
    elif all(x > 0 for x in signed) and not any(marks):
        raise UnreadableStatementError(f"{name}: every amount is positive and nothing marks "
                                       "which are money out")
    if ident.startswith("text:"):
        warnings.append(f"no account number in the file; filed under account {ident!r}")
    return StatementFile(format="text", statements=(stmt,), warnings=tuple(warnings))


def _signed_mark(value: Decimal, mark: str) -> Decimal:
    if mark in _CREDIT_MARKS:
        return abs(value)
    if mark in _DEBIT_MARKS:
        return -abs(value)
    return value


def _running_balance_reading(txs: list[ParsedTransaction], marks: list[str],
                             before: list[tuple[Decimal, str] | None],
                             opening: Decimal | None,
                             ) -> tuple[list[Decimal], Decimal, Decimal] | None:
    """(signed amounts, opening, closing) when every line ends "amount balance" and the balances
    chain: balance = previous balance + amount. Unsigned amounts take the sign of the balance's
    change (from the printed opening balance on), which the chain then proves; None otherwise."""
    if not txs or any(b is None for b in before):
        return None
    balances = [_signed_mark(t.amount, m) for t, m in zip(txs, marks, strict=True)]
    amounts = [_signed_mark(v, m) for v, m in (b for b in before if b is not None)]
    if any(a < 0 for a in amounts) or any(m for _, m in (b for b in before if b is not None)):
        chain = running_balances(amounts, balances)
        return (amounts, chain[0], chain[1]) if chain is not None else None
    if opening is None:
        return None  # the first row's sign could only be guessed
    prev, out = opening, []
    for amount, balance in zip(amounts, balances, strict=True):
        change = balance - prev
        if abs(change) != amount:
            return None
        out.append(change)
        prev = balance
    return out, opening, prev


_ACCOUNT = re.compile(r"\b([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,4})?)\b"
                      r"|((?:[X*]{4}[ -]?){2,3}[X*\d]{0,4}[ -]?\d{4})\b")


def _account(text: str) -> str | None:
    """An IBAN or a masked card number printed in the statement (one distinct value)."""
    found = {"".join((m.group(1) or m.group(2)).split()) for m in _ACCOUNT.finditer(text)}
    return found.pop() if len(found) == 1 else None


def card_owed(text: str, txs: list[ParsedTransaction], marks: list[str]) -> bool:
    """A card statement that prints purchases positive and payments negative (what is owed):
    card wording, no debit/credit markers, most rows positive, and every row that names a
    payment negative. Then every sign is turned to the holder's view."""
    if not _CARD.search(text) or any(marks):
        return False
    positive = sum(t.amount > 0 for t in txs)
    payments = [t for t in txs
                if _PAYMENT.search(f"{t.counterparty or ''} {t.description or ''}")]
    return positive > len(txs) / 2 and all(t.amount < 0 for t in payments)


def _currency(text: str) -> str | None:
    codes = [c for c in re.findall(r"\b([A-Z]{3})\b", text) if c in ISO_CURRENCIES]
    distinct = set(codes)
    return codes[0] if len(distinct) == 1 else None
