"""Money JSON API: transactions (list, sum, groups, one with all its statement rows, set a
category), unusual spending, statements with balance checks, category rules, and spending
reports (build, list, fetch). Thin: query parameters in, `app.services` JSON out — the same
shapes as `homerag tx ... --json` and `homerag report spending --json`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from app.http.deps import RuntimeDep
from app.services import money
from app.services import report as reports

router = APIRouter(prefix="/api", tags=["money"])

# The services' choices as enums in the OpenAPI schema (Literal of a tuple lists its items).
Order = Literal[money.ORDERS]  # type: ignore[valid-type]
GroupBy = Literal[money.GROUP_BYS]  # type: ignore[valid-type]
Direction = Literal[money.DIRECTIONS]  # type: ignore[valid-type]


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
    direction: Annotated[Direction | None, Query()] = None,
    amount: Annotated[str | None, Query(description="Exactly this absolute amount")] = None,
) -> money.TransactionFilterInput:
    """The filters as given; the service reads them (bad values: 400 naming the parameter)."""
    return money.TransactionFilterInput(
        date_from=date_from, date_to=date_to, period=period, account=account, payee=payee,
        category=category, min_amount=min_amount, max_amount=max_amount, currency=currency,
        direction=direction, amount=amount)


FilterDep = Annotated[money.TransactionFilterInput, Depends(tx_filter)]


@router.get("/transactions", summary="Transactions with the statement rows they come from")
def list_tx(rt: RuntimeDep, f: FilterDep,
            limit: Annotated[int, Query(ge=1, le=money.MAX_LIST_LIMIT)] = money.DEFAULT_LIST_LIMIT,
            offset: Annotated[int, Query(ge=0)] = 0,
            order: Annotated[Order, Query()] = "-date") -> dict[str, Any]:
    return money.list_transactions(rt, f, limit=limit, offset=offset, order=order).to_json()


@router.get("/transactions/sum", summary="Totals per currency (never added across currencies)")
def sum_tx(rt: RuntimeDep, f: FilterDep) -> dict[str, Any]:
    return money.sum_transactions(rt, f).to_json()


@router.get("/transactions/groups",
            summary="Largest groups per merchant, category, month ... (spending unless direction)")
def group_tx(rt: RuntimeDep, f: FilterDep,
             by: Annotated[GroupBy, Query()] = money.DEFAULT_TOP_BY,
             limit: Annotated[int, Query(ge=1, le=money.MAX_TOP_LIMIT)] = money.DEFAULT_TOP_LIMIT,
             ) -> dict[str, Any]:
    return money.top_transactions(rt, f, by=by, limit=limit).to_json()


@router.get("/transactions/{tx_id}", summary="One transaction and every statement row listing it")
def get_tx(tx_id: int, rt: RuntimeDep) -> dict[str, Any]:
    return money.get_transaction(rt, tx_id)


class CategoryUpdate(BaseModel):
    category: str | None = Field(description="New category; null clears it. Set by hand, rules "
                                 "will not change it again.")


@router.patch("/transactions/{tx_id}", summary="Set a transaction's category by hand")
def set_category(tx_id: int, body: CategoryUpdate, rt: RuntimeDep) -> dict[str, Any]:
    from app.services.money_rules import set_category as set_by_hand

    return set_by_hand(rt, tx_id, body.category)


@router.get("/categories/rules", summary="Category rules in the order they are tried")
def category_rules(rt: RuntimeDep) -> list[dict[str, Any]]:
    from app.services.money_rules import category_rules as rules

    return rules(rt)


@router.get("/money/unusual", summary="Unusual spending in a period, explained and cited")
def unusual(rt: RuntimeDep, f: FilterDep) -> dict[str, Any]:
    return money.unusual_spending(rt, f)


@router.get("/statements", summary="Imported statements with their balance check")
def statements(rt: RuntimeDep,
               problems: Annotated[bool, Query(description="Only mismatched balances")] = False,
               ) -> list[dict[str, Any]]:
    return [s.to_json() for s in money.list_statements(rt, problems=problems)]


@router.get("/reports", summary="Stored reports, newest first")
def list_reports(rt: RuntimeDep,
                 limit: Annotated[int, Query(ge=1, le=reports.MAX_LIST_LIMIT)] = (
                     reports.DEFAULT_LIST_LIMIT)) -> list[dict[str, Any]]:
    return reports.list_reports(rt, limit=limit)


@router.get("/reports/{report_id}", summary="One stored report's content (JSON)")
def get_report(report_id: int, rt: RuntimeDep) -> dict[str, Any]:
    return reports.get_report(rt, report_id)


@router.post("/reports/spending", summary="Build (and store) a weekly or monthly report")
def build_report(rt: RuntimeDep,
                 week: Annotated[str | None, Query(description="e.g. 2026-W47")] = None,
                 month: Annotated[str | None, Query(description="e.g. 2026-10")] = None,
                 llm: Annotated[bool, Query(description="Add an LLM narrative")] = False,
                 ) -> dict[str, Any]:
    built = reports.build_report(rt, week=week, month=month, llm=llm)
    return {"id": built.id, "content": built.content}
