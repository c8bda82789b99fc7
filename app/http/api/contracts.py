"""Contracts: GET /api/contracts (terms + upcoming deadlines), POST /api/contracts/refresh
(extract terms of new contract documents), and the web page /contracts listing deadlines."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.http.deps import ContextDep, SessionDep
from app.services.runtime import Runtime
from app.core.errors import InvalidInputError

router = APIRouter(tags=["contracts"])

DaysQuery = Annotated[int, Query(ge=1, le=3660, description="How far ahead to list deadlines.")]
TodayQuery = Annotated[str | None, Query(description="Compute as of this day (YYYY-MM-DD).")]


def _today(ctx: Runtime, value: str | None) -> date:
    if not value:
        return datetime.now(ctx.settings.tz).date()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInputError(f"today: {value!r} is not a date (YYYY-MM-DD)") from exc


def contracts_payload(session: Any, today: date, days: int) -> dict[str, Any]:
    from app.contracts.deadlines import upcoming_deadlines
    from app.services.contracts import list_contracts

    return {
        "today": today.isoformat(), "days": days,
        "deadlines": [d.to_json() for d in upcoming_deadlines(session, today, days)],
        "contracts": [v.to_json() for v in list_contracts(session, today)],
    }


@router.get("/api/contracts", summary="Contracts, their key terms and upcoming deadlines")
def get_contracts(session: SessionDep, ctx: ContextDep, days: DaysQuery = 60,
                  today: TodayQuery = None) -> dict[str, Any]:
    """Every contract with its cited key terms and schedule (term end, next renewal, last day
    to cancel), and the deadlines within `days` (cancel by / ends), soonest first."""
    return contracts_payload(session, _today(ctx, today), days)


@router.post("/api/contracts/refresh", summary="Extract terms of new or changed contracts")
def refresh(ctx: ContextDep, force: bool = False) -> dict[str, Any]:
    """Runs the extraction LLM when configured, rules otherwise (each contract says which)."""
    from app.llm.client import make_chat_client
    from app.services.contracts import refresh_contracts

    chat = make_chat_client(ctx.settings, task="extract")
    return refresh_contracts(ctx.db, chat=chat, today=_today(ctx, None), force=force).to_json()


@router.get("/contracts", response_class=HTMLResponse, include_in_schema=False)
def contracts_page(request: Request, session: SessionDep, ctx: ContextDep, days: DaysQuery = 60,
                   today: TodayQuery = None) -> HTMLResponse:
    from app.http.rendering import render

    payload = contracts_payload(session, _today(ctx, today), days)
    return render(request, "contracts.html", {"title": "Contracts", **payload})


@router.post("/contracts/refresh", include_in_schema=False)
def contracts_page_refresh(ctx: ContextDep) -> RedirectResponse:
    refresh(ctx)
    return RedirectResponse("/contracts", status_code=303)
