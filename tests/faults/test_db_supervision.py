"""The embedded PostgreSQL under `homerag serve`: killed with SIGKILL it is restarted by serve
itself (requests get 503 meanwhile, never 500, then succeed again with no other command run),
/api/health tells the story, and SIGTERM leaves no process of that data directory behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.faults.support import (
    Probe,
    kill_postmaster,
    postgres_processes,
    postmaster_pid,
    serving,
    stop,
    wait_for_health,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def root():
    # Short path: the server's unix socket lives in the data directory.
    path = Path(tempfile.mkdtemp(prefix="hrf-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    for pid in postgres_processes(path / "pgdata"):  # a failed test leaves nothing behind
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(path, ignore_errors=True)


def test_killed_postmaster_is_restarted_by_serve_and_stopped_on_sigterm(root):
    pgdata = root / "pgdata"
    with serving({"HOMERAG_DATA_DIR": str(root)}, cwd=root, log=root / "serve.log") as served:
        health = wait_for_health(served)
        db = health["database"]
        assert db["ok"] is True and db["supervised"] is True and db["restarts"] == 0, db
        first = postmaster_pid(pgdata)
        assert first is not None

        kill_postmaster(pgdata)
        probe = Probe(f"{served.base}/api/status")
        started = time.monotonic()
        with httpx.Client(timeout=10) as client:
            while time.monotonic() - started < 60:
                status = probe.once(client, started)
                if status == 200 and 503 in probe.statuses():
                    break
                time.sleep(0.05)
            statuses = probe.statuses()
            assert 503 in statuses, f"the outage was never seen: {statuses[:20]}"
            assert statuses[-1] == 200, f"never answered again: {statuses[-20:]}"
            assert set(statuses) <= {200, 503}, f"not only 503 then 200: {sorted(set(statuses))}"
            down = [t for t, s, _ in probe.results if s == 503]
            # The server answers a moment before the supervisor has noted its restart.
            deadline = time.monotonic() + 15
            while True:
                health = client.get(f"{served.base}/api/health").json()["database"]
                if health["restarts"] or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
        assert health["ok"] is True and health["restarts"] == 1, health
        assert health["last_restart_at"] and health["error"] is None, health
        second = postmaster_pid(pgdata)
        assert second is not None and second != first
        print(f"503 for {down[-1] - down[0]:.1f} s, then 200 (restart {health})")

        code = stop(served, sig=signal.SIGTERM)
    assert code == 0, served.output()[-2000:]
    assert "Traceback" not in served.output()
    deadline = time.monotonic() + 10  # backends leave right after their postmaster
    while postgres_processes(pgdata) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert postgres_processes(pgdata) == [], "a postgres process of this data dir survived"
    assert not (pgdata / "postmaster.pid").exists()


def test_serve_leaves_a_server_another_process_still_uses(root):
    """SIGTERM stops what serve started only when no other homerag process uses it; the last
    one to let go stops it."""
    import subprocess
    import sys

    from tests.faults.support import REPO

    pgdata = root / "pgdata"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMERAG_")}
    env.update(HOMERAG_DATA_DIR=str(root), HOMERAG_EMBEDDER="lexical-hash", PYTHONPATH=str(REPO))
    with serving({"HOMERAG_DATA_DIR": str(root)}, cwd=root, log=root / "serve.log") as served:
        wait_for_health(served)
        other = subprocess.Popen(
            [sys.executable, "-c", "import sys\nfrom app.services.runtime import open_runtime\n"
             "with open_runtime() as rt:\n    print('ready', flush=True)\n    sys.stdin.read()\n"],
            cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert other.stdout is not None and other.stdout.readline().strip() == "ready"
            assert stop(served) == 0
            pid = postmaster_pid(pgdata)
            assert pid is not None, "serve stopped a server another process still uses"
            other.communicate("", timeout=60)  # the other process ends normally
        finally:
            if other.poll() is None:
                other.kill()
    assert other.returncode == 0
    deadline = time.monotonic() + 10
    while postgres_processes(pgdata) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert postgres_processes(pgdata) == [], "the last user did not stop the server"


def test_the_last_user_stops_a_server_another_process_restarted(root):
    """The old bug: after a crash another command started the server again, and the process
    that had started the first one 'stopped' the dead one on exit, leaving this one running."""
    from app.core.db import EmbeddedPostgres
    from tests.faults.support import homerag, kill_postmaster

    pgdata = root / "pgdata"
    mine = EmbeddedPostgres(pgdata)
    mine.start()
    try:
        first = kill_postmaster(pgdata)
        deadline = time.monotonic() + 10
        while mine.running() and time.monotonic() < deadline:
            time.sleep(0.1)
        done = homerag("status", env={"HOMERAG_DATA_DIR": str(root)}, cwd=root)
        assert done.returncode == 0, done.stdout + done.stderr
        second = postmaster_pid(pgdata)
        assert second is not None and second != first  # still ours to stop: we hold a handle
    finally:
        mine.stop()
    deadline = time.monotonic() + 10
    while postgres_processes(pgdata) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert postgres_processes(pgdata) == [], "the restarted server outlived its last user"
