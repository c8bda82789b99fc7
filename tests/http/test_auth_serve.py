"""`homerag serve` and `homerag demo` beyond loopback (issue 12): without a user they refuse to
start, in one line saying how to add one; with a user `serve --host 0.0.0.0` starts and every
route but the public ones needs a login. Real subprocesses on the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from tests.conftest import REPO
from tests.http.test_api_serve import free_port

# Tier `slow`: starts servers or processes (`make test-fast` leaves it out).
pytestmark = pytest.mark.slow


def homerag(*args: str, env_extra: dict[str, str], cwd: Path,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMERAG_")}
    env.update(env_extra, HOMERAG_EMBEDDER="lexical-hash", PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "app", *args], env=env, cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=180)


@pytest.fixture
def db_env(clean_db, pg_url, tmp_path) -> dict[str, str]:
    yield {"HOMERAG_DATABASE_URL": pg_url, "HOMERAG_DATA_DIR": str(tmp_path)}
    with clean_db.engine.begin() as conn:
        conn.execute(text("DELETE FROM users"))


def test_serve_on_all_interfaces_refuses_without_a_user(db_env, tmp_path) -> None:
    done = homerag("serve", "--host", "0.0.0.0", "--port", str(free_port()), env_extra=db_env,
                   cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "Error: refusing to listen on 0.0.0.0 without a user: add one with "
        "`homerag user add NAME` (or listen on 127.0.0.1)"]


def test_demo_on_all_interfaces_refuses_before_indexing(tmp_path) -> None:
    data = Path("/tmp") / f"hrd-{os.getpid()}"  # short: the embedded server's socket
    try:
        done = homerag("demo", "--host", "0.0.0.0", "--data-dir", str(data),
                       env_extra={}, cwd=tmp_path)
        assert done.returncode == 1, done.stdout + done.stderr
        last = done.stderr.strip().splitlines()[-1]
        assert last.startswith("Error: refusing to listen on 0.0.0.0 without a user")
        assert f"HOMERAG_DATA_DIR={data} homerag user add NAME" in last
        assert "indexed" not in done.stdout  # nothing was indexed first
    finally:
        subprocess.run(["rm", "-rf", str(data)], check=False)


def test_serve_on_all_interfaces_with_a_user_needs_a_login(db_env, tmp_path) -> None:
    added = homerag("user", "add", "alice", "--password-stdin", env_extra=db_env, cwd=tmp_path,
                    stdin="correct horse battery\n")
    assert added.returncode == 0, added.stderr
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMERAG_")}
    env.update(db_env, HOMERAG_EMBEDDER="lexical-hash", PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--host", "0.0.0.0",
                             "--port", str(port)], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(400):
            try:
                live = httpx.get(base + "/api/live", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.communicate()[0]
                time.sleep(0.1)
        assert live.json() == {"status": "ok"}
        assert httpx.get(base + "/api/status").status_code == 401
        assert httpx.get(base + "/api/health").status_code == 401
        r = httpx.get(base + "/search?q=rent", headers={"Accept": "text/html"})
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        assert httpx.get(base + "/api/live", headers={"Host": "evil.example"}).status_code == 400
        token = homerag("token", "create", "probe", env_extra=db_env, cwd=tmp_path).stdout.strip()
        ok = httpx.get(base + "/api/status", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert "every page and API call needs a login" in out
    # The access log has the requests, never a query string.
    assert '"GET /search" 303' in out and "q=rent" not in out
