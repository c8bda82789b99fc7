"""Evidence: which receipts, invoices and mails document which transaction (matching is pure;
`refresh_evidence` reads documents and transactions and writes `evidence` rows).

A document is evidence for a transaction when it states the transaction's amount exactly (an
amount with cents, parsed like statement amounts: ingest/money/amounts.py) and either is dated
near the booking (its own date or a date in its text, within WINDOW_DAYS) or names the merchant.
Score (0..1): 0.4 for the amount, up to 0.35 for the date (full within 3 days, none at the
window's end), 0.25 for the merchant; kept from MIN_SCORE. A document documents one charge: only
its best-scoring transaction(s) are linked. Scans and photos take part through their OCR text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from app.core.months import MONTH_NAMES_PATTERN, MONTHS
from app.core.text import STOPWORDS
from ingest.money.amounts import AmountError, parse_amount

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.answer.types import AnswerResult

WINDOW_DAYS = 45
NEAR_DAYS = 3
MIN_SCORE = 0.6
TEXT_CHARS = 20_000  # of a document's text read for amounts and dates
MAX_AMOUNTS = 200  # per document (a price list is no receipt)

# 1.234,56 | 1,234.56 | 1234.56 | 85,00 — always with cents, not part of a longer number/date.
_AMOUNT = re.compile(r"(?<![\d.,])(\d{1,3}(?:[.,' \u202f]\d{3})+|\d+)([.,])(\d{2})(?![.,]?\d)")
_DATES = (
    re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"),  # 2026-10-19
    re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4}|\d{2})\b"),  # 19.10.2026, 19/10/26
)
_NAMED_DATE = re.compile(
    rf"\b(\d{{1,2}})\.?\s+({MONTH_NAMES_PATTERN})\.?\s+(\d{{4}})\b|"
    rf"\b({MONTH_NAMES_PATTERN})\.?\s+(\d{{1,2}}),?\s+(\d{{4}})\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
# Words of bank booking texts and company forms that name no merchant.
_GENERIC = frozenset("""gmbh mbh ag kg ohg ug ltd inc llc co sarl sas bv nv plc corp company markt
    sepa lastschrift basislastschrift kartenzahlung karte card pos debit credit online payment
    zahlung überweisung ueberweisung dauerauftrag gutschrift abschlag rechnung invoice receipt
    filiale store shop germany deutschland berlin münchen hamburg köln frankfurt eur euro usd
    ref mandat mandate abo""".split())


@dataclass(frozen=True, slots=True)
class TxFacts:
    """What the matcher needs of a transaction (amount as a positive magnitude)."""

    id: int
    day: date
    amount: Decimal
    currency: str
    names: tuple[str, ...]  # counterparty, merchant key, description


@dataclass(frozen=True, slots=True)
class DocFacts:
    """What the matcher reads from a document."""

    id: int
    amounts: frozenset[Decimal]
    dates: tuple[date, ...]
    words: frozenset[str]  # lower-case words of its title, sender and text


@dataclass(frozen=True, slots=True)
class Match:
    transaction_id: int
    document_id: int
    score: float
    reason: str


def amounts_in(text: str, *, limit: int = MAX_AMOUNTS) -> frozenset[Decimal]:
    """Amounts with cents written in `text` ("85,00 €", "EUR 1.234,56", "12.99"), positive."""
    found: set[Decimal] = set()
    for m in _AMOUNT.finditer(text):
        whole, sep, cents = m.groups()
        if whole[:1] == "0" and len(whole.replace(".", "").replace(",", "")) > 1:
            continue  # 0042.50: a reference number
        try:
            value = parse_amount(f"{whole}{sep}{cents}", decimal=sep)
        except AmountError:
            continue
        if value > 0:
            found.add(abs(value))
        if len(found) >= limit:
            break
    return frozenset(found)


def dates_in(text: str) -> tuple[date, ...]:
    """Dates written in `text`: 2026-10-19, 19.10.2026, 19/10/26, 19. Oktober 2026, Oct 19, 2026."""
    out: list[date] = []
    for m in _DATES[0].finditer(text):
        _add_date(out, int(m.group(1)), int(m.group(2)), int(m.group(3)))
    for m in _DATES[1].finditer(text):
        short = int(m.group(3))
        _add_date(out, short + 2000 if short < 100 else short, int(m.group(2)), int(m.group(1)))
    for m in _NAMED_DATE.finditer(text):
        day, month, year = (m.group(1, 2, 3) if m.group(1) else
                            (m.group(5), m.group(4), m.group(6)))
        _add_date(out, int(year), MONTHS[month.lower()], int(day))
    return tuple(dict.fromkeys(out))


def _add_date(out: list[date], year: int, month: int, day: int) -> None:
    try:
        value = date(year, month, day)
    except ValueError:
        return
    if 1990 <= value.year <= 2100:
        out.append(value)


def name_words(names: Iterable[str | None]) -> frozenset[str]:
    """Distinctive words of a merchant's names ("REWE Markt GmbH" -> {"rewe"})."""
    words: set[str] = set()
    for name in names:
        for w in _WORD.findall((name or "").lower()):
            if w not in _GENERIC and w not in STOPWORDS:
                words.add(w)
    return frozenset(words)


