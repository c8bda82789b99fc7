"""`homerag serve`: migrates, binds 127.0.0.1 by default, serves the API until interrupted."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from app.http.hosts import is_loopback
from tests.conftest import REPO

# Tier `slow`: starts servers or processes (`make test-fast` leaves it out).
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("::1", True), ("[::1]", True),
                                                ("localhost", True), ("0.0.0.0", False),
                                                ("192.168.1.5", False), ("example.org", False)])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def start_serve(env_overrides: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMERAG_")}
    env.update(env_overrides, HOMERAG_EMBEDDER="lexical-hash", HOMERAG_PORT=str(port),
               PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--log-level", "warning"],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    return proc, port


def wait_for_health(proc: subprocess.Popen[str], port: int) -> dict:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).json()
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"homerag serve did not come up: {proc.communicate()[0]}")


def test_serve_migrates_and_answers_on_loopback(pg_url, tmp_path):
    proc, port = start_serve({"HOMERAG_DATABASE_URL": pg_url, "HOMERAG_DATA_DIR": str(tmp_path)},
                             tmp_path)
    try:
        health = wait_for_health(proc, port)
        assert health["database"]["ok"] is True
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert f"homerag on http://127.0.0.1:{port}/" in out
    assert "Traceback" not in out


def test_sigterm_stops_serve_and_its_embedded_database():
    # Short path: the embedded server's unix socket lives in the data directory.
    root = Path(tempfile.mkdtemp(prefix="hrs-", dir="/tmp"))
    os.chmod(root, 0o755)
    try:
        proc, port = start_serve({"HOMERAG_DATA_DIR": str(root)}, root)
        try:
            health = wait_for_health(proc, port)
            assert health["database"]["ok"] is True
            assert health["database"]["where"].startswith("embedded PostgreSQL")
            assert (root / "pgdata" / "postmaster.pid").exists()
        finally:
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, out
        assert not (root / "pgdata" / "postmaster.pid").exists(), "PostgreSQL still running"
    finally:
        pidfile = root / "pgdata" / "postmaster.pid"
        if pidfile.exists():  # the failure above: don't leave a server behind
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(pidfile.read_text().split()[0]), signal.SIGINT)
                time.sleep(2)
        shutil.rmtree(root, ignore_errors=True)
