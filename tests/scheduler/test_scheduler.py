"""The scheduler: jobs in PostgreSQL, reconciled with sources.toml, running the real pipeline,
busy when a CLI ingest holds the source lock, the weekly report wired, and the real process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

from app import scheduler as sched
from app.core.models import IngestRun, Report, SchedulerJob
from app.services.runtime import Runtime
from ingest.sources import load_sources


def _write_sources(settings, folders: dict[str, tuple[Path, float | None]]) -> None:
    lines = []
    for name, (path, hours) in folders.items():
        lines += ["[[source]]", f'name = "{name}"', 'kind = "folder"', f'path = "{path}"']
        if hours:
            lines.append(f"interval_hours = {hours}")
        lines.append("")
    settings.resolved_sources_file.write_text("\n".join(lines))


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / f"{name}.md").write_text(f"# Note {name}\n\nThe boiler in house {name} was serviced.")
        out[name] = folder
    return out


@pytest.fixture
def ctx(settings, clean_db) -> Runtime:
    from ingest.embedders.lexical import LexicalHashEmbedder

    context = Runtime(settings=settings, db=clean_db)
    context.set_embedder(LexicalHashEmbedder())
    return context


def test_jobs_are_stored_in_postgres_and_reconciled(ctx, settings, folders) -> None:
    _write_sources(settings, {"a": (folders["a"], 2), "b": (folders["b"], None)})
    scheduler, changes = sched.start(ctx, load_sources(settings.resolved_sources_file),
                                     report=sched.ReportSchedule(), run=False)
    try:
        assert sorted(changes["added"]) == ["report:weekly", "sync:a", "sync:b"]
        jobs = {j.id: j for j in scheduler.get_jobs()}
        assert str(jobs["sync:a"].trigger) == "interval[2:00:00]"
        assert str(jobs["sync:b"].trigger) == "interval[4:00:00]"  # Settings.sync_interval_hours
        assert str(jobs["report:weekly"].trigger) == "cron[day_of_week='mon', hour='7', minute='0']"
        assert all(j.coalesce and j.max_instances == 1 and j.misfire_grace_time == 3600
                   for j in jobs.values())
        next_a = jobs["sync:a"].next_run_time
    finally:
        scheduler.shutdown()
    with ctx.db.session() as s:
        assert s.scalar(select(func.count()).select_from(SchedulerJob)) == 3
    # Restart with source b gone: its job goes, the others keep their next run time.
    _write_sources(settings, {"a": (folders["a"], 2)})
    scheduler, changes = sched.start(ctx, load_sources(settings.resolved_sources_file),
                                     report=sched.ReportSchedule(), run=False)
    try:
        assert changes["removed"] == ["sync:b"]
        assert sorted(changes["kept"]) == ["report:weekly", "sync:a"]
        assert scheduler.get_job("sync:a").next_run_time == next_a
    finally:
        scheduler.shutdown()


def test_sync_job_runs_the_pipeline_and_says_busy_when_locked(ctx, settings, folders,
                                                              pg_url) -> None:
    _write_sources(settings, {"a": (folders["a"], None)})
    result = sched.sync_source(ctx, "a")
    assert result["status"] == "completed" and result["counts"]["indexed"] == 1
    with ctx.db.session() as s:
        assert s.scalars(select(IngestRun.trigger)).all() == ["scheduler"]
    # A CLI ingest of the same source holds its advisory lock: the job does not wait.
    engine = create_engine(pg_url, poolclass=NullPool)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(hashtext('homerag:source:a'))"))
        assert sched.sync_source(ctx, "a") == {"source": "a", "status": "busy"}
        conn.execute(text("SELECT pg_advisory_unlock(hashtext('homerag:source:a'))"))
    engine.dispose()
    assert sched.sync_source(ctx, "gone") == {"source": "gone", "status": "unknown"}


def test_a_scheduled_sync_fires_by_itself(ctx, settings, folders) -> None:
    _write_sources(settings, {"a": (folders["a"], 0.0005)})  # every 1.8 s
    scheduler, _ = sched.start(ctx, load_sources(settings.resolved_sources_file), report=None)
    try:
        deadline = time.monotonic() + 20
        runs = 0
        while time.monotonic() < deadline and not runs:
            time.sleep(0.3)
            with ctx.db.session() as s:
                runs = s.scalar(select(func.count()).select_from(IngestRun).where(
                    IngestRun.trigger == "scheduler", IngestRun.status == "completed"))
        assert runs >= 1
    finally:
        scheduler.shutdown(wait=True)
        sched.set_runtime(None)


def test_weekly_report_job_is_the_money_report(ctx) -> None:
    sched.set_runtime(ctx)
    try:
        result = sched.weekly_report_job()
    finally:
        sched.set_runtime(None)
    with ctx.db.session() as s:
        row = s.get(Report, result["report_id"])
        assert row is not None and row.kind == "spending-week"


def test_jobs_refuse_to_run_outside_the_scheduler() -> None:
    with pytest.raises(RuntimeError, match="only inside `homerag scheduler`"):
        sched.sync_source_job("a")


def test_homerag_scheduler_process_syncs_and_stops_on_sigterm(clean_db, pg_url, data_dir,
                                                              folders) -> None:
    (data_dir / "sources.toml").write_text(
        f'[[source]]\nname = "a"\nkind = "folder"\npath = "{folders["a"]}"\n'
        "interval_hours = 0.0005\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMERAG_")}
    env.update(HOMERAG_DATABASE_URL=pg_url, HOMERAG_DATA_DIR=str(data_dir),
               HOMERAG_EMBEDDER="lexical-hash")
    listed = subprocess.run([sys.executable, "-m", "app", "scheduler", "--list", "--json"],
                            env=env, cwd=data_dir, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert '"id": "sync:a"' in listed.stdout and '"id": "report:weekly"' in listed.stdout
    proc = subprocess.Popen([sys.executable, "-m", "app", "scheduler", "--no-report"], env=env,
                            cwd=data_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 60
        runs = 0
        while time.monotonic() < deadline and not runs:
            time.sleep(0.5)
            with clean_db.session() as s:
                runs = s.scalar(select(func.count()).select_from(IngestRun).where(
                    IngestRun.trigger == "scheduler", IngestRun.status == "completed"))
        assert runs >= 1
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "scheduler stopped" in err
