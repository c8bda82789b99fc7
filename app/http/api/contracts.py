"""Contracts JSON API: GET /api/contracts (terms, schedule and upcoming deadlines; the shape of
`homerag contracts --json`) and POST /api/contracts/refresh (extract terms of new contracts)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

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
