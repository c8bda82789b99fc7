"""Reading a CSV statement's text into records: encoding, line ends (also CR-only and CR CR LF
files), delimiter, and the cheap checks that say whether a file is a statement at all (pure).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter

from ingest.money.csvvocab import AMOUNT, BOOKING_DATE, CREDIT, DATE, DEBIT, fold, normalise
from ingest.money.text import decode_bytes, strip_controls

DELIMITERS = (";", ",", "\t", "|")
DATE_CELL = re.compile(
    r"^\s*\"?(\d{1,4}[./\-: ]\d{1,2}[./\-: ]\d{1,4}|\d{1,2}\.\d{1,2}\.|\d{8}"
    r"|\d{1,2}[ \-][A-Za-zÀ-ÿ]{3,9}\.?[ \-]\d{2,4}|[A-Za-z]{3,9}\.? \d{1,2},? \d{4})"
    r"([ T]\d{1,2}:\d{2}.*)?\s*\"?$")
MONEY_CELL = re.compile(
    r"^\s*\"?[-+(−]?\s*(?:[A-Z]{3}\s+)?[$€£¥]?\s*[-+]?\d[\d.,' \u00a0]*([.,]\d{1,2})?\)?-?\s*"
    r"([A-Z]{3}|[$€£])?\s*\"?$")


def decode(data: bytes) -> tuple[str, str]:
    """(text with "\\n" line ends and no control characters, encoding)."""
    text, encoding = decode_bytes(data)
    # CR CR LF (a CRLF file re-saved on Windows) and CR-only files (old Mac exports) both
    # become plain newlines; CRs inside quoted values are line breaks as well.
    text = text.replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\r", "\n")
    return strip_controls(text), encoding


def sniff_delimiter(text: str) -> str:
    """The delimiter giving the most rows with the same (>1) number of columns."""
    lines = [ln for ln in text.splitlines()[:80] if ln.strip()]
    best, best_score = ",", -1
    for delim in DELIMITERS:
        counts = Counter(len(r) for r in csv.reader(lines, delimiter=delim))
        cols, rows = max(counts.items(), key=lambda kv: (kv[1], kv[0])) if counts else (0, 0)
        score = rows * cols if cols > 1 else 0
        if score > best_score:
            best, best_score = delim, score
    return best


def read_records(text: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def is_delimited(data: bytes) -> bool:
    """A text file whose lines are mostly a table (same number of delimited cells >= 3)."""
    text, _ = decode(data[:32768])
    lines = [ln for ln in text.splitlines()[:60] if ln.strip()]
    if len(lines) < 1:
        return False
    delim = sniff_delimiter("\n".join(lines))
    widths = Counter(len(r) for r in csv.reader(lines, delimiter=delim))
    width, rows = widths.most_common(1)[0]
    return width >= 3 and rows >= max(1, int(len(lines) * 0.6))


def _header_roles(cells: list[str]) -> set[str]:
    roles = set()
    for cell in cells:
        name = normalise(cell)
        folded = fold(cell)
        if name in {fold(w) for w in BOOKING_DATE + DATE} or "date" in folded or "datum" in folded:
            roles.add("date")
        if name in {fold(w) for w in AMOUNT} or name in DEBIT or name in CREDIT \
                or folded.startswith(("amount", "betrag", "bedrag", "montant", "importe")):
            roles.add("amount")
    return roles


def looks_like_statement_csv(data: bytes) -> bool:
    """A header naming a date and an amount column (in any language we know), or rows most of
    which hold a date cell and a money cell."""
    text, _ = decode(data[:32768])
    lines = [ln for ln in text.splitlines()[:60] if ln.strip()]
    if not lines:
        return False
    records = list(csv.reader(lines, delimiter=sniff_delimiter("\n".join(lines))))
    if any({"date", "amount"} <= _header_roles(r) for r in records[:30]):
        return True
    rows = [r for r in records if len(r) >= 2]
    hits = sum(1 for r in rows if any(DATE_CELL.match(c) for c in r)
               and any(MONEY_CELL.match(c) and any(ch.isdigit() for ch in c) and
                       not DATE_CELL.match(c) and ("," in c or "." in c or "-" in c) for c in r))
    return hits >= max(1, len(rows) // 2)
