"""Contracts use cases: extract key terms of contract documents, and list contracts with their
schedule and the deadlines coming up (last day to cancel, ends).

`refresh_contracts(rt)` is what runs after every sync (CLI ingest, demo, scheduler) and behind
`homerag contracts` / `POST /api/contracts/refresh`: it extracts terms of new or changed contract
documents with the configured extraction LLM (rules without one, or when it fails).
`contracts_overview(rt)` is the one listing that the CLI (`--json`), `GET /api/contracts` and the
/contracts page all show. The domain logic lives in `app.contracts`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInputError

if TYPE_CHECKING:  # the domain is imported where used: shells import this module cheaply
    from app.contracts.deadlines import Deadline
    from app.contracts.store import ContractView, RefreshReport
    from app.core.chat import ChatClient
    from app.services.runtime import Runtime


log = logging.getLogger(__name__)

DEFAULT_DAYS = 60
MAX_DAYS = 3660


class _Configured:
    def __repr__(self) -> str:
        return "CONFIGURED"


CONFIGURED: Any = _Configured()  # "the extraction LLM of the settings" (None: rules only)


def local_today(rt: Runtime) -> date:
    """Today in the owner's time zone (HOMERAG_TIMEZONE)."""
    return datetime.now(rt.settings.tz).date()


def parse_day(value: str | None, *, name: str = "today") -> date | None:
    """A YYYY-MM-DD day given by the caller (None when not given); a bad one names `name`."""
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInputError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from exc


def refresh_contracts(rt: Runtime, *, today: date | None = None, force: bool = False,
                      chat: ChatClient | None = CONFIGURED) -> RefreshReport:
    """Extract and store terms of every contract document that needs it.

    `chat` defaults to the configured extraction endpoint (HOMERAG_EXTRACT_LLM_BASE_URL, else
    HOMERAG_LLM_BASE_URL); None uses the rules only. A document that fails is listed in the
    report and logged; nothing is raised for it, so this can run after any sync.
    """
    from app.contracts.store import extract_pending

    if chat is CONFIGURED:
        chat = rt.chat_client("extract")
    report = extract_pending(rt.db, chat=chat, today=today or local_today(rt), force=force)
    if report.extracted:
        log.info("contract terms extracted: %s", report.to_json())
    for document_id, reason in report.failed:
        log.error("contract terms of document %s: %s", document_id, reason)
    return report


def list_contracts(rt: Runtime, *, today: date | None = None) -> list[ContractView]:
    """Every stored contract with its schedule on `today`, soonest deadline first."""
    from app.contracts.store import list_contracts as stored_contracts

    with rt.db.session() as session:
        return stored_contracts(session, today or local_today(rt))


def upcoming_deadlines(rt: Runtime, *, today: date | None = None,
                       days: int = DEFAULT_DAYS) -> list[Deadline]:
    """Cancel-by and end dates within `days` of `today`, soonest first."""
    from app.contracts.deadlines import upcoming_deadlines as stored_deadlines

    _check_days(days)
    with rt.db.session() as session:
        return stored_deadlines(session, today or local_today(rt), days)


@dataclass(frozen=True, slots=True)
class ContractsOverview:
    """What `homerag contracts --json`, `GET /api/contracts` and the /contracts page show."""

    today: date
    days: int
    deadlines: list[Deadline]
    contracts: list[ContractView]
    refreshed: RefreshReport | None = None

    def to_json(self) -> dict[str, Any]:
        return {"today": self.today.isoformat(), "days": self.days,
                "refreshed": self.refreshed.to_json() if self.refreshed else None,
                "deadlines": [d.to_json() for d in self.deadlines],
                "contracts": [v.to_json() for v in self.contracts]}


def contracts_overview(rt: Runtime, *, today: date | None = None, days: int = DEFAULT_DAYS,
                       refresh: bool = False) -> ContractsOverview:
    """Contracts with their terms and schedule, and the deadlines within `days`; with
    `refresh`, terms of new or changed contract documents are extracted first."""
    _check_days(days)
    day = today or local_today(rt)
    refreshed = refresh_contracts(rt, today=day) if refresh else None
    return ContractsOverview(today=day, days=days, refreshed=refreshed,
                             deadlines=upcoming_deadlines(rt, today=day, days=days),
                             contracts=list_contracts(rt, today=day))


def _check_days(days: int) -> None:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInputError(f"days must be between 1 and {MAX_DAYS}, not {days}")


# -- one contract, its payments, the calendar -----------------------------------------------------
def get_contract(rt: Runtime, contract_id: int, *, today: date | None = None) -> dict[str, Any]:
    """One contract's terms, schedule and clause citations, and the recurring debit that pays
    it (`payments`, matched in the transactions by counterparty and amount)."""
    from app.core.errors import NotFoundError

    view = next((v for v in list_contracts(rt, today=today) if v.contract.id == contract_id),
                None)
    if view is None:
        raise NotFoundError(f"contract {contract_id} does not exist")
    out = view.to_json()
    out["payments"] = paying_transactions(rt, out)
    return out


