"""Contract deadlines: the current term's end, the next renewal and the last day to cancel.

`compute_schedule` is pure date arithmetic on stored key terms for a given day;
`upcoming_deadlines(session, today, days=60)` reads the contracts table (what the weekly report
and `homerag contracts` call). Notice must *arrive* by the last day to cancel: for a term that
ends on 28 Feb with three months' notice that is 30 Nov (BGB §188; the same count is used for
English contracts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from datetime import date as Date  # for Deadline, whose field `date` shadows the type
from typing import TYPE_CHECKING, Any

from app.contracts.terms import Period, add_months, month_end

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

MAX_PERIODS = 600


@dataclass(frozen=True, slots=True)
class Schedule:
    """Where a contract stands on `today`.

    status: renews (a renewal is coming; cancel by `cancel_by` to stop it), continues (runs
    on after `term_end` unless cancelled by `cancel_by`), ends (the term ends on `term_end` by
    itself), ended, open_ended (runs until cancelled; `earliest_end` if cancelled today),
    unknown (not enough terms to say).
    """

    status: str
    term_end: date | None = None
    next_renewal: date | None = None
    cancel_by: date | None = None
    earliest_end: date | None = None
    notes: tuple[str, ...] = ()


def last_day_to_cancel(term_end: date, notice: Period) -> date:
    """The last day notice can arrive to end the contract at the end of `term_end`."""
    return notice.before(term_end + timedelta(days=1)) - timedelta(days=1)


def open_ended_end(today: date, notice: Period, *, to_month_end: bool) -> date:
    end = notice.after(today)
    return month_end(end) if to_month_end else end


def compute_schedule(*, today: date, start_date: date | None, term_months: int | None,
                     renewal_months: int | None, after_term: str | None,
                     notice: Period | None, notice_to_month_end: bool = False,
                     end_date: date | None = None) -> Schedule:
    """The schedule of one contract on `today` (see `Schedule`)."""
    term_end = end_date
    if start_date is not None and term_months:
        term_end = add_months(start_date, term_months) - timedelta(days=1)
    missing_notice = () if notice else ("no notice period found: check the contract",)
    if term_end is None:
        # No fixed end: runs until cancelled (if it says so, or names a notice period).
        if after_term == "open_ended" or (after_term is None and notice is not None):
            return Schedule("open_ended", earliest_end=_earliest(today, notice,
                                                                 notice_to_month_end),
                            notes=missing_notice)
        note = "term known but no start date" if term_months else "no term or end date found"
        return Schedule("unknown", notes=(note,))
    if after_term == "renews" and renewal_months and start_date is not None and term_months:
        for k in range(MAX_PERIODS):
            end = add_months(start_date, term_months + k * renewal_months) - timedelta(days=1)
            cancel_by = last_day_to_cancel(end, notice) if notice else None
            if (cancel_by or end) >= today:
                return Schedule("renews", term_end=end, next_renewal=end + timedelta(days=1),
                                cancel_by=cancel_by, notes=missing_notice)
        return Schedule("unknown", notes=("renewal schedule out of range",))
    cancel_by = last_day_to_cancel(term_end, notice) if notice else None
    if after_term == "ends":
        return Schedule("ends" if term_end >= today else "ended", term_end=term_end)
    if after_term == "open_ended":
        if cancel_by is not None and cancel_by >= today:
            # Cancelling by then ends it with the fixed term; later it runs until cancelled.
            return Schedule("continues", term_end=term_end, cancel_by=cancel_by)
        return Schedule("open_ended", term_end=term_end,
                        earliest_end=_earliest(today, notice, notice_to_month_end),
                        notes=missing_notice)
    # The text does not say what follows the term: show the safe date to cancel by.
    unclear = ("the contract does not say what happens after the term",)
    if term_end >= today and (cancel_by is None or cancel_by >= today):
        return Schedule("continues", term_end=term_end, cancel_by=cancel_by, notes=unclear)
    return Schedule("unknown", term_end=term_end, notes=unclear)


def _earliest(today: date, notice: Period | None, to_month_end: bool) -> date | None:
    return open_ended_end(today, notice, to_month_end=to_month_end) if notice else None


def schedule_of(contract: Any, today: date) -> Schedule:
    """`compute_schedule` for a `Contract` row."""
    notice = None
    if contract.notice_value and contract.notice_unit:
        try:
            notice = Period(int(contract.notice_value), str(contract.notice_unit))
        except ValueError:
            notice = None
    return compute_schedule(
        today=today, start_date=contract.start_date, term_months=contract.term_months,
        renewal_months=contract.renewal_months, after_term=contract.after_term, notice=notice,
        notice_to_month_end=bool(contract.notice_to_month_end), end_date=contract.end_date,
    )


@dataclass(frozen=True, slots=True)
class Deadline:
    """One date to act on (or be aware of) with what the owner needs to see it."""

    kind: str  # cancel_by | ends
    date: Date
    days_left: int
    contract_id: int
    document_id: int
    title: str
    path: str
    term_end: Date | None
    next_renewal: Date | None
    method: str
    citations: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "date": self.date.isoformat(), "days_left": self.days_left,
            "contract_id": self.contract_id, "document_id": self.document_id,
            "title": self.title, "path": self.path,
            "term_end": self.term_end.isoformat() if self.term_end else None,
            "next_renewal": self.next_renewal.isoformat() if self.next_renewal else None,
            "method": self.method, "citations": self.citations,
        }


def upcoming_deadlines(session: Session, today: date, days: int = 60) -> list[Deadline]:
    """Cancellation deadlines and contract ends from `today` through `today + days`, by date."""
    from sqlalchemy import select

    from app.core.models import Contract, Document

    horizon = today + timedelta(days=days)
    rows = session.execute(
        select(Contract, Document.origin, Document.title).join(
            Document, Document.id == Contract.document_id)
    ).all()
    out: list[Deadline] = []
    for contract, origin, doc_title in rows:
        sched = schedule_of(contract, today)
        title = contract.title or doc_title or origin
        for kind, when in (("cancel_by", sched.cancel_by),
                           ("ends", sched.term_end if sched.status == "ends" else None)):
            if when is None or not today <= when <= horizon:
                continue
            cites = {k: v for k, v in (contract.terms or {}).items()
                     if k in ("notice", "term", "renewal", "start_date", "end_date")}
            out.append(Deadline(kind, when, (when - today).days, contract.id, contract.document_id,
                                title, origin, sched.term_end, sched.next_renewal,
                                contract.method, cites))
    out.sort(key=lambda d: (d.date, d.title))
    return out
