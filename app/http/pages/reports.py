"""The /reports pages: stored spending reports (with charts), building one, a money-question box
answered from the transactions table, and one page per transaction with its statement rows."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.http.deps import RuntimeDep
from app.http.rendering import render
from app.services import holdings, money
from app.services import report as reports

router = APIRouter(include_in_schema=False)

EXAMPLES = (
    "How much did I spend on groceries in October 2026?",
    "Show me all expenses from last month that were unusual",
    "Which subscription got more expensive?",
    "Wie viel habe ich im September 2026 bei REWE ausgegeben?",
)
LISTED = 100


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, rt: RuntimeDep, q: str = "") -> HTMLResponse:
    """Stored reports, a form to build one, and the money question box (?q=...)."""
    result = money.answer_money_question(rt, q) if q.strip() else None
    default_month, default_week = reports.default_periods(rt)
    return render(request, "reports.html", {
        "default_month": default_month, "default_week": default_week,
        "title": "Reports", "reports": reports.list_reports(rt, limit=LISTED), "q": q,
        "result": result, "not_money": bool(q.strip()) and result is None,
        "examples": EXAMPLES, "holdings": holdings.portfolio(rt).to_json()})


@router.post("/reports/build")
def build_report(rt: RuntimeDep, period: Annotated[str, Form()] = "",
                 week: Annotated[str, Form()] = "",
                 month: Annotated[str, Form()] = "") -> RedirectResponse:
    """Build and store the report of a week (2026-W47) or month (2026-10); then show it."""
    built = reports.build_report(rt, period=period or week or month)
    return RedirectResponse(f"/reports/{built.id}", status_code=303)


@router.get("/reports/period", response_class=HTMLResponse)
def period_page(request: Request, rt: RuntimeDep, week: str = "", month: str = "",
                period: str = "") -> HTMLResponse:
    """The report of any week or month (the picker and the previous/next links land here):
    the stored one, or one built now and kept only when asked."""
    from markupsafe import Markup

    view = reports.period_report(rt, period=period or week or month)
    return render(request, "reports_view.html", {
        "title": f"Spending report {view.period}", "report": view.content,
        "body": Markup(view.body_html), "row": None, "view": view})


@router.get("/reports/transactions/{tx_id}", response_class=HTMLResponse)
def transaction_page(request: Request, tx_id: int, rt: RuntimeDep) -> HTMLResponse:
    """One transaction and every statement row that lists it (links open the original)."""
    from app.services.evidence import evidence_for_transaction

    return render(request, "reports_transaction.html", {
        "title": f"Transaction {tx_id}", "tx": money.get_transaction(rt, tx_id),
        "evidence": evidence_for_transaction(rt, tx_id)})


@router.get("/reports/{report_id}", response_class=HTMLResponse)
def report_page(request: Request, report_id: int, rt: RuntimeDep) -> HTMLResponse:
    from markupsafe import Markup

    view = reports.report_view(rt, report_id)
    before, after = reports.adjacent_periods(view.period)
    # The body template autoescapes everything it prints; Markup only marks the finished HTML.
    return render(request, "reports_view.html", {
        "title": f"Spending report {view.period}", "report": view.content,
        "body": Markup(view.body_html), "row": view,
        "view": {"id": view.id, "period": view.period, "previous": before, "next": after}})
