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
