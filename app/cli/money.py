"""`homerag tx list|sum|top|statements|categorise|rules` and `homerag report spending` (thin:
parse options, call `app.services.money` / `money_rules` / `report`, print).

`--json` prints the service's JSON, the same as the API's (/api/transactions, /sum, /groups,
/api/statements): each transaction has id, date, amount (signed decimal string, negative =
money out), currency, counterparty, description, account and source {path, page|line|row}.
"""

from __future__ import annotations

import json
from typing import Any

import click

from app.cli import cli
from app.services import money


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def filter_options(fn: Any) -> Any:
    """The transaction filters (read by `money.TransactionFilterInput`)."""
    options = [
        click.option("--from", "date_from", help="First booking date YYYY-MM-DD."),
        click.option("--to", "date_to", help="Last booking date YYYY-MM-DD."),
        click.option("--period", help="'last month', '2026-03', '2026-W12', 'letzte Woche' ..."),
        click.option("--account", help="Part of the account number, name or bank."),
        click.option("--payee", help="Text in payee, description or merchant."),
        click.option("--category", help="Category (or 'uncategorised')."),
        click.option("--min", "min_amount", help="Minimum absolute amount."),
        click.option("--max", "max_amount", help="Maximum absolute amount."),
        click.option("--amount", help="Exactly this absolute amount ('86,40')."),
        click.option("--currency", help="ISO currency code."),
        click.option("--direction", type=click.Choice(money.DIRECTIONS),
                     help="out = money spent, in = money received."),
        click.option("--json", "as_json", is_flag=True, help="Machine-readable output."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def call_service(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a money service in a runtime; a bad filter value is a usage error (exit 2)."""
    from app.core.errors import InvalidInputError
    from app.services.runtime import open_runtime

    with open_runtime() as rt:
        try:
            return fn(rt, *args, **kwargs)
        except InvalidInputError as exc:
            raise click.UsageError(str(exc)) from exc


@cli.group("tx")
def tx_group() -> None:
    """Transactions from imported bank statements."""


@tx_group.command("list")
@filter_options
@click.option("--limit", default=money.DEFAULT_LIST_LIMIT, show_default=True,
              type=click.IntRange(1, money.MAX_LIST_LIMIT))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0))
@click.option("--order", type=click.Choice(money.ORDERS), default="-date", show_default=True)
def tx_list(as_json: bool, limit: int, offset: int, order: str, **kw: Any) -> None:
    """List matching transactions (newest first), each with the statement row it comes from."""
    page = call_service(money.list_transactions, money.TransactionFilterInput(**kw), limit=limit,
                 offset=offset, order=order)
    if as_json:
        _echo_json(page.to_json())
        return
    if not page.rows:
        click.echo(f"no transactions ({page.filter.describe()})")
    for r in page.rows:
        who = " — ".join(p for p in (r.counterparty, r.description) if p)
        status = " (pending)" if r.status == "pending" else ""
        click.echo(f"{r.id:>7}  {r.date}  {r.amount:>12} {r.currency}  {who[:60]}{status}")
        click.echo(f"{'':>9}{r.path or '?'} {r.location()}  [{r.category or '-'}]")
    if page.count > offset + len(page.rows):
        click.echo(f"... {page.count} match; next page: --offset {offset + len(page.rows)}")


@tx_group.command("sum")
@filter_options
def tx_sum(as_json: bool, **kw: Any) -> None:
    """Total of matching transactions, per currency (never added across currencies)."""
    result = call_service(money.sum_transactions, money.TransactionFilterInput(**kw))
    if as_json:
        _echo_json(result.to_json())
        return
    what = result.filter.describe()
    if not result.totals:
        click.echo(f"no transactions ({what})")
    for t in result.totals:
        click.echo(f"{t.total:>14} {t.currency}  in {t.count} transactions  ({what})")


@tx_group.command("top")
@filter_options
@click.option("--by", type=click.Choice(money.GROUP_BYS), default=money.DEFAULT_TOP_BY,
              show_default=True)
@click.option("--limit", default=money.DEFAULT_TOP_LIMIT, show_default=True,
              type=click.IntRange(1, money.MAX_TOP_LIMIT))
def tx_top(as_json: bool, by: str, limit: int, **kw: Any) -> None:
    """Largest groups (by merchant, category, month ...); spending only unless --direction."""
    result = call_service(money.top_transactions, money.TransactionFilterInput(**kw), by=by,
                   limit=limit)
    if as_json:
        _echo_json(result.to_json())
        return
    for g in result.groups:
        click.echo(f"{g.total:>14} {g.currency}  {g.count:>5}x  {g.label or g.key}")


@tx_group.command("statements")
@click.option("--problems", is_flag=True, help="Only statements whose balances do not add up.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def tx_statements(problems: bool, as_json: bool) -> None:
    """Imported statements with their balance check (opening + transactions = closing)."""
    rows = [s.to_json() for s in call_service(money.list_statements, problems=problems)]
    if as_json:
        _echo_json(rows)
        return
    for r in rows:
        extra = f" (off by {r['balance_difference']})" if r["balance_status"] == "mismatch" else ""
        click.echo(f"{r['period_start']}..{r['period_end']}  {r['account']}  "
                   f"{r['transactions']:>4} tx  balance {r['balance_status']}{extra}  {r['path']}")


@tx_group.command("categorise")
@click.option("--llm", is_flag=True, help="Also ask the extraction LLM about the payees the "
              "rules leave uncategorised (stored as suggestions, not categories).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def tx_categorise(llm: bool, as_json: bool) -> None:
    """Re-apply the category rules (HOMERAG_CATEGORY_RULES_FILE, then the built-ins)."""
    from app.services.money_rules import categorize

    result = call_service(categorize, llm=llm)
    if as_json:
        _echo_json(result.to_json())
        return
    click.echo(f"{result.changed} transactions re-categorised by rules")
    for merchant, cat in result.suggested.items():
        click.echo(f"  suggestion: {merchant} -> {cat}")


@tx_group.command("rules")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def tx_rules(as_json: bool) -> None:
    """The category rules in the order they are tried (your file first, then the built-ins)."""
    from app.services.money_rules import category_rules

    rules = call_service(category_rules)
    if as_json:
        _echo_json(rules)
        return
    for r in rules:
        limits = " ".join(f"{k}={r[k]}" for k in ("direction", "min_amount", "max_amount")
                          if r[k])
        click.echo(f"{r['category']:<16} {r['label']:<24} {', '.join(r['patterns'])[:70]}"
                   f"{'  ' + limits if limits else ''}")


@cli.group("report")
def report_group() -> None:
    """Reports built from your data."""


@report_group.command("spending")
@click.option("--week", help="ISO week, e.g. 2026-W47 (default: last complete week).")
@click.option("--month", help="Month, e.g. 2026-10.")
@click.option("--json", "fmt", flag_value="json", help="The report content as JSON.")
@click.option("--markdown", "fmt", flag_value="markdown", default=True, help="Markdown (default).")
@click.option("--html", "fmt", flag_value="html", help="A standalone HTML page with charts.")
@click.option("--llm/--no-llm", default=False, show_default=True,
              help="Add a short narrative from the report LLM (cites the flagged facts).")
@click.option("--store/--no-store", default=True, show_default=True,
              help="Keep the report (shown at /reports).")
def report_spending(week: str | None, month: str | None, fmt: str, llm: bool,
                    store: bool) -> None:
    """Spending by category vs. usual, top merchants, unusual items, what you could do."""
    from app.services.report import build_report

    built = call_service(build_report, week=week, month=month, llm=llm, store=store)
    click.echo(built.render(fmt))