def doc_facts(document_id: int, *, text: str, title: str | None = None,
              sender: str | None = None, occurred: date | None = None) -> DocFacts:
    """The amounts, dates and words of a document (its own date first)."""
    head = text[:TEXT_CHARS]
    dates = ((occurred,) if occurred else ()) + dates_in(head)
    words = frozenset(w.lower() for w in _WORD.findall(" ".join([title or "", sender or "",
                                                                 head])))
    return DocFacts(id=document_id, amounts=amounts_in(head), dates=dates, words=words)


def score_match(tx: TxFacts, doc: DocFacts, *, window: int = WINDOW_DAYS) -> Match | None:
    """The match of `doc` for `tx`, or None: the amount must be in the document, and a date near
    the booking or the merchant's name must be too."""
    if tx.amount not in doc.amounts:
        return None
    reasons = [f"amount {tx.amount:.2f} {tx.currency}"]
    score = 0.4
    near = [d for d in doc.dates if abs((d - tx.day).days) <= window]
    if near:
        best = min(near, key=lambda d: abs((d - tx.day).days))
        gap = abs((best - tx.day).days)
        part = 1.0 if gap <= NEAR_DAYS else 1.0 - (gap - NEAR_DAYS) / (window - NEAR_DAYS)
        score += 0.35 * part
        reasons.append(f"dated {best.isoformat()}"
                       + (" (the booking day)" if gap == 0 else f" ({gap} days from the booking)"))
    named = sorted(name_words(tx.names) & doc.words)
    if named:
        score += 0.25
        reasons.append("names " + ", ".join(f"'{w}'" for w in named[:3]))
    if score < MIN_SCORE:
        return None
    return Match(transaction_id=tx.id, document_id=doc.id, score=round(score, 3),
                 reason="; ".join(reasons))


def best_matches(txs: Sequence[TxFacts], docs: Sequence[DocFacts], *,
                 window: int = WINDOW_DAYS) -> list[Match]:
    """For each document, its best-scoring transaction(s) (ties kept: the same charge twice)."""
    by_amount: dict[Decimal, list[TxFacts]] = {}
    for tx in txs:
        by_amount.setdefault(tx.amount, []).append(tx)
    out: list[Match] = []
    for doc in docs:
        found = [m for amount in doc.amounts for tx in by_amount.get(amount, ())
                 if (m := score_match(tx, doc, window=window)) is not None]
        if found:
            top = max(m.score for m in found)
            out.extend(m for m in found if m.score >= top - 1e-9)
    return out


# -- database ---------------------------------------------------------------------------------------
@dataclass
class EvidenceRefresh:
    """What one refresh looked at and linked."""

    documents: int = 0
    transactions: int = 0
    linked: list[Match] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"documents": self.documents, "transactions": self.transactions,
                "linked": len(self.linked)}


def refresh_evidence(session: Session, *, since: datetime | None = None,
                     window: int = WINDOW_DAYS) -> EvidenceRefresh:
    """Match documents changed since `since` (all when None), and documents that state the
    amount of a transaction added since then, against the transactions; replace their
    unconfirmed links. Links the owner rejected stay (and are never proposed again); a
    document with a confirmed link is left as the owner decided. The caller owns the
    transaction."""
    from sqlalchemy import delete, func, or_, select

    from app.core.models import Document, Evidence, Transaction

    doc_filter = [Document.kind != "statement"]
    wanted = select(Document.id).where(*doc_filter)
    if since is not None:
        new_txs = session.execute(select(func.abs(Transaction.amount))
                                  .where(Transaction.created_at >= since).distinct()).scalars()
        needles = [n for amount in new_txs for n in amount_needles(Decimal(amount))][:400]
        changed = or_(Document.updated_at >= since, Document.created_at >= since,
                      *(Document.content.contains(n) for n in needles))
        wanted = wanted.where(changed)
    rows = session.execute(
        select(Document.id, Document.title, Document.meta, Document.occurred_at,
               func.left(Document.content, TEXT_CHARS))
        .where(Document.id.in_(wanted))).all()
    docs = [doc_facts(r[0], text=r[4] or "", title=r[1], sender=(r[2] or {}).get("from"),
                      occurred=r[3].date() if r[3] else None) for r in rows]
    docs = [d for d in docs if d.amounts]
    result = EvidenceRefresh(documents=len(docs))
    if not docs:
        return result
    amounts = sorted({a for d in docs for a in d.amounts})
    days = [day for d in docs for day in d.dates]
    query = select(Transaction.id, Transaction.booking_date, Transaction.amount,
                   Transaction.currency, Transaction.counterparty, Transaction.merchant,
                   Transaction.description).where(func.abs(Transaction.amount).in_(amounts))
    if days:
        query = query.where(Transaction.booking_date.between(
            min(days) - timedelta(days=window), max(days) + timedelta(days=window)))
    txs = [TxFacts(id=r[0], day=r[1], amount=abs(Decimal(r[2])), currency=r[3],
                   names=tuple(n for n in (r[4], r[5], r[6]) if n))
           for r in session.execute(query)]
    result.transactions = len(txs)
    matches = best_matches(txs, docs, window=window)
    doc_ids = [d.id for d in docs]
    confirmed = set(session.execute(select(Evidence.document_id).where(
        Evidence.document_id.in_(doc_ids), Evidence.confirmed)).scalars())
    rejected = {(t, d) for t, d in session.execute(
        select(Evidence.transaction_id, Evidence.document_id).where(
            Evidence.document_id.in_(doc_ids), Evidence.rejected))}
    session.execute(delete(Evidence).where(Evidence.document_id.in_(doc_ids),
                                           Evidence.confirmed.is_(False),
                                           Evidence.rejected.is_(False)))
    for m in matches:
        if m.document_id in confirmed or (m.transaction_id, m.document_id) in rejected:
            continue  # the owner decided for this document, or against this pair
        session.add(Evidence(transaction_id=m.transaction_id, document_id=m.document_id,
                             score=m.score, reason=m.reason))
        result.linked.append(m)
    session.flush()
    return result


