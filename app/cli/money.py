"""`homerag tx list|sum|top|statements` and `homerag report spending` (thin: parse, query, print).

JSON output is stable: each transaction has id, date, amount (signed decimal string, negative =
money out), currency, counterparty, description, account and source {path, page|line|row}.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from app.cli import cli


def _decimal(_ctx: click.Context, param: click.Parameter, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return abs(Decimal(value.replace(",", ".")))
    except InvalidOperation as exc:
        raise click.BadParameter(f"{value!r} is not a number", param=param) from exc


def _date(_ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param=param) from exc


def filter_options(fn: Any) -> Any:
    options = [
        click.option("--from", "date_from", callback=_date, help="First booking date YYYY-MM-DD."),
        click.option("--to", "date_to", callback=_date, help="Last booking date YYYY-MM-DD."),
        click.option("--period", help="'last month', '2026-03', '2026-W12', 'letzte Woche' ..."),
        click.option("--account", help="Part of the account number, name or bank."),
        click.option("--payee", help="Text in payee, description or merchant."),
        click.option("--category", help="Category (or 'uncategorised')."),
        click.option("--min", "min_amount", callback=_decimal, help="Minimum absolute amount."),
        click.option("--max", "max_amount", callback=_decimal, help="Maximum absolute amount."),
        click.option("--currency", help="ISO currency code."),
        click.option("--direction", type=click.Choice(["in", "out"]),
                     help="out = money spent, in = money received."),
        click.option("--json", "as_json", is_flag=True, help="Machine-readable output."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def build_filter(kw: dict[str, Any]) -> Any:
    from app.money.periods import find_period, parse_month, parse_week
    from app.money.queries import TxFilter

    start, end = kw.pop("date_from"), kw.pop("date_to")
    period_text = kw.pop("period")
    if period_text:
        text = period_text.strip()
        found = (parse_week(text) if "-W" in text.upper() else parse_month(text)
                 if len(text) == 7 and text[4] == "-" else find_period(text, date.today())[0])
        if found is None:
            raise click.BadParameter(f"cannot read the period {text!r}", param_hint="--period")
        start, end = found.start, found.end
    return TxFilter(date_from=start, date_to=end, account=kw.pop("account"),
                    counterparty=kw.pop("payee"), category=kw.pop("category"),
                    min_amount=kw.pop("min_amount"), max_amount=kw.pop("max_amount"),
                    currency=(kw.pop("currency") or "").upper() or None,
                    direction=kw.pop("direction"))


@cli.group("tx")
def tx_group() -> None:
    """Transactions from imported bank statements."""


@tx_group.command("list")
@filter_options
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
@click.option("--order", type=click.Choice(["-date", "date", "amount", "-amount"]),
              default="-date", show_default=True)
def tx_list(as_json: bool, limit: int, order: str, **kw: Any) -> None:
    """List matching transactions (newest first), each with the statement row it comes from."""
    from app.services.runtime import open_runtime
    from app.money.queries import list_transactions

    f = build_filter(kw)
    with open_runtime() as ctx, ctx.db.session() as s:
        rows = list_transactions(s, f, limit=limit, order=order)
    if as_json:
        click.echo(json.dumps([r.to_json() for r in rows], indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo(f"no transactions ({f.describe()})")
    for r in rows:
        who = " — ".join(p for p in (r.counterparty, r.description) if p)
        status = " (pending)" if r.status == "pending" else ""
        click.echo(f"{r.id:>7}  {r.date}  {r.amount:>12} {r.currency}  {who[:60]}{status}")
        click.echo(f"{'':>9}{r.path or '?'} {r.location()}  [{r.category or '-'}]")


@tx_group.command("sum")
@filter_options
def tx_sum(as_json: bool, **kw: Any) -> None:
    """Total of matching transactions, per currency (never added across currencies)."""
    from app.services.runtime import open_runtime
    from app.money.queries import sum_transactions

    f = build_filter(kw)
    with open_runtime() as ctx, ctx.db.session() as s:
        totals = sum_transactions(s, f)
    if as_json:
        click.echo(json.dumps({"filter": f.describe(), "totals": [t.to_json() for t in totals]},
                              indent=2))
        return
    if not totals:
        click.echo(f"no transactions ({f.describe()})")
    for t in totals:
        click.echo(f"{t.total:>14} {t.currency}  in {t.count} transactions  ({f.describe()})")


@tx_group.command("top")
@filter_options
@click.option("--by", type=click.Choice(["merchant", "category", "month", "week", "account"]),
              default="merchant", show_default=True)
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 1000))
def tx_top(as_json: bool, by: str, limit: int, **kw: Any) -> None:
    """Largest groups (by merchant, category, month ...); spending only unless --direction."""
    from dataclasses import replace

    from app.services.runtime import open_runtime
    from app.money.queries import group_transactions

    f = build_filter(kw)
    if f.direction is None:
        f = replace(f, direction="out")
    with open_runtime() as ctx, ctx.db.session() as s:
        groups = group_transactions(s, f, by=by, limit=limit)
    if as_json:
        click.echo(json.dumps({"by": by, "filter": f.describe(),
                               "groups": [g.to_json() for g in groups]}, indent=2,
                              ensure_ascii=False))
        return
    for g in groups:
        click.echo(f"{g.total:>14} {g.currency}  {g.count:>5}x  {g.key}")


@tx_group.command("statements")
@click.option("--problems", is_flag=True, help="Only statements whose balances do not add up.")
@click.option("--json", "as_json", is_flag=True)
def tx_statements(problems: bool, as_json: bool) -> None:
    """Imported statements with their balance check (opening + transactions = closing)."""
    from sqlalchemy import select

    from app.services.runtime import open_runtime
    from app.core.models import Account, Document, Statement

    with open_runtime() as ctx, ctx.db.session() as s:
        q = (select(Statement, Document.origin, Account.number_masked)
             .join(Document, Document.id == Statement.document_id)
             .join(Account, Account.id == Statement.account_id)
             .order_by(Statement.period_end.desc().nulls_last(), Statement.id))
        if problems:
            q = q.where(Statement.balance_status == "mismatch")
        rows: list[dict[str, Any]] = [{"id": st.id, "path": origin, "account": acct, "format": st.format,
                 "period": [str(st.period_start), str(st.period_end)],
                 "opening": str(st.opening_balance) if st.opening_balance is not None else None,
                 "closing": str(st.closing_balance) if st.closing_balance is not None else None,
                 "transactions": st.transaction_count, "balance": st.balance_status,
                 "difference": str(st.balance_difference)
                 if st.balance_difference is not None else None}
                for st, origin, acct in s.execute(q).all()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        extra = f" (off by {r['difference']})" if r["balance"] == "mismatch" else ""
        click.echo(f"{r['period'][0]}..{r['period'][1]}  {r['account']}  {r['transactions']:>4} tx"
                   f"  balance {r['balance']}{extra}  {r['path']}")


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
    from app.services.runtime import open_runtime
    from app.services.report import build_and_store_report
    from app.money.periods import parse_month, parse_week, previous_week
    from app.money.render import to_html, to_markdown
    from app.money.report import build_spending_report

    if week and month:
        raise click.UsageError("give --week or --month, not both")
    period = parse_week(week) if week else parse_month(month) if month else previous_week(
        date.today())
    kind = "month" if month else "week"
    with open_runtime() as ctx:
        chat = ctx.chat_client("report") if llm else None
        with ctx.db.session() as s:
            if store:
                _, content, markdown, html = build_and_store_report(s, period, kind=kind,
                                                                    chat=chat)
            else:
                content = build_spending_report(s, period, kind=kind)
                if chat is not None:
                    from app.money.narrative import write_narrative

                    content["narrative"] = write_narrative(content, chat)
                markdown = to_markdown(content)
                html = to_html(content) if fmt == "html" else ""
    if fmt == "json":
        click.echo(json.dumps(content, indent=2, ensure_ascii=False))
    elif fmt == "html":
        click.echo(html)
    else:
        click.echo(markdown)


@tx_group.command("categorise")
@click.option("--llm", is_flag=True, help="Also ask the extraction LLM about the payees the "
              "rules leave uncategorised (stored as suggestions, not categories).")
@click.option("--json", "as_json", is_flag=True)
def tx_categorise(llm: bool, as_json: bool) -> None:
    """Re-apply the category rules (HOMERAG_CATEGORY_RULES_FILE, then the built-ins)."""
    from app.services.runtime import open_runtime
    from app.money.categorize import apply_rules, suggest_categories
    from ingest.money.categories import BUILTIN_RULES, load_rules

    with open_runtime() as ctx:
        rules = load_rules(ctx.settings.resolved_category_rules_file) + BUILTIN_RULES
        with ctx.db.session() as s:
            changed = apply_rules(s, rules)
        suggested: dict[str, str] = {}
        if llm:
            chat = ctx.chat_client("extract")
            if chat is None:
                raise click.ClickException("no LLM configured (HOMERAG_LLM_BASE_URL)")
            with ctx.db.session() as s:
                suggested = suggest_categories(s, chat, rules=rules)
    if as_json:
        click.echo(json.dumps({"changed": changed, "suggested": suggested}, indent=2))
        return
    click.echo(f"{changed} transactions re-categorised by rules")
    for merchant, cat in suggested.items():
        click.echo(f"  suggestion: {merchant} -> {cat}")
