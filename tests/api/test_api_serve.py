"""`homerag serve`: migrates, binds 127.0.0.1 by default, serves the API until interrupted."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from app.api.hosts import is_loopback
from tests.conftest import REPO


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("::1", True), ("[::1]", True),
                                                ("localhost", True), ("0.0.0.0", False),
                                                ("192.168.1.5", False), ("example.org", False)])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_serve_migrates_and_answers_on_loopback(pg_url, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMERAG_")}
    env.update(HOMERAG_DATABASE_URL=pg_url, HOMERAG_DATA_DIR=str(tmp_path),
               HOMERAG_EMBEDDER="lexical-hash", HOMERAG_PORT=str(port))
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--log-level", "warning"],
                            cwd=tmp_path, env={**env, "PYTHONPATH": str(REPO)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).json()
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None, proc.stdout.read() if proc.poll() is not None else "no answer"
        assert health["database"]["ok"] is True
        with socket.socket() as s:  # bound to loopback only (the default host)
            assert s.connect_ex(("127.0.0.1", port)) == 0
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert f"homerag on http://127.0.0.1:{port}/" in out
    assert "Traceback" not in out
