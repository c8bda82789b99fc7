"""The /reports pages: stored spending reports (with charts), building one, a money-question box
answered from the transactions table, and one page per transaction with its statement rows."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from app.http.deps import ContextDep, SessionDep
from app.core.errors import InvalidInputError, NotFoundError
from app.http.rendering import render

router = APIRouter(include_in_schema=False)

EXAMPLES = (
    "Show me all expenses from last month that were unusual",
    "How much did I spend on groceries in March?",
    "Which subscription got more expensive?",
    "Wie viel habe ich letzten Monat bei REWE ausgegeben?",
)


def _reports(session: SessionDep) -> list[dict]:  # type: ignore[type-arg]
    from app.http.api.money import report_summary
    from app.core.models import Report

    rows = session.scalars(select(Report).order_by(Report.period_end.desc(), Report.id.desc())
                           .limit(100))
    return [report_summary(r) for r in rows]


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, session: SessionDep, q: str = "") -> HTMLResponse:
    """Stored reports, a form to build one, and the money question box (?q=...)."""
    from app.money.ask import answer_money_question

    result = None
    not_money = False
    if q.strip():
        result = answer_money_question(q, session, today=date.today())
        not_money = result is None
    return render(request, "reports.html", {
        "title": "Reports", "reports": _reports(session), "q": q, "result": result,
        "not_money": not_money, "examples": EXAMPLES})


@router.post("/reports/build")
def build_report(ctx: ContextDep, session: SessionDep,
                 period: Annotated[str, Form()] = "") -> RedirectResponse:
    """Build and store the report of a week (2026-W47) or month (2026-10); then show it."""
    from app.services.report import build_and_store_report
    from app.money.periods import parse_month, parse_week, previous_week

    text = period.strip()
    if not text:
        p, kind = previous_week(date.today()), "week"
    elif "-W" in text.upper():
        p, kind = parse_week(text), "week"
    elif len(text) == 7 and text[4] == "-":
        p, kind = parse_month(text), "month"
    else:
        raise InvalidInputError(f"period must look like 2026-W47 or 2026-10, not {text!r}")
    report_id, *_ = build_and_store_report(session, p, kind=kind)
    return RedirectResponse(f"/reports/{report_id}", status_code=303)


@router.get("/reports/transactions/{tx_id}", response_class=HTMLResponse)
def transaction_page(request: Request, tx_id: int, session: SessionDep) -> HTMLResponse:
    """One transaction and every statement row that lists it (links open the original)."""
    from app.http.api.money import get_tx

    tx = get_tx(tx_id, session)
    return render(request, "reports_transaction.html", {"title": f"Transaction {tx_id}",
                                                        "tx": tx})


@router.get("/reports/{report_id}", response_class=HTMLResponse)
def report_page(request: Request, report_id: int, session: SessionDep) -> HTMLResponse:
    from markupsafe import Markup

    from app.core.models import Report
    from app.money.charts import report_charts
    from app.money.render import report_body_html

    row = session.get(Report, report_id)
    if row is None:
        raise NotFoundError(f"report {report_id} does not exist")
    # The body template autoescapes everything it prints; Markup only marks the finished HTML.
    body = Markup(report_body_html(row.content, charts=report_charts(row.content)))
    return render(request, "reports_view.html", {
        "title": f"Spending report {row.period}", "report": row.content, "body": body,
        "row": row})
