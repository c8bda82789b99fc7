"""Sign and status conventions that every statement parser applies, written down once.

Amounts
- Every amount is signed from the account holder's point of view: **money out of the account is
  negative, money in is positive**. A parser never stores an unsigned amount.
- Card accounts follow the same rule: a **card purchase, fee or interest charge is money out
  (negative)**; a payment to the card or a refund is money in (positive), however the issuer prints
  them (many card exports print purchases as positive numbers: the parser that knows the layout
  negates them, see `card_amount`).
- Balances are the holder's balance as well: what is owed on a card is a negative balance, so
  opening + sum(booked amounts) = closing holds for card statements too.
- An unsigned amount with a debit/credit indicator (D/C, D/K, S/H, DR/CR, Debit/Credit, Soll/Haben,
  Af/Bij ...) takes the sign of the indicator: debit = money out. An indicator value that is
  neither known debit nor known credit is an error naming the value, **never a guess** and never a
  silently kept sign (see `indicator_sign`).
- Investment transactions carry a signed cash effect on the account's cash with the same rule:
  a buy, a fee or margin interest is negative, a sale, dividend, interest or return of capital is
  positive, a reinvestment, transfer of securities or split is zero.

Status
- Rows a bank marks as not yet booked (pending, vorgemerkt, PDNG, "authorisation") are **kept and
  marked pending**; they are left out of balance checks and replaced by their booked twin when a
  later file lists it (`ingest.money.hook`).
- Rows a bank marks as cancelled, declined or reverted are left out, and the parser says so in a
  warning.

Balance checks (`ingest.money.balance`)
- "ok": opening + booked amounts = closing, in any row order.
- "mismatch": the file's own balances disagree with its rows (shown to the owner).
- "unverified": the file gives no opening/closing pair to check against; not an error.

Dates
- A date the bank wrote that does not exist (30 Feb) is kept as written in `raw_date`, the row is
  flagged in the warnings, and the stored date is the month's last day: never shifted into the
  next month.
- Where a file's dates could be day/month or month/day, the order is decided from all dates in the
  file and stated in the file's warnings; when nothing in the file decides it, the file fails.
"""

from __future__ import annotations

from decimal import Decimal

from app.core.errors import CorruptDocumentError

PENDING = "pending"
BOOKED = "booked"
BALANCE_OK = "ok"
BALANCE_MISMATCH = "mismatch"
BALANCE_UNVERIFIED = "unverified"
BALANCE_STATUSES = (BALANCE_OK, BALANCE_MISMATCH, BALANCE_UNVERIFIED)

# Indicator values (lower case, stripped of dots) in the languages banks export.
DEBIT_WORDS = frozenset({
    "d", "db", "dr", "dbit", "debit", "debet", "debito", "débito", "débit", "deb", "s", "soll",
    "belastung", "lastschrift", "af", "uit", "out", "money out", "withdrawal", "w", "-", "ausgang",
    "addebito", "cargo", "obciążenie", "wn", "ma", "uttag", "udbetaling", "nosto", "belast",
    "charge", "purchase", "payment out", "paid out", "sent", "outgoing", "spend", "ut",
    "dare", "dbt", "debe", "abbuchung", "o",  # "o": I/O columns (Raiffeisen AT)
})
CREDIT_WORDS = frozenset({
    "c", "cr", "crdt", "credit", "crédit", "credito", "crédito", "cred", "h", "haben", "k",
    "kredit", "gutschrift", "bij", "in", "money in", "deposit", "+", "eingang", "accredito",
    "abono", "uznanie", "insättning", "indbetaling", "pano", "received", "incoming", "avere",
    "haber", "ingreso", "bijschrijving", "crd", "cdt", "i",
})


def indicator_sign(value: str, *, where: str) -> int:
    """-1 for a debit indicator, +1 for a credit one; CorruptDocumentError for anything else."""
    key = " ".join(value.strip().lower().replace(".", "").split())
    if key in DEBIT_WORDS:
        return -1
    if key in CREDIT_WORDS:
        return 1
    raise CorruptDocumentError(
        f"{where}: debit/credit indicator {value.strip()!r} is neither a known debit "
        "nor a known credit marker")


def is_indicator(value: str) -> bool:
    key = " ".join(value.strip().lower().replace(".", "").split())
    return key in DEBIT_WORDS or key in CREDIT_WORDS


def signed(amount: Decimal, sign: int) -> Decimal:
    """An unsigned printed amount with the sign of its indicator. A printed minus always means
    money out ("-12.00 CR" is a reversed credit, "-12.00 D" a debit printed with its sign)."""
    return amount if amount < 0 else amount * sign


def card_amount(printed: Decimal, *, purchases_positive: bool) -> Decimal:
    """A card export's amount in the holder's sign: purchases out (negative)."""
    return -printed if purchases_positive else printed


class UnreadableStatementError(CorruptDocumentError):
    """A file that is recognisably a statement (statement wording and lines of dates and
    amounts) but that no layout reads: it fails visibly instead of being indexed as text."""
