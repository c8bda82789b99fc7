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
