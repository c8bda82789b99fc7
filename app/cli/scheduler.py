"""`homerag scheduler`: the sync and report scheduler, as its own long-running process."""

from __future__ import annotations

import json
import signal
import threading
from typing import Any

import click

from app.cli import cli

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@cli.command("scheduler")
@click.option("--list", "list_only", is_flag=True, help="Show the scheduled jobs and exit.")
@click.option("--once", is_flag=True, help="Sync every configured source once, then exit.")
@click.option("--report-day", type=click.Choice(_DAYS), default=None,
              help="Day of the weekly report (default HOMERAG_REPORT_WEEKDAY: mon).")
@click.option("--report-time", default=None, metavar="HH:MM",
              help="Local time (HOMERAG_TIMEZONE) of the weekly report "
                   "(default HOMERAG_REPORT_TIME: 07:00).")
@click.option("--no-report", is_flag=True, help="Do not schedule the weekly report.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (--list, --once).")
def scheduler_cmd(list_only: bool, once: bool, report_day: str | None, report_time: str | None,
                  no_report: bool, as_json: bool) -> None:
    """Sync configured sources on their intervals (default every 4 h) and write the weekly
    report. Jobs live in the database; run one scheduler per database. Stop with Ctrl-C or
    SIGTERM: a running sync finishes its current document first (each is its own transaction).
    """
    from app import scheduler as sched
    from app.services.runtime import open_runtime
    from app.services.sync import configured_sources

    with open_runtime() as rt:
        day = report_day or rt.settings.report_weekday
        report = None if no_report else sched.ReportSchedule(
            day, *_hh_mm(report_time or rt.settings.report_time))
        sources = list(configured_sources(rt.settings).values())
        if once:
            results = [sched.sync_source(rt, cs.source.name) for cs in sources if cs.enabled]
            _emit({"runs": results}, as_json, lambda r: [
                f"{x['source']}: {x['status']}" for x in r["runs"]])
            return
        scheduler, changes = sched.start(rt, sources, report=report, run=not list_only)
        try:
            jobs = sched.describe(scheduler)
            if list_only:
                _emit({"jobs": jobs}, as_json, lambda r: [
                    f"{j['id']}: next {j['next_run_time'] or 'paused'} ({j['trigger']})"
                    for j in r["jobs"]])
                return
            click.echo(f"scheduler running with {len(jobs)} job(s) "
                       f"(added {len(changes['added'])}, updated {len(changes['updated'])}, "
                       f"removed {len(changes['removed'])}); stop with Ctrl-C", err=True)
            _wait_for_signal()
        finally:
            scheduler.shutdown(wait=True)
            sched.set_runtime(None)
    click.echo("scheduler stopped", err=True)


def _hh_mm(value: str) -> tuple[int, int]:
    try:
        hour, minute = (int(x) for x in value.split(":", 1))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not HH:MM", param_hint="--report-time") from None
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise click.BadParameter(f"{value!r} is not a time of day", param_hint="--report-time")
    return hour, minute


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(3600):
        pass


def _emit(payload: dict[str, Any], as_json: bool, lines: Any) -> None:
    if as_json:
        click.echo(json.dumps(payload, indent=2, default=str))
    else:
        for line in lines(payload):
            click.echo(line)
