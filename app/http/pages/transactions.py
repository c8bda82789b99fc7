"""The /transactions page: every transaction in a table with filters (period, payee, category,
account, currency, amount range, direction), sorting, totals per currency, the category edited
in the row (optionally "always for this payee", which adds a rule and re-categorises), a CSV
export of everything that matches, and each row linked to its statement line."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from pydantic import BaseModel

from app.core.errors import InvalidInputError
from app.http.deps import RuntimeDep
from app.http.rendering import render
from app.services import money, money_rules, transactions

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100
ORDERS = {"-date": "newest first", "date": "oldest first", "-amount": "largest income first",
          "amount": "largest spending first"}


class TxForm(BaseModel):
    period: str = ""
    date_from: str = ""
    date_to: str = ""
    payee: str = ""
    category: str = ""
    account: str = ""
    currency: str = ""
    min_amount: str = ""
    max_amount: str = ""
    direction: str = ""

    def filters(self) -> money.TransactionFilterInput:
        return money.TransactionFilterInput(
            date_from=self.date_from, date_to=self.date_to, period=self.period,
            account=self.account, payee=self.payee, category=self.category,
            min_amount=self.min_amount, max_amount=self.max_amount, currency=self.currency,
            direction=self.direction)

    def query(self, **extra: Any) -> str:
        names = {"date_from": "from", "date_to": "to", "min_amount": "min", "max_amount": "max"}
        params = {names.get(k, k): v for k, v in self.model_dump().items() if v}
        params.update({k: v for k, v in extra.items() if v not in (None, "", 1, "-date")})
        return urlencode(params)


def tx_form(
    period: str = "", payee: str = "", category: str = "", account: str = "",
    currency: str = "", direction: str = "",
    date_from: Annotated[str, Query(alias="from")] = "",
    date_to: Annotated[str, Query(alias="to")] = "",
    min_amount: Annotated[str, Query(alias="min")] = "",
    max_amount: Annotated[str, Query(alias="max")] = "",
) -> TxForm:
    return TxForm(period=period, date_from=date_from, date_to=date_to, payee=payee,
                  category=category, account=account, currency=currency,
                  min_amount=min_amount, max_amount=max_amount, direction=direction)


# The table's filter fields as query parameters, read once for the page and its CSV export.
FormDep = Annotated[TxForm, Depends(tx_form)]


@router.get("/transactions", response_class=HTMLResponse)
def transactions_page(
    request: Request, rt: RuntimeDep,
    form: FormDep,
    order: str = "-date", page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    saved: int | None = None, changed: int | None = None, rule: str = "",
) -> HTMLResponse:
    values: dict[str, Any] = {
        "title": "Transactions", "form": form, "order": order, "orders": ORDERS,
        "choices": transactions.filter_choices(rt), "page": page, "rows": None,
        "saved": saved, "changed": changed, "rule": rule,
        "query": lambda **extra: form.query(**{"order": order, **extra}),
    }
    try:
        if order not in ORDERS:
            raise InvalidInputError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")
        result = money.list_transactions(rt, form.filters(), limit=PAGE_SIZE,
                                         offset=(page - 1) * PAGE_SIZE, order=order)
        values.update(
            rows=[transactions.table_row(r) for r in result.rows], count=result.count,
            pages=max(1, -(-result.count // PAGE_SIZE)), described=result.filter.describe(),
            totals=transactions.table_totals(rt, form.filters()))
    except InvalidInputError as exc:
        return render(request, "transactions.html", {**values, "error": str(exc)},
                      status_code=400)
    values["back"] = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return render(request, "transactions.html", values)


@router.get("/transactions.csv")
def transactions_csv(
    rt: RuntimeDep,
    form: FormDep,
    order: str = "-date",
) -> StreamingResponse:
    money.resolve_filters(rt, form.filters())  # a bad filter is a 400 before any byte is sent
    if order not in ORDERS:
        raise InvalidInputError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")
    return StreamingResponse(
        transactions.export_csv(rt, form.filters(), order=order), media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="transactions.csv"'})


def _back(url: str, **extra: Any) -> str:
    """Back to the table the form was on (only ever a /transactions URL: no open redirect)."""
    parts = urlsplit(url or "/transactions")
    if parts.scheme or parts.netloc or parts.path != "/transactions":
        parts = urlsplit("/transactions")
    params = [(k, v) for k, v in parse_qsl(parts.query)
              if k not in ("saved", "changed", "rule")]
    params += [(k, str(v)) for k, v in extra.items() if v not in (None, "")]
    return "/transactions" + (f"?{urlencode(params)}" if params else "")


@router.post("/transactions/{tx_id}/category")
def set_category(tx_id: int, rt: RuntimeDep, category: Annotated[str, Form()] = "",
                 always: Annotated[str, Form()] = "",
                 back: Annotated[str, Form()] = "/transactions") -> RedirectResponse:
    """Set the row's category; with `always`, also a rule for its payee (then every other
    transaction of that payee is re-categorised)."""
    if always and category.strip():
        result = money_rules.always_for_payee(rt, tx_id, category)
        target = _back(back, saved=tx_id, changed=result["changed"],
                       rule=result["rule"]["match"][0])
    else:
        money_rules.set_category(rt, tx_id, category)
        target = _back(back, saved=tx_id)
    return RedirectResponse(f"{target}#tx-{tx_id}", status_code=303)
