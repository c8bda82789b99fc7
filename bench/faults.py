"""Faults survived, by kind x trials, with the load held and the data lost (issue 12's closing
figures). Real parts only: `homerag serve` / `ingest` / `backup` / `status` as subprocesses, the
embedded PostgreSQL, the loopback stub LLM, small tmpfs mounts for a full disk (root only).

1. postmaster SIGKILL under serve: `clients` threads ask (retrieval-only, each answer logged)
   and read /api/status while the postmaster is killed `trials` times; serve must bring it
   back on its own. Outage: kill to the next 200. Data lost: acknowledged answers missing from
   the answers table, plus any change in the document/chunk counts.
2. slow-ask burst: 40 asks at once (ask, stream, /v1) on a model that takes 3 s; health and
   status probed meanwhile. Errors: anything but 200 or 503 + Retry-After.
3. postmaster SIGKILL during `homerag ingest`: the run must end with one line, no traceback;
   a re-run (which starts the server again) must leave every file indexed exactly once and no
   document without passages.
4. full disk: the embedded server starting on one, a backup onto one, originals stored onto
   one during ingest: one line naming the disk, nothing half-written.

    .venv/bin/python bench/faults.py [--trials 5] [--quick]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_workdir, percentile, print_table, write_json

RUN_ALL = True
QUESTION = "What is the notice period of the gym membership?"


def _env(data: Path, **extra: str) -> dict[str, str]:
    return {"HOMERAG_DATA_DIR": str(data), **extra}


def _db_url(pgdata: Path) -> str:
    return f"postgresql+psycopg://postgres:@/homerag?host={pgdata}"


def _count(pgdata: Path, sql: str) -> int:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(_db_url(pgdata), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar() or 0)
    finally:
        engine.dispose()


def _ingest_corpus(root: Path, data: Path) -> Path:
    from tests.faults.support import homerag
    from tests.http.corpus import write_corpus

    docs = write_corpus(root)
    done = homerag("ingest", str(docs), env=_env(data), cwd=root)
    if done.returncode != 0:
        raise SystemExit(f"setup ingest failed: {done.stdout}{done.stderr}")
    return docs


# -- 1. postmaster killed under serve -----------------------------------------------------------
def kill_under_serve(root: Path, *, trials: int, clients: int) -> dict[str, Any]:
    import httpx

    from tests.faults.support import (
        kill_postmaster,
        postgres_processes,
        serving,
        stop,
        wait_for_health,
    )

    data = root / "data"
    _ingest_corpus(root, data)
    pgdata = data / "pgdata"
    seen: list[tuple[float, str, int]] = []
    lock = threading.Lock()
    stop_load = threading.Event()
    outages: list[float] = []
    recovered = 0
    with serving(_env(data), cwd=root, log=root / "serve.log") as served:
        wait_for_health(served)
        before = (_count(pgdata, "SELECT count(*) FROM documents"),
                  _count(pgdata, "SELECT count(*) FROM chunks"))

        def load(i: int) -> None:
            with httpx.Client(timeout=30) as client:
                while not stop_load.is_set():
                    kind = "ask" if i % 2 else "status"
                    try:
                        r = (client.post(f"{served.base}/api/ask", json={"question": QUESTION})
                             if kind == "ask" else client.get(f"{served.base}/api/status"))
                        status = r.status_code
                    except httpx.HTTPError:
                        status = 0
                    with lock:
                        seen.append((time.monotonic(), kind, status))
                    stop_load.wait(0.05)

        threads = [threading.Thread(target=load, args=(i,), daemon=True) for i in range(clients)]
        started = time.monotonic()
        for t in threads:
            t.start()
        with httpx.Client(timeout=10) as probe:
            for trial in range(1, trials + 1):
                time.sleep(2.0)
                kill_postmaster(pgdata)
                killed = time.monotonic()
                back = None
                while time.monotonic() - killed < 90:
                    try:
                        health = probe.get(f"{served.base}/api/health").json()["database"]
                        if health["restarts"] >= trial and probe.get(
                                f"{served.base}/api/status").status_code == 200:
                            back = time.monotonic() - killed
                            break
                    except (httpx.HTTPError, ValueError, KeyError):
                        pass
                    time.sleep(0.1)
                if back is not None:
                    recovered += 1
                    outages.append(back)
        time.sleep(1.0)
        stop_load.set()
        for t in threads:
            t.join(30)
        held = time.monotonic() - started
        acked = sum(1 for _, kind, s in seen if kind == "ask" and s == 200)
        logged = _count(pgdata, "SELECT count(*) FROM answers")
        after = (_count(pgdata, "SELECT count(*) FROM documents"),
                 _count(pgdata, "SELECT count(*) FROM chunks"))
        code = stop(served)
    time.sleep(1.0)
    left = postgres_processes(pgdata)
    statuses: dict[int, int] = {}
    for _, _, s in seen:
        statuses[s] = statuses.get(s, 0) + 1
    errors = sum(n for s, n in statuses.items() if s not in (200, 503))
    lost = max(0, acked - logged) + abs(after[0] - before[0]) + abs(after[1] - before[1])
    return {"fault": "postmaster SIGKILL under serve", "trials": trials, "survived": recovered,
            "load": f"{clients} clients x {held:.0f} s", "requests": len(seen),
            "503": statuses.get(503, 0), "errors": errors, "data_lost": lost,
            "notes": (f"outage p50 {percentile(outages, 50):.1f} s, max "
                      f"{max(outages, default=float('nan')):.1f} s; {acked} answers acked, "
                      f"{logged} logged; exit {code}, {len(left)} postgres left"),
            "statuses": statuses}


# -- 2. slow-ask bursts ------------------------------------------------------------------------
def slow_ask_bursts(root: Path, *, trials: int, clients: int) -> dict[str, Any]:
    from tests.faults.load import burst
    from tests.faults.support import serving, wait_for_health
    from tests.openai_stub import OpenAIStub, Reply

    data = root / "data"
    _ingest_corpus(root, data)
    pgdata = data / "pgdata"
    rows: list[dict[str, Any]] = []
    with OpenAIStub() as stub:
        stub.reply_with(lambda req: Reply("The notice period is three months [1].",
                                          first_byte_delay=3.0))
        env = _env(data, HOMERAG_LLM_BASE_URL=stub.base_url, HOMERAG_LLM_MODEL="stub",
                   HOMERAG_LLM_TIMEOUT="30", HOMERAG_LLM_CONCURRENCY="4",
                   HOMERAG_LLM_QUEUE="8", HOMERAG_LLM_QUEUE_TIMEOUT="5")
        with serving(env, cwd=root, log=root / "serve.log") as served:
            wait_for_health(served)
            for _ in range(trials):
                before = _count(pgdata, "SELECT count(*) FROM answers")
                result = burst(served.base, clients=clients, question=QUESTION)
                logged = _count(pgdata, "SELECT count(*) FROM answers") - before
                pool = wait_for_health(served)["database"]["pool"]
                statuses = result.by_status()
                bad = sum(1 for a in result.asks
                          if a.status not in (200, 503) or (a.status == 503 and not a.retry_after))
                probes = [ms for p in result.probes.values() for _, _, ms in p.results]
                probe_errors = sum(1 for p in result.probes.values() for s in p.statuses()
                                   if s != 200)
                rows.append({"seconds": result.seconds, "ok": statuses.get(200, 0),
                             "refused": statuses.get(503, 0), "errors": bad + probe_errors,
                             "lost": max(0, statuses.get(200, 0) - logged),
                             "p95": percentile(probes, 95), "max": max(probes),
                             "peak": pool.get("peak")})
    held = sum(r["seconds"] for r in rows)
    return {"fault": f"slow-ask burst ({clients} at once, model 3 s)", "trials": trials,
            "survived": sum(1 for r in rows if r["errors"] == 0),
            "load": f"{clients} clients x {held:.0f} s", "requests": clients * trials,
            "503": sum(r["refused"] for r in rows), "errors": sum(r["errors"] for r in rows),
            "data_lost": sum(r["lost"] for r in rows),
            "notes": (f"{sum(r['ok'] for r in rows)} answered; health/status p95 "
                      f"{max(r['p95'] for r in rows):.0f} ms, max "
                      f"{max(r['max'] for r in rows):.0f} ms; pool peak "
                      f"{max(r['peak'] or 0 for r in rows)} of 15"),
            "bursts": rows}


# -- 3. postmaster killed during ingest ---------------------------------------------------------
def kill_during_ingest(root: Path, *, trials: int, files: int) -> dict[str, Any]:
    import subprocess

    from tests.faults.support import REPO, homerag, postgres_processes, postmaster_pid

    docs = root / "docs"
    docs.mkdir()
    for i in range(files):
        (docs / f"note{i:04d}.txt").write_text(
            f"Note {i}: the boiler service, the rent and the gym. " * 400)
    survived, lost_total, lines = 0, 0, []
    for trial in range(trials):
        data = root / f"data{trial}"
        env = _env(data)
        homerag("status", env=env, cwd=root)  # initialise the data directory first
        full = {k: v for k, v in os.environ.items() if not k.startswith("HOMERAG_")}
        full.update({"HOMERAG_EMBEDDER": "lexical-hash", "PYTHONPATH": str(REPO)}, **env)
        proc = subprocess.Popen([sys.executable, "-m", "app", "ingest", str(docs)], cwd=root,
                                env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        pgdata = data / "pgdata"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if _count(pgdata, "SELECT count(*) FROM documents") >= files // 4:
                    break
            except Exception:
                pass
            time.sleep(0.1)
        pid = postmaster_pid(pgdata)
        if pid is not None and proc.poll() is None:
            os.kill(pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
        said = [ln for ln in (out + err).splitlines() if "rror" in ln or "database" in ln]
        one_line = "Traceback" not in err and len([ln for ln in err.splitlines()
                                                   if ln.strip()]) <= 1
        again = homerag("ingest", str(docs), env=env, cwd=root, timeout=600)
        indexed = _count_after(root, env, "SELECT count(*) FROM documents")
        empty = _count_after(root, env, "SELECT count(*) FROM documents d WHERE NOT EXISTS "
                             "(SELECT 1 FROM chunks c WHERE c.document_id = d.id)")
        lost = abs(files - indexed) + empty
        lost_total += lost
        survived += int(proc.returncode != 0 and one_line and again.returncode == 0
                        and lost == 0)
        lines.append(said[-1][:160] if said else f"(exit {proc.returncode}, no message)")
        for p in postgres_processes(pgdata):  # the next trial starts clean
            os.kill(p, signal.SIGKILL)
    return {"fault": "postmaster SIGKILL during ingest", "trials": trials,
            "survived": survived, "load": f"{files} files per run", "requests": trials,
            "503": 0, "errors": trials - survived, "data_lost": lost_total,
            "notes": f"message: {lines[-1] if lines else '-'}"}


def _count_after(root: Path, env: dict[str, str], sql: str) -> int:
    """A count in a data directory whose server is not running (started, read, stopped)."""
    code = ("import sys\nfrom sqlalchemy import text\nfrom app.services.runtime import "
            "open_runtime\nwith open_runtime(migrate=False) as rt, rt.db.engine.connect() as c:"
            f"\n    print(c.execute(text({sql!r})).scalar())\n")
    import subprocess

    from tests.faults.support import REPO

    full = {k: v for k, v in os.environ.items() if not k.startswith("HOMERAG_")}
    full.update({"HOMERAG_EMBEDDER": "lexical-hash", "PYTHONPATH": str(REPO)}, **env)
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=full, capture_output=True,
                         text=True, timeout=120, check=False)
    try:
        return int(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return -1


# -- 4. full disk -------------------------------------------------------------------------------
def full_disk(root: Path, *, trials: int) -> list[dict[str, Any]]:
    import subprocess

    from tests.faults.support import homerag

    def mounted(path: Path, size: str) -> bool:
        path.mkdir(parents=True, exist_ok=True)
        return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs",
                               str(path)], capture_output=True, check=False).returncode == 0

    def umount(path: Path) -> None:
        for _ in range(20):
            if subprocess.run(["umount", str(path)], capture_output=True).returncode == 0:
                return
            time.sleep(0.5)

    def one_line(done: Any, needle: str) -> tuple[bool, str]:
        lines = [ln for ln in (done.stdout + done.stderr).splitlines() if ln.strip()]
        hits = [ln for ln in lines if needle in ln]
        return (done.returncode != 0 or bool(hits)) and "Traceback" not in done.stderr \
            and bool(hits) and len([ln for ln in done.stderr.splitlines() if ln.strip()]) <= 1, \
            (hits or lines or ["(nothing)"])[-1][:160]

    rows: list[dict[str, Any]] = []
    if not mounted(root / "probe", "1m"):
        return [{"fault": "full disk", "trials": 0, "survived": 0, "load": "-",
                 "requests": 0, "503": 0, "errors": 0, "data_lost": 0,
                 "notes": "skipped: cannot mount a tmpfs (needs root)"}]
    umount(root / "probe")
    data = root / "data"
    docs = root / "docs"
    docs.mkdir()
    for i in range(6):  # ~2.4 MB of originals
        (docs / f"note{i}.txt").write_text(f"Household note {i} about the boiler. " * 11_000)
    homerag("ingest", str(docs), env=_env(data), cwd=root)  # originals for the backups

    def server_start(trial: int) -> tuple[bool, str, int]:
        disk = root / f"small{trial}"
        mounted(disk, "20m")
        try:
            done = homerag("status", env=_env(disk / "data"), cwd=root)
            ok, line = one_line(done, "the disk holding")
            return ok, line, 0
        finally:
            umount(disk)

    def backup(trial: int) -> tuple[bool, str, int]:
        disk = root / f"backup{trial}"
        mounted(disk, "1m" if trial % 2 else "100k")
        try:
            done = homerag("backup", str(disk), env=_env(data), cwd=root)
            ok, line = one_line(done, "the disk holding")
            left = len(list(disk.iterdir()))
            return ok and left == 0, line, left
        finally:
            umount(disk)

    def originals(trial: int) -> tuple[bool, str, int]:
        sub = root / f"orig{trial}"
        sub_data = sub / "data"
        (sub_data / "originals").mkdir(parents=True)
        env = _env(sub_data, HOMERAG_DATABASE_URL=_db_url(data / "pgdata").replace(
            "/homerag?", f"/homerag_o{trial}?"))
        _create_db(data, f"homerag_o{trial}")
        mounted(sub_data / "originals", "1m")
        try:
            done = homerag("ingest", str(docs), env=env, cwd=root)
            ok, line = one_line(done, "the disk holding")
        finally:
            umount(sub_data / "originals")
        again = homerag("ingest", "--retry-failed", str(docs), env=env, cwd=root)
        lost = 0 if again.returncode == 0 and "failed" in again.stdout and \
            " 0 failed" in again.stdout else 1
        return ok and lost == 0, line, lost

    cases: list[tuple[str, Callable[[int], tuple[bool, str, int]]]] = [
        ("full disk: embedded server start", server_start),
             ("full disk: backup (dump / originals)", backup),
             ("full disk: originals during ingest", originals)]
    with _server(data):
        for name, case in cases:
            results = [case(t) for t in range(trials)]
            rows.append({"fault": name, "trials": trials,
                         "survived": sum(1 for ok, _, _ in results if ok), "load": "-",
                         "requests": trials, "503": 0,
                         "errors": sum(1 for ok, _, _ in results if not ok),
                         "data_lost": sum(n for _, _, n in results),
                         "notes": f"message: {results[-1][1]}"})
    return rows


def _create_db(data: Path, name: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(_db_url(data / "pgdata").replace("/homerag?", "/postgres?"),
                           poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                            {"n": name}).first():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


class _server:
    """Keep the embedded server of `data` running (for external-URL commands) meanwhile."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.db: Any = None

    def __enter__(self) -> _server:
        from app.core.db import EmbeddedPostgres

        self.db = EmbeddedPostgres(self.data / "pgdata")
        self.db.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.stop()


