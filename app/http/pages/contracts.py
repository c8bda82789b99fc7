"""The /contracts page: upcoming deadlines and every contract's terms (the listing of
`GET /api/contracts`), and a button that extracts terms of new contract documents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

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


@router.post("/contracts/refresh")
def contracts_page_refresh(rt: RuntimeDep) -> RedirectResponse:
    service.refresh_contracts(rt)
    return RedirectResponse("/contracts", status_code=303)
