"""Request body limits (app/http/security.py BodyLimitMiddleware): JSON and forms stop at
HOMERAG_MAX_REQUEST_MB, uploads at HOMERAG_MAX_UPLOAD_MB, checked while the body streams in.

The last test sends a real 500 MB chunked JSON body to `homerag serve` over a socket and reads
the server's memory from /proc: the answer is a 413 after about the limit, and the server's peak
resident memory grows by a few MB, not by the body (before the limit: 2.1 GB).
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import time
from collections.abc import Iterator

import pytest

from tests.http.test_api_serve import start_serve, wait_for_health

MB = 1024 * 1024


def test_declared_oversize_json_is_refused_before_reading(make_client) -> None:
    client = make_client(max_request_mb=1.0)
    r = client.post("/api/search", content=b"x",
                    headers={"Content-Type": "application/json", "Content-Length": str(2 * MB)})
    assert r.status_code == 413
    assert r.json()["code"] == "too_large" and "1 MB" in r.json()["detail"]


def test_streamed_oversize_json_is_refused(make_client) -> None:
    client = make_client(max_request_mb=1.0)

    def body() -> Iterator[bytes]:  # no Content-Length: chunked
        yield b'{"query": "'
        for _ in range(40):
            yield b"a" * 65536
        yield b'"}'

    r = client.post("/api/search", content=body(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "too_large"


def test_a_body_under_the_limit_is_read_as_usual(make_client) -> None:
    client = make_client(max_request_mb=1.0)
    r = client.post("/api/search", json={"query": "rent " * 50_000})  # ~250 KB
    assert r.status_code != 413


def test_forms_have_the_request_limit_and_uploads_their_own(make_client) -> None:
    client = make_client(max_request_mb=0.5, max_upload_mb=2.0)
    form = {"question": "q" * (600 * 1024)}
    assert client.post("/ask", data=form).status_code == 413
    # A multipart body of 1.5 MB is under the upload limit: whatever the route says, not 413.
    files = {"files": ("a.txt", b"x" * (1536 * 1024), "text/plain")}
    assert client.post("/upload", files=files).status_code != 413
    files = {"files": ("a.txt", b"x" * (3 * MB), "text/plain")}
    r = client.post("/upload", files=files)
    assert r.status_code == 413 and "2 MB" in r.text


def _rss_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def _read_status(sock: socket.socket, timeout: float = 30) -> int:
    sock.settimeout(timeout)
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1])


@pytest.fixture
def served(pg_url, tmp_path) -> Iterator[tuple[int, int]]:
    proc, port = start_serve({"HOMERAG_DATABASE_URL": pg_url, "HOMERAG_DATA_DIR": str(tmp_path)},
                             tmp_path)
    try:
        wait_for_health(proc, port)
        yield proc.pid, port
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def test_a_streamed_500_mb_json_body_is_refused_early_with_bounded_memory(served) -> None:
    pid, port = served
    rss_before = _rss_kb(pid, "VmRSS")
    total = 500 * MB
    chunk = b"a" * MB
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"POST /api/search HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    sent, status, t0 = 0, None, time.monotonic()
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    try:
        sock.sendall(b'6\r\n{"q":"\r\n')
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:  # the server answered before the body ended
                break
            sock.sendall(frame)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        status = _read_status(sock)
    except (ConnectionResetError, OSError):
        status = None
    sock.close()
    elapsed = time.monotonic() - t0
    peak = _rss_kb(pid, "VmHWM")
    print(f"\n500 MB streamed body: server answered {status} after {sent / MB:.0f} MB sent "
          f"in {elapsed:.1f} s; server RSS {rss_before / 1024:.0f} MB before, peak "
          f"{peak / 1024:.0f} MB (growth {(peak - rss_before) / 1024:.1f} MB)")
    assert status == 413
    assert sent <= 64 * MB  # refused at about the 10 MB limit, not at the end
    assert peak - rss_before < 48 * 1024  # kB: the body was never buffered
    # The server is fine afterwards.
    with socket.create_connection(("127.0.0.1", port)) as again:
        again.sendall(b"GET /api/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert _read_status(again) == 200


def test_a_declared_500_mb_body_is_refused_without_reading(served) -> None:
    pid, port = served
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /api/search HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: "
                     + str(500 * MB).encode() + b"\r\n\r\n" + json.dumps({"q": ""}).encode())
        assert _read_status(sock, timeout=10) == 413
    assert os.path.exists(f"/proc/{pid}")
