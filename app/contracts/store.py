"""Contract terms in the database: which contract documents need extraction, extracting one
(LLM when a chat client is given, rules otherwise or when the LLM fails), storing one row per
document, and listing the stored contracts with their schedule on a given day.

A document needs extraction when it is of kind "contract" and its terms are missing, older than
the document, or were found by rules while an extraction LLM is now given. `app.services.contracts`
wires the configured LLM and the local date in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, or_, select

from app.contracts.deadlines import Schedule, schedule_of
from app.contracts.llm_extract import SourceChunk, extract_with_llm
from app.contracts.rules import ChunkSpan, extract_rules
from app.contracts.terms import ContractTerms
from app.core.errors import HomeragError
from app.core.models import Chunk, Contract, Document

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.core.chat import ChatClient
    from app.core.db import Database

log = logging.getLogger(__name__)


@dataclass
class RefreshReport:
    extracted: list[int] = field(default_factory=list)  # document ids
    by_llm: int = 0
    by_rules: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"extracted": len(self.extracted), "llm": self.by_llm, "rules": self.by_rules,
                "failed": [{"document_id": d, "reason": r} for d, r in self.failed]}


def documents_to_extract(session: Session, *, llm: bool, force: bool = False) -> list[int]:
    """Contract documents without current key terms."""
    query = select(Document.id).outerjoin(Contract, Contract.document_id == Document.id).where(
        Document.kind == "contract")
    if not force:
        stale = [Contract.id.is_(None), Contract.extracted_at < Document.updated_at]
        if llm:
            stale.append(Contract.method == "rules")
        query = query.where(or_(*stale))
    return list(session.scalars(query.order_by(Document.id)))


def _load(session: Session, document_id: int) -> tuple[Document, list[Chunk]]:
    doc = session.get(Document, document_id)
    if doc is None:
        raise HomeragError(f"document {document_id} not found")
    chunks = list(session.scalars(
        select(Chunk).where(Chunk.document_id == document_id).order_by(Chunk.ordinal)))
    return doc, chunks


def extract_terms(session: Session, document_id: int, *, chat: ChatClient | None,
                  today: date) -> ContractTerms:
    """Key terms of one stored document: LLM first when given, rules otherwise or as fallback."""
    doc, chunks = _load(session, document_id)
    title = doc.title or doc.origin
    if chat is not None:
        try:
            return extract_with_llm(
                chat, title=title, today=today,
                chunks=[SourceChunk(c.id, c.page, c.text) for c in chunks])
        except HomeragError as exc:
            log.warning("LLM extraction failed for document %s: %s", document_id, exc)
            terms = extract_rules(doc.content, _spans(chunks))
            return _with_warning(terms, f"LLM extraction failed ({exc}); rule-based result")
    return extract_rules(doc.content, _spans(chunks))


def _spans(chunks: list[Chunk]) -> list[ChunkSpan]:
    return [ChunkSpan(c.id, c.char_start, c.char_end, c.page) for c in chunks]


def _with_warning(terms: ContractTerms, warning: str) -> ContractTerms:
    from dataclasses import replace

    return replace(terms, warnings=(*terms.warnings, warning))


def store_terms(session: Session, document_id: int, terms: ContractTerms, *,
                title: str | None) -> Contract:
    """Replace the document's contract row with these terms."""
    session.execute(delete(Contract).where(Contract.document_id == document_id))
    warnings = list(terms.warnings)
    term_months = terms.term.months if terms.term else None
    if terms.term is not None and term_months is None:
        warnings.append(f"a term of {terms.term.label()} cannot be scheduled; ignored")
    renewal_months = terms.renewal.months if terms.renewal else None
    if terms.renewal is not None and renewal_months is None:
        warnings.append(f"a renewal of {terms.renewal.label()} cannot be scheduled; ignored")
    cites: dict[str, Any] = {k: c.to_json() for k, c in terms.citations.items() if c is not None}
    for key, period in (("term", terms.term), ("renewal", terms.renewal), ("notice", terms.notice)):
        if period is not None and key in cites:
            cites[key]["value"] = period.iso()
    row = Contract(
        document_id=document_id, title=title, method=terms.method, model=terms.model,
        parties=list(terms.parties), start_date=terms.start_date, term_months=term_months,
        renewal_months=renewal_months,
        after_term=terms.after_term if renewal_months or terms.after_term != "renews" else None,
        notice_value=terms.notice.count if terms.notice else None,
        notice_unit=terms.notice.unit if terms.notice else None,
        notice_to_month_end=terms.notice_to_month_end, end_date=terms.end_date,
        amounts=[a.to_json() for a in terms.amounts], payment_rhythm=terms.payment_rhythm,
        terms=cites, warnings=warnings,
    )
    session.add(row)
    session.flush()
    return row


def extract_pending(db: Database, *, chat: ChatClient | None, today: date,
                    force: bool = False) -> RefreshReport:
    """Extract and store terms of every contract document that needs it (see module docstring).

    Each document in its own transaction; a document that fails is listed in the report and
    the others go on."""
    report = RefreshReport()
    with db.session() as s:
        todo = documents_to_extract(s, llm=chat is not None, force=force)
    for document_id in todo:
        try:
            with db.session() as s:
                doc = s.get(Document, document_id)
                if doc is None:
                    continue  # removed meanwhile
                terms = extract_terms(s, document_id, chat=chat, today=today)
                store_terms(s, document_id, terms, title=doc.title)
        except HomeragError as exc:
            report.failed.append((document_id, str(exc)))
            continue
        report.extracted.append(document_id)
        if terms.method == "llm":
            report.by_llm += 1
        else:
            report.by_rules += 1
    return report


@dataclass(frozen=True, slots=True)
class ContractView:
    contract: Contract
    path: str
    schedule: Schedule

    def to_json(self) -> dict[str, Any]:
        c, s = self.contract, self.schedule
        return {
            "contract_id": c.id, "document_id": c.document_id, "title": c.title, "path": self.path,
            "method": c.method, "model": c.model, "parties": c.parties,
            "start_date": _iso(c.start_date), "term_months": c.term_months,
            "after_term": c.after_term, "renewal_months": c.renewal_months,
            "notice": _notice(c.notice_value, c.notice_unit),
            "notice_to_month_end": c.notice_to_month_end, "end_date": _iso(c.end_date),
            "amounts": c.amounts, "payment_rhythm": c.payment_rhythm,
            "status": s.status, "term_end": _iso(s.term_end), "next_renewal": _iso(s.next_renewal),
            "cancel_by": _iso(s.cancel_by), "earliest_end": _iso(s.earliest_end),
            "notes": list(s.notes), "warnings": c.warnings, "citations": c.terms,
        }


def _notice(value: int | None, unit: str | None) -> str | None:
    """'3 months', '1 month'."""
    if not value or not unit:
        return None
    return f"{value} {unit[:-1] if value == 1 and unit.endswith('s') else unit}"


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def list_contracts(session: Session, today: date) -> list[ContractView]:
    rows = session.execute(
        select(Contract, Document.origin).join(Document, Document.id == Contract.document_id)
    ).all()
    views = [ContractView(c, origin, schedule_of(c, today)) for c, origin in rows]
    views.sort(key=lambda v: (v.schedule.cancel_by or v.schedule.term_end or date.max,
                              v.contract.title or ""))
    return views