# Words of a party's name that say nothing about who it is.
_NAME_NOISE = frozenset((
    "gmbh", "mbh", "ag", "kg", "co", "ohg", "ug", "ltd", "inc", "llc", "plc", "sa", "bv", "nv",
    "und", "and", "the", "der", "die", "das", "for", "für", "von", "vertrag", "contract",
    "kunde", "customer", "mitglied", "member", "beispiel", "example", "service", "services"))


def _name_words(names: list[str]) -> set[str]:
    import re

    words: set[str] = set()
    for name in names:
        for w in re.findall(r"[^\W\d_]{4,}", (name or "").lower()):
            if w not in _NAME_NOISE:
                words.add(w)
    return words


def paying_transactions(rt: Runtime, contract: dict[str, Any], *,
                        limit: int = 12) -> dict[str, Any] | None:
    """The payee whose debits pay this contract: the one whose name shares words with the
    contract's parties or title, preferring one that was charged the contract's amount; its
    latest debits (each with its statement row). None when nothing matches."""
    from decimal import Decimal

    from sqlalchemy import func, or_, select

    from app.core.models import Transaction
    from app.money.queries import get_transactions

    words = _name_words([*(contract.get("parties") or []), contract.get("title") or ""])
    amounts = {(Decimal(str(a["amount"])), a.get("currency") or "EUR")
               for a in contract.get("amounts") or [] if a.get("amount")}
    if not words:
        return None
    text = func.lower(func.concat_ws(" ", Transaction.counterparty, Transaction.description))
    with rt.db.session() as s:
        rows = s.execute(
            select(Transaction.id, Transaction.merchant, Transaction.counterparty,
                   Transaction.amount, Transaction.currency, text.label("text"))
            .where(Transaction.amount < 0,
                   or_(*[text.contains(w, autoescape=True) for w in sorted(words)]))
            .order_by(Transaction.booking_date.desc()).limit(2000)).all()
        groups: dict[str, list[Any]] = {}
        for r in rows:
            groups.setdefault(r.merchant or r.counterparty or "?", []).append(r)
        if not groups:
            return None

        def score(item: tuple[str, list[Any]]) -> tuple[int, int, int]:
            _key, txs = item
            matched = sum(1 for w in words if w in txs[0].text)
            paid = sum(1 for t in txs if (-t.amount, t.currency) in amounts)
            return (matched, paid, len(txs))

        key, txs = max(groups.items(), key=score)
        matched_words = sorted(w for w in words if w in txs[0].text)
        by_amount = any((-t.amount, t.currency) in amounts for t in txs)
        shown = get_transactions(s, [t.id for t in txs[:limit]])
    shown.sort(key=lambda r: (r.date, r.id), reverse=True)
    return {
        "merchant": key, "label": txs[0].counterparty or key, "count": len(txs),
        "matched_by": ["name"] + (["amount"] if by_amount else []),
        "words": matched_words,
        "transactions": [{**r.to_json(), "statement_url": _statement_url(r)} for r in shown],
    }


def _statement_url(row: Any) -> str | None:
    from app.services.transactions import statement_url

    return statement_url(row)


def deadlines_calendar(rt: Runtime, *, today: date | None = None) -> str:
    """Every contract's last day to cancel (and end date, for those that end by themselves)
    as an iCalendar feed with an alarm a week before each."""
    from datetime import UTC

    from app.contracts.ics import CalendarEvent, calendar
    from app.services.report import _link_base

    base = _link_base(rt.settings)
    events = []
    for v in list_contracts(rt, today=today):
        c, s = v.contract, v.schedule
        title = c.title or v.path.rsplit("/", 1)[-1]
        url = f"{base}/contracts/{c.id}"
        if s.cancel_by is not None:
            renews = f" The contract renews on {s.next_renewal.isoformat()}." \
                if s.next_renewal else ""
            events.append(CalendarEvent(
                uid=f"contract-{c.id}-cancel-by-{s.cancel_by.isoformat()}@homerag",
                day=s.cancel_by, summary=f"Last day to cancel: {title}",
                description=f"The notice must arrive by this day.{renews} {url}", url=url))
        if s.status == "ends" and s.term_end is not None:
            events.append(CalendarEvent(
                uid=f"contract-{c.id}-ends-{s.term_end.isoformat()}@homerag", day=s.term_end,
                summary=f"Contract ends: {title}", description=url, url=url))
    events.sort(key=lambda e: (e.day, e.uid))
    return calendar(events, now=datetime.now(UTC).replace(microsecond=0))
