"""The scheduler of `homerag scheduler` (APScheduler 3, jobs kept in the same PostgreSQL).

Wiring only. Jobs are plain module-level functions (so the job store can name them):
`sync_source_job(name)` runs the same pipeline as `homerag ingest --source NAME` and then
refreshes contract terms; `weekly_report_job()` calls the money report. Defaults: coalesce
missed runs into one, at most one instance per job, an hour of misfire grace. Each source syncs
every `interval_hours` of its `sources.toml` entry (else HOMERAG_SYNC_INTERVAL_HOURS, 4 h). A
sync that finds its source locked by another process (a CLI ingest) says "busy" and waits for
its next turn. Jobs are reconciled with the configuration at start: unchanged jobs keep their
next run time across restarts; removed sources lose their job.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

    from app.services.runtime import Runtime
    from ingest.sources import ConfiguredSource

log = logging.getLogger(__name__)

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
REPORT_JOB_ID = "report:weekly"
BACKUP_JOB_ID = "backup:daily"

# The Runtime of the running scheduler process. APScheduler's database job store keeps each job
# as a "module:function" reference plus picklable arguments, and a Runtime (engine, embedder,
# clients) cannot be pickled, so the process that runs the jobs registers its Runtime here and
# the job functions below look it up. This is the one process-wide variable of homerag.
_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def set_runtime(rt: Runtime | None) -> None:
    global _runtime
    with _runtime_lock:
        _runtime = rt


def _rt() -> Runtime:
    if _runtime is None:
        raise RuntimeError("scheduler jobs run only inside `homerag scheduler`")
    return _runtime


# -- jobs ---------------------------------------------------------------------------------------
def sync_source(rt: Runtime, name: str, *, trigger: str = "scheduler") -> dict[str, Any]:
    """Sync one configured source as `homerag ingest --source NAME` does (never waiting for a
    lock another process holds); contract terms are refreshed when documents changed."""
    from app.services.sync import sync_configured

    return sync_configured(rt, name, trigger=trigger)


def sync_source_job(name: str) -> dict[str, Any]:
    return sync_source(_rt(), name)


def backup_job() -> dict[str, Any]:
    from app.services.backup import scheduled_backup

    result = scheduled_backup(_rt())
    log.info("scheduled backup: %s", result.get("path") or result)
    return result


def weekly_report_job() -> dict[str, Any]:
    from app.services.report import run_weekly_report

    result: dict[str, Any] = run_weekly_report(_rt())
    log.info("weekly report: %s", result)
    return result


# -- wiring -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ReportSchedule:
    day_of_week: str = "mon"
    hour: int = 7
    minute: int = 0


def build_scheduler(rt: Runtime, *, background: bool = True) -> BaseScheduler:
    """A scheduler whose job store is the `apscheduler_jobs` table of our database."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    from app.core.models.scheduler import JOBS_TABLE

    cls = BackgroundScheduler if background else BlockingScheduler
    return cls(
        jobstores={"default": SQLAlchemyJobStore(engine=rt.db.engine, tablename=JOBS_TABLE)},
        executors={"default": ThreadPoolExecutor(2)},
        job_defaults=dict(JOB_DEFAULTS),
        timezone=rt.settings.tz,
    )


def desired_jobs(sources: Sequence[ConfiguredSource], *, default_hours: float,
                 report: ReportSchedule | None, timezone: Any,
                 backup_at: tuple[int, int] | None = None) -> dict[str, dict[str, Any]]:
    """Job id -> add_job() arguments for the configuration."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    jobs: dict[str, dict[str, Any]] = {}
    for cs in sources:
        if not cs.enabled:
            continue
        hours = cs.interval_hours or default_hours
        jobs[f"sync:{cs.source.name}"] = {
            "func": f"{__name__}:sync_source_job", "args": [cs.source.name],
            "trigger": IntervalTrigger(hours=hours, timezone=timezone),
            "name": f"sync {cs.source.name} every {hours:g} h",
        }
    if report is not None:
        jobs[REPORT_JOB_ID] = {
            "func": f"{__name__}:weekly_report_job", "args": [],
            "trigger": CronTrigger(day_of_week=report.day_of_week, hour=report.hour,
                                   minute=report.minute, timezone=timezone),
            "name": f"weekly report ({report.day_of_week} {report.hour:02d}:{report.minute:02d})",
        }
    if backup_at is not None:
        jobs[BACKUP_JOB_ID] = {
            "func": f"{__name__}:backup_job", "args": [],
            "trigger": CronTrigger(hour=backup_at[0], minute=backup_at[1], timezone=timezone),
            "name": f"daily backup ({backup_at[0]:02d}:{backup_at[1]:02d})",
        }
    return jobs


def reconcile(scheduler: BaseScheduler, desired: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Make the stored jobs match `desired`; unchanged jobs keep their next run time."""
    changes: dict[str, list[str]] = {"added": [], "updated": [], "kept": [], "removed": []}
    for job in scheduler.get_jobs():
        if job.id not in desired:
            scheduler.remove_job(job.id)
            changes["removed"].append(job.id)
    for job_id, spec in desired.items():
        job = scheduler.get_job(job_id)
        if job is not None and str(job.trigger) == str(spec["trigger"]) and list(job.args) == list(
                spec["args"]) and job.func_ref == spec["func"]:
            changes["kept"].append(job_id)
            continue
        scheduler.add_job(spec["func"], trigger=spec["trigger"], args=spec["args"], id=job_id,
                          name=spec["name"], replace_existing=True)
        changes["updated" if job is not None else "added"].append(job_id)
    return changes


def describe(scheduler: BaseScheduler) -> list[dict[str, Any]]:
    return [{"id": j.id, "name": j.name,
             "next_run_time": j.next_run_time.isoformat() if j.next_run_time else None,
             "trigger": str(j.trigger)} for j in scheduler.get_jobs()]


def start(rt: Runtime, sources: Sequence[ConfiguredSource], *,
          report: ReportSchedule | None, run: bool = True
          ) -> tuple[BaseScheduler, dict[str, list[str]]]:
    """Start a background scheduler with reconciled jobs (the caller waits and shuts it down);
    `run=False` reconciles and leaves it paused (for listing)."""
    set_runtime(rt)
    scheduler = build_scheduler(rt)
    scheduler.start(paused=True)  # load the stored jobs first, then reconcile, then run
    changes = reconcile(scheduler, desired_jobs(
        sources, default_hours=rt.settings.sync_interval_hours, report=report,
        timezone=rt.settings.tz, backup_at=_backup_at(rt)))
    if run:
        scheduler.resume()
    return scheduler, changes


def _backup_at(rt: Runtime) -> tuple[int, int] | None:
    """(hour, minute) of the daily backup when HOMERAG_BACKUP_DIR is set."""
    if rt.settings.backup_dir is None:
        return None
    hour, minute = rt.settings.backup_time.split(":")
    return int(hour), int(minute)