def amount_needles(amount: Decimal) -> list[str]:
    """How `amount` may be written: "1234.56", "1234,56", "1.234,56", "1,234.56"."""
    plain = f"{amount:.2f}"
    grouped = f"{amount:,.2f}"
    out = [plain, plain.replace(".", ","), grouped,
           grouped.replace(",", "_").replace(".", ",").replace("_", ".")]
    return list(dict.fromkeys(out))


# -- answers -----------------------------------------------------------------------------------------
# "Show me the invoice for this charge": a money question that asks for receipts or invoices.
ASKS_FOR_EVIDENCE = re.compile(
    r"\b(?:invoices?|receipts?|bills?|rechnung(?:en)?|quittung(?:en)?|belege?|kassenbons?|bons?)\b",
    re.IGNORECASE)
MAX_EVIDENCE_CITED = 5


def with_evidence(session: Session, result: AnswerResult) -> AnswerResult:
    """`result` (a money answer citing transactions) with a line per linked receipt or invoice,
    citing the passage that states the amount; a line saying so when none is linked."""
    from dataclasses import replace

    from sqlalchemy import select

    from app.answer.types import Citable, Citation, ContextBlock
    from app.core.models import Chunk, Document, Evidence, Transaction

    tx_ids = [c.citable.location.get("transaction_id") for c in result.citations
              if c.citable.kind == "transaction"]
    tx_ids = [t for t in tx_ids if isinstance(t, int)]
    if not tx_ids:
        return result
    rows = session.execute(
        select(Evidence, Transaction, Document)
        .join(Transaction, Transaction.id == Evidence.transaction_id)
        .join(Document, Document.id == Evidence.document_id)
        .where(Evidence.transaction_id.in_(tx_ids), Evidence.rejected.is_(False))
        .order_by(Evidence.confirmed.desc(), Evidence.score.desc())
        .limit(MAX_EVIDENCE_CITED)).all()
    if not rows:
        return replace(result, answer=result.answer + "\nNo receipt, invoice or mail is linked to "
                       "these transactions yet.")
    lines = [result.answer]
    citations = list(result.citations)
    offered = list(result.offered)
    n = max((c.n for c in citations), default=0)
    for _ev, tx, doc in rows:
        n += 1
        amount = abs(Decimal(tx.amount))
        chunks = list(session.scalars(select(Chunk).where(Chunk.document_id == doc.id)
                                      .order_by(Chunk.ordinal)))
        chunk, line = _amount_line(chunks, amount)
        citable = Citable(
            text=chunk.text if chunk else (doc.content or "")[:2000], path=doc.origin,
            title=doc.title, page=chunk.page if chunk else None,
            chunk_id=chunk.id if chunk else None, document_id=doc.id, kind="chunk",
            location={"char_start": chunk.char_start, "char_end": chunk.char_end,
                      "evidence_for": tx.id} if chunk else {"evidence_for": tx.id})
        span = ((chunk.char_start + line[0], chunk.char_start + line[1])
                if chunk and line else None)
        shown = chunk.text[line[0]:line[1]] if chunk and line else None
        what = {"email": "Mail"}.get(doc.kind, "Receipt or invoice")
        lines.append(f"{what} for the {amount:.2f} {tx.currency} charge on {tx.booking_date} "
                     f"({tx.counterparty or tx.merchant or 'unknown payee'}): "
                     f"{doc.title or doc.origin} [{n}]")
        citations.append(Citation(n=n, citable=citable, span=span, snippet=shown))
        offered.append(ContextBlock(n=n, citable=citable, shown=citable.text))
    return replace(result, answer="\n".join(lines), citations=tuple(citations),
                   offered=tuple(offered), uncited=False)


def _amount_line(chunks: Sequence[Any], amount: Decimal) -> tuple[Any, tuple[int, int] | None]:
    """The chunk that states `amount` and the [start, end) of that line in it."""
    for chunk in chunks:
        for m in re.finditer(r"[^\n]+", chunk.text):
            if amount in amounts_in(m.group(0)):
                return chunk, (m.start(), m.end())
    return (chunks[0] if chunks else None), None
