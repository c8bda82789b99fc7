"""Money JSON API: transactions (list, sum, groups, one with all its statement rows), unusual
spending, statements with balance checks, and spending reports (build, list, fetch)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from app.http.deps import ContextDep, SessionDep
from app.core.errors import InvalidInputError, NotFoundError

router = APIRouter(prefix="/api", tags=["money"])


def _decimal(name: str, value: str | None) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return abs(Decimal(str(value).replace(",", ".")))
    except InvalidOperation as exc:
        raise InvalidInputError(f"{name} must be a number, not {value!r}") from exc


def _date(name: str, value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInputError(f"{name} must be YYYY-MM-DD, not {value!r}") from exc


def tx_filter(
    date_from: Annotated[str | None, Query(alias="from", description="YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, Query(alias="to", description="YYYY-MM-DD")] = None,
    period: Annotated[str | None, Query(description="'last month', '2026-03', '2026-W12'")] = None,
    account: Annotated[str | None, Query(description="Account number part, name or bank")] = None,
    payee: Annotated[str | None, Query(description="Text in payee/description")] = None,
    category: Annotated[str | None, Query()] = None,
    min_amount: Annotated[str | None, Query(alias="min", description="Min absolute amount")] = None,
    max_amount: Annotated[str | None, Query(alias="max", description="Max absolute amount")] = None,
    currency: Annotated[str | None, Query()] = None,
    direction: Annotated[Literal["in", "out"] | None, Query()] = None,
) -> Any:
    """Transaction filters from query parameters (bad values: 400 naming the parameter)."""
    from app.money.periods import find_period, parse_month, parse_week
    from app.money.queries import TxFilter

    start, end = _date("from", date_from), _date("to", date_to)
    if period:
        text = period.strip()
        if "-W" in text.upper():
            p = parse_week(text)
        elif len(text) == 7 and text[4] == "-":
            p = parse_month(text)
        else:
            found, _ = find_period(text, date.today())
            if found is None:
                raise InvalidInputError(f"period: cannot read {period!r}")
            p = found
        start, end = p.start, p.end
    return TxFilter(date_from=start, date_to=end, account=account or None,
                    counterparty=payee or None, category=category or None,
                    min_amount=_decimal("min", min_amount), max_amount=_decimal("max", max_amount),
                    currency=(currency or "").upper() or None, direction=direction)


FilterDep = Annotated[Any, Depends(tx_filter)]


@router.get("/transactions", summary="Transactions with the statement rows they come from")
def list_tx(session: SessionDep, f: FilterDep,
            limit: Annotated[int, Query(ge=1, le=10000)] = 100,
            offset: Annotated[int, Query(ge=0)] = 0,
            order: Annotated[Literal["-date", "date", "amount", "-amount"], Query()] = "-date",
            ) -> dict[str, Any]:
    from app.money.queries import count_transactions, list_transactions

    rows = list_transactions(session, f, limit=limit, offset=offset, order=order)
    return {"filter": f.describe(), "count": count_transactions(session, f),
            "transactions": [r.to_json() for r in rows]}


@router.get("/transactions/sum", summary="Totals per currency (never added across currencies)")
def sum_tx(session: SessionDep, f: FilterDep) -> dict[str, Any]:
    from app.money.queries import sum_transactions

    return {"filter": f.describe(), "totals": [t.to_json() for t in sum_transactions(session, f)]}


@router.get("/transactions/groups", summary="Totals per category, merchant, month, week ...")
def group_tx(session: SessionDep, f: FilterDep,
             by: Annotated[Literal["category", "merchant", "month", "week", "account",
                                   "currency"], Query()] = "category",
             limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> dict[str, Any]:
    from app.money.queries import group_transactions

    return {"filter": f.describe(), "by": by,
            "groups": [g.to_json() for g in group_transactions(session, f, by=by, limit=limit)]}


@router.get("/transactions/{tx_id}", summary="One transaction and every statement row listing it")
def get_tx(tx_id: int, session: SessionDep) -> dict[str, Any]:
    from app.core.models import Document, TransactionOccurrence
    from app.money.queries import get_transactions

    rows = get_transactions(session, [tx_id])
    if not rows:
        raise NotFoundError(f"transaction {tx_id} does not exist")
    occ = session.execute(
        select(TransactionOccurrence, Document.origin)
        .join(Document, Document.id == TransactionOccurrence.document_id)
        .where(TransactionOccurrence.transaction_id == tx_id)
        .order_by(TransactionOccurrence.id)).all()
    out = rows[0].to_json()
    out["occurrences"] = [
        {"document_id": o.document_id, "statement_id": o.statement_id, "path": origin,
         **{k: getattr(o, k) for k in ("page", "line", "row") if getattr(o, k)}}
        for o, origin in occ]
    return out


class CategoryUpdate(BaseModel):
    category: str | None = Field(description="New category; null clears it. Set by hand, rules "
                                 "will not change it again.")


@router.patch("/transactions/{tx_id}", summary="Set a transaction's category by hand")
def set_category(tx_id: int, body: CategoryUpdate, session: SessionDep) -> dict[str, Any]:
    from app.core.models import Transaction

    tx = session.get(Transaction, tx_id)
    if tx is None:
        raise NotFoundError(f"transaction {tx_id} does not exist")
    category = (body.category or "").strip().lower() or None
    if category is not None and len(category) > 100:
        raise InvalidInputError("category: at most 100 characters")
    tx.category, tx.category_rule, tx.suggested_category = category, "manual", None
    session.flush()
    return get_tx(tx_id, session)


@router.get("/money/unusual", summary="Unusual spending in a period, explained and cited")
def unusual(session: SessionDep, f: FilterDep) -> dict[str, Any]:
    from app.money.service import run_unusual

    answer = run_unusual(session, replace(f, direction="out"), today=date.today())
    return {"lines": [{"text": x.text, "transaction_ids": x.ids} for x in answer.lines],
            **answer.data,
            "transactions": {str(i): r.to_json() for i, r in answer.rows.items()}}


@router.get("/statements", summary="Imported statements with their balance check")
def statements(session: SessionDep,
               problems: Annotated[bool, Query(description="Only mismatched balances")] = False,
               ) -> list[dict[str, Any]]:
    from app.core.models import Account, Document, Statement

    q = (select(Statement, Document.origin, Account.number_masked)
         .join(Document, Document.id == Statement.document_id)
         .join(Account, Account.id == Statement.account_id)
         .order_by(Statement.period_end.desc().nulls_last(), Statement.id))
    if problems:
        q = q.where(Statement.balance_status == "mismatch")

    def num(v: Decimal | None) -> str | None:
        return format(v, "f") if v is not None else None

    return [{"id": st.id, "document_id": st.document_id, "path": origin, "account": acct,
             "format": st.format, "period_start": str(st.period_start),
             "period_end": str(st.period_end), "currency": st.currency,
             "opening_balance": num(st.opening_balance), "closing_balance": num(st.closing_balance),
             "transactions": st.transaction_count, "balance_status": st.balance_status,
             "balance_difference": num(st.balance_difference),
             "message": st.meta.get("balance_message")}
            for st, origin, acct in session.execute(q).all()]


@router.get("/reports", summary="Stored reports, newest first")
def list_reports(session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 50,
                 ) -> list[dict[str, Any]]:
    from app.core.models import Report

    rows = session.scalars(select(Report).order_by(Report.period_end.desc(), Report.id.desc())
                           .limit(limit))
    return [report_summary(r) for r in rows]


def report_summary(r: Any) -> dict[str, Any]:
    return {"id": r.id, "kind": r.kind, "period": r.period, "start": str(r.period_start),
            "end": str(r.period_end), "created_at": r.created_at.isoformat(),
            "emailed_at": r.emailed_at.isoformat() if r.emailed_at else None,
            "flags": len(r.content.get("flags", [])), "totals": r.content.get("totals", [])}


@router.get("/reports/{report_id}", summary="One stored report's content (JSON)")
def get_report(report_id: int, session: SessionDep) -> dict[str, Any]:
    from app.core.models import Report

    row = session.get(Report, report_id)
    if row is None:
        raise NotFoundError(f"report {report_id} does not exist")
    return {**report_summary(row), "content": row.content}


@router.post("/reports/spending", summary="Build (and store) a weekly or monthly report")
def build_report(session: SessionDep, ctx: ContextDep,
                 week: Annotated[str | None, Query(description="e.g. 2026-W47")] = None,
                 month: Annotated[str | None, Query(description="e.g. 2026-10")] = None,
                 llm: Annotated[bool, Query(description="Add an LLM narrative")] = False,
                 ) -> dict[str, Any]:
    from app.services.report import build_and_store_report
    from app.money.periods import parse_month, parse_week, previous_week

    if week and month:
        raise InvalidInputError("give week or month, not both")
    period = parse_week(week) if week else parse_month(month) if month else previous_week(
        date.today())
    chat = ctx.chat_client("report") if llm else None
    report_id, content, _, _ = build_and_store_report(session, period,
                                                      kind="month" if month else "week",
                                                      chat=chat)
    return {"id": report_id, "content": content}
