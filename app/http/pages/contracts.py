"""The /contracts pages: upcoming deadlines and every contract's terms (the listing of
`GET /api/contracts`); one page per contract with its terms, the clauses they come from, its
deadline and the recurring debit that pays it; extracting terms of new contract documents
with what was extracted or failed shown; and the deadlines as an .ics calendar."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.http.deps import RuntimeDep
from app.http.rendering import render
from app.services import contracts as service

router = APIRouter(include_in_schema=False)

DaysQuery = Annotated[int, Query(ge=1, le=service.MAX_DAYS)]
TodayQuery = Annotated[str | None, Query()]


@router.get("/contracts", response_class=HTMLResponse)
def contracts_page(request: Request, rt: RuntimeDep, days: DaysQuery = service.DEFAULT_DAYS,
                   today: TodayQuery = None) -> HTMLResponse:
    overview = service.contracts_overview(rt, today=service.parse_day(today), days=days)
    return render(request, "contracts.html", {"title": "Contracts", **overview.to_json()})


@router.post("/contracts/refresh", response_class=HTMLResponse)
def contracts_page_refresh(request: Request, rt: RuntimeDep) -> HTMLResponse:
    """Extract terms of new or changed contracts, then show the page with what happened
    (extracted by LLM or rules, failed with its reason, or nothing new)."""
    overview = service.contracts_overview(rt, refresh=True)
    return render(request, "contracts.html", {"title": "Contracts", **overview.to_json()})


@router.get("/contracts.ics")
def contracts_calendar(rt: RuntimeDep) -> Response:
    return Response(service.deadlines_calendar(rt), media_type="text/calendar",
                    headers={"Content-Disposition": 'attachment; filename="contracts.ics"'})


@router.get("/contracts/{contract_id}", response_class=HTMLResponse)
def contract_page(request: Request, contract_id: int, rt: RuntimeDep,
                  today: TodayQuery = None) -> HTMLResponse:
    c = service.get_contract(rt, contract_id, today=service.parse_day(today))
    return render(request, "contract.html", {"title": c["title"] or c["path"], "c": c})
