"""Helpers shared by the fault tests and bench/faults.py: a real `homerag serve` subprocess on
loopback (embedded or given database), the processes of an embedded server's data directory,
and timed probes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """One `homerag serve` process and where it listens."""

    proc: subprocess.Popen[str]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def start_serve(env: Mapping[str, str], *, cwd: Path, log: Path) -> Served:
    """`python -m app serve` with only the HOMERAG_* settings given (plus the lexical embedder),
    its output in `log`."""
    port = free_port()
    full = {k: v for k, v in os.environ.items() if not k.startswith("HOMERAG_")}
    full.update({"HOMERAG_EMBEDDER": "lexical-hash", "HOMERAG_PORT": str(port),
                 "PYTHONPATH": str(REPO)}, **env)
    out = open(log, "w")  # noqa: SIM115 - the child writes it until it ends
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--log-level", "warning"],
                            cwd=cwd, env=full, stdout=out, stderr=subprocess.STDOUT, text=True)
    out.close()
    return Served(proc, port, log)


def wait_for_health(served: Served, *, within: float = 120) -> dict:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and served.proc.poll() is None:
        try:
            return httpx.get(f"{served.base}/api/health", timeout=5).json()
        except (httpx.TransportError, ValueError):
            time.sleep(0.2)
    stop(served, sig=signal.SIGKILL)
    raise AssertionError(f"homerag serve did not come up:\n{served.output()[-3000:]}")


def stop(served: Served, *, sig: int = signal.SIGTERM, within: float = 60) -> int:
    if served.proc.poll() is None:
        served.proc.send_signal(sig)
        try:
            served.proc.wait(timeout=within)
        except subprocess.TimeoutExpired:
            served.proc.kill()
            served.proc.wait(timeout=10)
    return int(served.proc.returncode)


def postmaster_pid(pgdata: Path) -> int | None:
    """The pid in postmaster.pid when that process is alive."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return pid


def postgres_processes(pgdata: Path) -> list[int]:
    """Every live process whose command line names `pgdata` (the postmaster; its children's
    are listed via the postmaster's pid as parent)."""
    import psutil

    found: list[int] = []
    postmasters = set()
    for proc in psutil.process_iter(attrs=("pid", "name", "cmdline", "ppid")):
        cmd = proc.info["cmdline"] or []
        if proc.info["name"] in ("postgres", "postmaster") and str(pgdata) in " ".join(cmd):
            postmasters.add(proc.info["pid"])
            found.append(proc.info["pid"])
    for proc in psutil.process_iter(attrs=("pid", "name", "ppid")):
        if proc.info["ppid"] in postmasters and proc.info["pid"] not in found:
            found.append(proc.info["pid"])
    return found


def kill_postmaster(pgdata: Path) -> int:
    """SIGKILL the postmaster (as the OOM killer would); its backends then exit on their own."""
    pid = postmaster_pid(pgdata)
    assert pid is not None, f"no postmaster runs for {pgdata}"
    os.kill(pid, signal.SIGKILL)
    return pid


@dataclass
class Probe:
    """Timed GETs of one URL: (seconds since start, status or 0 for a transport error, ms)."""

    url: str
    results: list[tuple[float, int, float]] = field(default_factory=list)

    def once(self, client: httpx.Client, started: float) -> int:
        t0 = time.monotonic()
        try:
            status = client.get(self.url).status_code
        except httpx.HTTPError:
            status = 0
        self.results.append((t0 - started, status, (time.monotonic() - t0) * 1e3))
        return status

    def statuses(self) -> list[int]:
        return [s for _, s, _ in self.results]

    def p95_ms(self) -> float:
        return percentile([ms for _, _, ms in self.results], 95)


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


@contextlib.contextmanager
def serving(env: Mapping[str, str], *, cwd: Path, log: Path) -> Iterator[Served]:
    served = start_serve(env, cwd=cwd, log=log)
    try:
        yield served
    finally:
        stop(served)


@contextlib.contextmanager
def small_disk(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` (e.g. "20m") mounted at `path`, the full disk of the tests; skips the
    test where mounting is not allowed (not root, no CAP_SYS_ADMIN)."""
    import pytest

    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs",
                           str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        yield path
    finally:
        for _ in range(20):  # a server that just stopped may still hold it for a moment
            if subprocess.run(["umount", str(path)], capture_output=True,
                              check=False).returncode == 0:
                break
            time.sleep(0.5)


def fill(path: Path) -> None:
    """Fill the filesystem holding `path` to the last byte."""
    with open(path / "filler", "wb", buffering=0) as f:
        for size in (1 << 20, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * size)


def homerag(*args: str, env: Mapping[str, str], cwd: Path,
            timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`python -m app ARGS` with only the given HOMERAG_* settings (plus the lexical embedder)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("HOMERAG_")}
    full.update({"HOMERAG_EMBEDDER": "lexical-hash", "PYTHONPATH": str(REPO)}, **env)
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=timeout, check=False)