# -- main ---------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--clients", type=int, default=8, help="load while killing")
    parser.add_argument("--quick", action="store_true", help="2 trials of each, fewer files")
    parser.add_argument("--only", choices=("kill", "burst", "ingest", "disk"), action="append")
    args = parser.parse_args()
    trials = 2 if args.quick else args.trials
    only = set(args.only or ("kill", "burst", "ingest", "disk"))
    rows: list[dict[str, Any]] = []
    if "kill" in only:
        with bench_workdir() as root:
            rows.append(kill_under_serve(root, trials=trials, clients=args.clients))
    if "burst" in only:
        with bench_workdir() as root:
            rows.append(slow_ask_bursts(root, trials=max(1, trials // 2 + 1), clients=40))
    if "ingest" in only:
        with bench_workdir() as root:
            rows.append(kill_during_ingest(root, trials=trials, files=80 if args.quick else 300))
    if "disk" in only:
        with bench_workdir() as root:
            rows.extend(full_disk(root, trials=trials))
    headers = ["fault", "trials", "survived", "load held", "requests", "503", "errors",
               "data lost", "notes"]
    print_table("Faults (issue 12)", [[r["fault"], r["trials"], r["survived"], r["load"],
                                       r["requests"], r["503"], r["errors"], r["data_lost"],
                                       r["notes"]] for r in rows], headers)
    print(f"\nwritten {write_json('faults', {'rows': rows})}")


if __name__ == "__main__":
    main()
