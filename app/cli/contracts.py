"""`homerag contracts`: key terms of contracts and the deadlines coming up (cancel by, ends)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import click

from app.cli import cli
from app.services.contracts import DEFAULT_DAYS, MAX_DAYS


@cli.command("contracts")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--days", default=DEFAULT_DAYS, show_default=True, type=click.IntRange(1, MAX_DAYS),
              help="How far ahead to list deadlines.")
@click.option("--all", "show_all", is_flag=True, help="Also list every contract and its terms.")
@click.option("--refresh/--no-refresh", default=True, show_default=True,
              help="Extract terms of new or changed contract documents first.")
@click.option("--today", "today_opt", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Compute deadlines as of this day (YYYY-MM-DD) instead of today.")
def contracts_cmd(as_json: bool, days: int, show_all: bool, refresh: bool,
                  today_opt: datetime | None) -> None:
    """List upcoming contract deadlines: the last day to cancel before a renewal, and ends.

    Terms come from the extraction LLM when one is configured (HOMERAG_EXTRACT_LLM_BASE_URL or
    HOMERAG_LLM_BASE_URL), otherwise from rules for common English and German phrasings; each
    contract says which.
    """
    from app.services.contracts import contracts_overview
    from app.services.runtime import open_runtime

    with open_runtime() as rt:
        overview = contracts_overview(rt, today=today_opt.date() if today_opt else None,
                                      days=days, refresh=refresh)
    payload = overview.to_json()
    if as_json:
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    _print(payload, today=overview.today, days=days, show_all=show_all)


def _print(payload: dict[str, Any], *, today: date, days: int, show_all: bool) -> None:
    refreshed = payload["refreshed"]
    if refreshed and (refreshed["extracted"] or refreshed["failed"]):
        click.echo(f"extracted terms of {refreshed['extracted']} contract(s) "
                   f"({refreshed['llm']} by LLM, {refreshed['rules']} by rules)")
        for failure in refreshed["failed"]:
            click.echo(f"  failed: document {failure['document_id']}: {failure['reason']}")
    contracts = payload["contracts"]
    if not contracts:
        click.echo("no contracts found (documents recognised as contracts get their terms "
                   "extracted here)")
        return
    deadlines = payload["deadlines"]
    click.echo(f"deadlines in the next {days} days (from {today.isoformat()}):")
    if not deadlines:
        click.echo("  none")
    for d in deadlines:
        what = "cancel by" if d["kind"] == "cancel_by" else "ends on"
        renews = f"; renews {d['next_renewal']}" if d["next_renewal"] else ""
        click.echo(f"  {d['date']} ({d['days_left']} days)  {what}: {d['title']}{renews}"
                   f"  [{d['method']}]")
        notice = d["citations"].get("notice")
        if notice and notice.get("quote"):
            page = f", p. {notice['page']}" if notice.get("page") else ""
            click.echo(f"      “{notice['quote']}” ({d['path']}{page})")
    click.echo("contracts:" if show_all else "contracts (--all for their terms):")
    for c in contracts:
        nxt = next((f"; {label} {c[key]}" for key, label in (
            ("cancel_by", "cancel by"), ("earliest_end", "earliest end"), ("term_end", "ends"))
            if c[key]), "")
        click.echo(f"  {c['title'] or c['path']}  [{c['method']}]  status: {c['status']}{nxt}")
        if not show_all:
            continue
        if c["parties"]:
            click.echo(f"    parties: {', '.join(c['parties'])}")
        facts = [("start", c["start_date"]), ("term end", c["term_end"]),
                 ("next renewal", c["next_renewal"]), ("cancel by", c["cancel_by"]),
                 ("earliest end", c["earliest_end"]), ("notice", c["notice"])]
        shown = ", ".join(f"{k} {v}" for k, v in facts if v)
        if shown:
            click.echo(f"    {shown}")
        for amount in c["amounts"]:
            rhythm = f" {amount['rhythm']}" if amount.get("rhythm") else ""
            click.echo(f"    {amount['amount']} {amount['currency']}{rhythm}")
        for note in [*c["notes"], *c["warnings"]]:
            click.echo(f"    note: {note}")
