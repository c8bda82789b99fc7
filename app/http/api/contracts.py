"""Contracts JSON API: GET /api/contracts (terms, schedule and upcoming deadlines; the shape of
`homerag contracts --json`) and POST /api/contracts/refresh (extract terms of new contracts)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from app.http.deps import RuntimeDep
from app.services import contracts as service

router = APIRouter(prefix="/api", tags=["contracts"])

DaysQuery = Annotated[int, Query(ge=1, le=service.MAX_DAYS,
                                 description="How far ahead to list deadlines.")]
TodayQuery = Annotated[str | None, Query(description="Compute as of this day (YYYY-MM-DD).")]


@router.get("/contracts", summary="Contracts, their key terms and upcoming deadlines")
def get_contracts(rt: RuntimeDep, days: DaysQuery = service.DEFAULT_DAYS,
                  today: TodayQuery = None) -> dict[str, Any]:
    """Every contract with its cited key terms and schedule (term end, next renewal, last day
    to cancel), and the deadlines within `days` (cancel by / ends), soonest first."""
    return service.contracts_overview(rt, today=service.parse_day(today), days=days).to_json()


@router.post("/contracts/refresh", summary="Extract terms of new or changed contracts")
def refresh(rt: RuntimeDep, force: bool = False) -> dict[str, Any]:
    """Runs the extraction LLM when configured, rules otherwise (each contract says which)."""
    return service.refresh_contracts(rt, force=force).to_json()


@router.get("/contracts/calendar.ics", summary="Cancellation deadlines as an iCalendar feed",
            response_class=PlainTextResponse)
def calendar(rt: RuntimeDep) -> PlainTextResponse:
    """RFC 5545: an all-day event per last day to cancel (and per contract that ends), each
    with an alarm a week before. Subscribe to it from a calendar on this machine."""
    return PlainTextResponse(service.deadlines_calendar(rt), media_type="text/calendar")


@router.get("/contracts/{contract_id}", summary="One contract with the debits that pay it")
def get_contract(contract_id: int, rt: RuntimeDep, today: TodayQuery = None) -> dict[str, Any]:
    """Terms with the clauses they were read from, schedule, and `payments`: the payee whose
    recurring debits match the contract (by name and amount) with its latest debits."""
    return service.get_contract(rt, contract_id, today=service.parse_day(today))
