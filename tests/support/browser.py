"""The live app for the browser and loopback-HTTP tests: one headless Chromium per test module
(Debian's /usr/bin/chromium driven by Playwright) and ASGI apps served by uvicorn on free
127.0.0.1 ports in threads.

Chromium that cannot start fails the tests that use it (it is installed by
scripts/system-deps.sh); they are never skipped.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
# Screenshots go here when set (for looking at the page while developing; never committed).
SHOTS = os.environ.get("HRT_SCREENSHOTS")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium, one per test module."""
    from playwright.sync_api import Error, sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/system-deps.sh)")
    with sync_playwright() as pw:
        try:
            chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                          args=CHROMIUM_ARGS)
        except Error as exc:
            pytest.fail(f"headless Chromium did not start: {exc}")
        yield chromium
        chromium.close()


@contextlib.contextmanager
def live_servers() -> Iterator[Callable[[Any], str]]:
    """`start(asgi_app)` serves the app under uvicorn on a free loopback port (lifespan on) and
    returns its base URL; every server started is stopped on leaving."""
    import uvicorn

    running: list[tuple[Any, threading.Thread]] = []

    def start(app: Any) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        running.append((server, thread))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    try:
        yield start
    finally:
        for server, thread in running:
            server.should_exit = True
            thread.join(timeout=10)


def page_with_errors(browser: Any, **options: Any) -> tuple[Any, list[str]]:
    """A new page and the list its script errors and console errors are appended to."""
    page = browser.new_page(**options)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return page, errors


def shot(page: Any, name: str, *, full_page: bool = True) -> None:
    """A screenshot into $HRT_SCREENSHOTS, when set."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=full_page)
