"""The /rules page: the category rules in the order they are tried (the owner's, editable:
add, remove; then the built-ins, read-only), and a button that re-applies them to every
transaction not categorised by hand."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.core.errors import InvalidInputError
from app.http.deps import RuntimeDep
from app.http.rendering import render
from app.services import money_rules

router = APIRouter(include_in_schema=False)


def _page(request: Request, rt: Any, *, status_code: int = 200, **values: Any) -> HTMLResponse:
    builtin = [r for r in money_rules.category_rules(rt) if r["source"] == "builtin"]
    return render(request, "rules.html", {
        "title": "Category rules", "owner": money_rules.owner_rules(rt), "builtin": builtin,
        "file": str(rt.settings.resolved_category_rules_file), "form": {}, **values},
        status_code=status_code)


@router.get("/rules", response_class=HTMLResponse)
def rules_page(request: Request, rt: RuntimeDep, changed: int | None = None,
               done: str = "") -> HTMLResponse:
    return _page(request, rt, changed=changed, done=done)


@router.post("/rules/add", response_class=HTMLResponse)
def add_rule(request: Request, rt: RuntimeDep, category: Annotated[str, Form()] = "",
             match: Annotated[str, Form()] = "", direction: Annotated[str, Form()] = "",
             min_amount: Annotated[str, Form()] = "", max_amount: Annotated[str, Form()] = "",
             position: Annotated[str, Form()] = "first") -> Any:
    form = {"category": category, "match": match, "direction": direction,
            "min_amount": min_amount, "max_amount": max_amount, "position": position}
    try:
        rule = money_rules.make_rule(category=category, match=match.splitlines(),
                                     direction=direction, min_amount=min_amount,
                                     max_amount=max_amount)
        result = money_rules.add_rule(rt, rule, first=position != "last")
    except InvalidInputError as exc:
        return _page(request, rt, status_code=400, error=str(exc), form=form)
    return RedirectResponse(f"/rules?done=added&changed={result['changed']}", status_code=303)


@router.post("/rules/{n}/delete")
def delete_rule(n: int, rt: RuntimeDep) -> RedirectResponse:
    result = money_rules.remove_rule(rt, n)
    return RedirectResponse(f"/rules?done=removed&changed={result['changed']}", status_code=303)


@router.post("/rules/apply")
def apply_rules(rt: RuntimeDep) -> RedirectResponse:
    result = money_rules.categorize(rt)
    return RedirectResponse(f"/rules?done=applied&changed={result.changed}", status_code=303)
