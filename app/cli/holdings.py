"""`homerag holdings [invested|income|cash]` and `homerag tx profile FILE` (thin: parse options,
call `app.services.holdings`, print). `--json` prints the service's JSON, the same as
/api/holdings: amounts are decimal strings, every row has its source {path, line|row}."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from app.cli import cli
from app.cli.money import call_service, tx_group
from app.services import holdings


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))




def _source(src: dict[str, Any]) -> str:
    where = ", ".join(f"{k} {src[k]}" for k in ("page", "line", "row") if src.get(k))
    return f"{src.get('path') or '?'}" + (f" ({where})" if where else "")


@cli.group("holdings", invoke_without_command=True)
@click.option("--at", help="Value at this date YYYY-MM-DD (default: the latest statements).")
@click.option("--account", help="Part of the account number or name.")
@click.option("--security", help="Ticker, ISIN, CUSIP or part of the name.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def holdings_group(ctx: click.Context, at: str | None, account: str | None,
                   security: str | None, as_json: bool) -> None:
    """Securities held, from investment statements (OFX, QIF, broker CSV exports)."""
    if ctx.invoked_subcommand is not None:
        return
    result = call_service(holdings.portfolio, at=at, account=account, security=security).to_json()
    if as_json:
        _echo_json(result)
        return
    if not result["positions"]:
        click.echo("No holdings: no investment statement with positions has been imported.")
        return
    for p in result["positions"]:
        value = f"{p['market_value']} {p['currency']}" if p["market_value"] else "no price"
        click.echo(f"{p['as_of']}  {p['security']}{' (' + p['ticker'] + ')' if p['ticker'] else ''}"
                   f"  {p['units']} units  {value}  [{p['account']}]  {_source(p['source'])}")
    totals = ", ".join(f"{v} {c}" for c, v in result["totals"].items())
    click.echo(f"Total market value: {totals or 'none'}"
               + (f" ({result['unpriced']} without a price)" if result["unpriced"] else ""))


def _view(view: str, title: str) -> Any:
    @click.option("--security", help="Ticker, ISIN, CUSIP or part of the name.")
    @click.option("--from", "date_from", help="First date YYYY-MM-DD.")
    @click.option("--to", "date_to", help="Last date YYYY-MM-DD.")
    @click.option("--account", help="Part of the account number or name.")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    def command(as_json: bool, **kw: Any) -> None:
        result = call_service(holdings.investments, view, **kw).to_json()
        if as_json:
            _echo_json(result)
            return
        for r in result["rows"]:
            units = f" {r['units']} units" if r["units"] else ""
            click.echo(f"{r['date']}  {r['kind']:<12} {r['security'] or '':<30} cash "
                       f"{r['cash']:>12} {r['currency']}{units}  {_source(r['source'])}")
        totals = ", ".join(f"{v} {c}" for c, v in result["totals"].items())
        click.echo(f"{title}: {totals or 'none'} ({len(result['rows'])} transactions)")

    command.__doc__ = {"invested": "Money put into securities (buys with fees, reinvested "
                                   "income).",
                       "income": "Dividends received (cash and reinvested).",
                       "cash": "Investment transactions that moved cash, with the net."}[view]
    return holdings_group.command(view)(command)


_view("invested", "Invested")
_view("income", "Dividends received")
_view("cash", "Net cash")


@tx_group.command("profile")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def tx_profile(file: Path) -> None:
    """Print a [[profile]] for a CSV statement, guessed from its columns, to check and add to
    the statement profiles file (lines marked '# CHECK' need a look)."""
    click.echo(holdings.draft_statement_profile(file), nl=False)
