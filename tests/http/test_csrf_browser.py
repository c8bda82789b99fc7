"""Cross-site attacks in a real headless Chromium (issue 12): a page on another origin, served on
another loopback port, tries form posts, no-cors fetches, an <img> GET that would run an answer,
and framing against homerag. Every one is refused - in the open loopback mode and with a
logged-in session (whose SameSite=Lax cookie Chromium does send from another port: same site).
The server's own access log says what it answered; the database says nothing changed.

Positive controls: the same actions from homerag's own pages work, the login page logs in and
out, and the pages (Swagger UI included) run under the CSP without a single violation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import func, select, text

from app.core.models import Answer, Report
from app.services import users as users_service
from tests.http.test_browser import serve  # noqa: F401 - fixture

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"


class AccessLog(logging.Handler):
    """The app's access log lines ('client - "METHOD path" status ms'), kept for assertions."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def status(self, method: str, path: str) -> list[str]:
        return [line.split('" ', 1)[1].split()[0] for line in self.lines
                if f'"{method} {path}"' in line]


@pytest.fixture
def access() -> Iterator[AccessLog]:
    logger = logging.getLogger("app.http.access")
    handler, level = AccessLog(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def attacker() -> Iterator[Callable[[str, str], str]]:
    """A tiny web server on another loopback port; `put(path, html)` returns the page URL on
    host `localhost` (cross-site to 127.0.0.1) - `.replace` gives the same-site variant."""
    pages: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path.split("?")[0], b"not found")
            self.send_response(200 if self.path.split("?")[0] in pages else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def put(path: str, html: str) -> str:
        pages[path] = html.encode()
        return f"http://localhost:{server.server_address[1]}{path}"

    yield put
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def users(corpus) -> Iterator[Any]:
    db, _ = corpus
    yield db
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM users"))
        conn.execute(text("DELETE FROM reports"))


def count(db: Any, model: Any) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)))


def attack_pages(app: str) -> dict[str, str]:
    """Each page performs one attack and sets its title to 'done' when it has been sent."""
    question = "What is the notice period of the gym membership?"
    return {
        "/form-report": f"""<form method="post" action="{app}/reports/build">
            <input name="period" value="2026-W01"></form>
            <script>document.forms[0].submit()</script>""",
        "/form-contracts": f"""<form method="post" action="{app}/contracts/refresh"></form>
            <script>document.forms[0].submit()</script>""",
        "/fetch-report": f"""<script>
            fetch("{app}/api/reports/spending?week=2026-W01",
                  {{method: "POST", mode: "no-cors", credentials: "include"}})
              .finally(() => document.title = "done");</script>""",
        "/fetch-ask": f"""<script>
            fetch("{app}/api/ask", {{method: "POST", mode: "no-cors", credentials: "include",
                  headers: {{"Content-Type": "text/plain"}},
                  body: JSON.stringify({{question: "{question}"}})}})
              .finally(() => document.title = "done");</script>""",
        "/img-ask": f"""<img src="{app}/api/ask/stream?q=gym+membership+notice"
            onload="document.title='done'" onerror="document.title='done'">""",
        "/frame": f"""<iframe id="f" src="{app}/reports" onload="document.title='done'"
            width="600" height="400"></iframe>""",
    }


def run_attacks(context: Any, app: str, put: Callable[[str, str], str], access: AccessLog,
                db: Any, *, origin: str, logged_in: bool) -> None:
    reports, answers = count(db, Report), count(db, Answer)
    page = context.new_page()
    for path, html in attack_pages(app).items():
        url = put(path, html)
        if origin == "same-site":  # another port of the same host: same site, other origin
            url = url.replace("http://localhost:", "http://127.0.0.1:")
        if path.startswith("/form-"):
            with page.expect_navigation(url=lambda u: u.startswith(app), timeout=15_000):
                page.goto(url)
            # 403, or 401 where Chromium withheld the Lax session cookie (cross-site POST).
            assert page.title().split(" · ")[0] in ("Forbidden", "Log in first"), path
        else:
            page.goto(url)
            page.wait_for_function("document.title === 'done'", timeout=15_000)
    # The last page framed /reports: the frame shows nothing of ours.
    assert page.frame_locator("#f").locator("text=Spending reports").count() == 0
    page.close()
    # 401 (or, for the frame, 303 to /login, itself refused in a frame) only where Chromium did
    # not send the Lax session cookie at all: then nothing is done as the user either.
    refused = {"401", "403", "303"}
    for method, path in (("POST", "/reports/build"), ("POST", "/contracts/refresh"),
                         ("POST", "/api/reports/spending"), ("POST", "/api/ask"),
                         ("GET", "/api/ask/stream"), ("GET", "/reports")):  # /reports: the frame
        statuses = access.status(method, path)
        assert len(statuses) == 1 and set(statuses) <= refused, (method, path, statuses)
        if origin == "same-site" or not logged_in:
            assert statuses == ["403"], (method, path)
    if logged_in and origin == "cross-site":
        assert access.status("GET", "/login") == ["403"]  # where the frame was sent
    assert count(db, Report) == reports
    assert count(db, Answer) == answers


@pytest.mark.parametrize("origin", ["cross-site", "same-site"])
def test_another_origin_cannot_act_in_the_open_loopback_mode(browser, serve, attacker, access,  # noqa: F811
                                                             users, origin) -> None:
    app = serve()
    context = browser.new_context()
    context.new_page().goto(app + "/")  # the owner has homerag open (its cookies exist)
    run_attacks(context, app, attacker, access, users, origin=origin, logged_in=False)
    context.close()


@pytest.mark.parametrize("origin", ["cross-site", "same-site"])
def test_another_origin_cannot_act_with_a_logged_in_session(browser, serve, attacker, access,  # noqa: F811
                                                            users, origin, corpus,
                                                            pg_url) -> None:
    app = serve()
    context = browser.new_context()
    page = context.new_page()
    _log_in(page, app, corpus, pg_url)
    access.lines.clear()
    run_attacks(context, app, attacker, access, users, origin=origin, logged_in=True)
    # Still logged in, and homerag's own form does what the attacker could not.
    page.goto(app + "/contracts")
    page.click("form[action='/contracts/refresh'] button")
    page.wait_for_load_state()
    assert access.status("POST", "/contracts/refresh")[-1] == "200"
    context.close()


def _log_in(page: Any, app: str, corpus: Any, pg_url: str) -> None:
    from app.services.runtime import Runtime
    from tests.http.corpus import make_settings

    db, data_dir = corpus
    rt = Runtime(settings=make_settings(pg_url, data_dir), db=db)
    users_service.add_user(rt, "alice", PASSWORD)
    page.goto(app + "/reports")
    assert page.url.startswith(app + "/login?next=")  # sent to the login page
    page.fill("#login-name", "alice")
    page.fill("#login-password", "wrong password")
    page.click("#login-button")
    assert page.inner_text("#login-error") == "wrong name or password"
    page.fill("#login-password", PASSWORD)
    page.click("#login-button")
    page.wait_for_url(app + "/reports")
    assert page.inner_text("#user-name") == "alice"
    cookie = next(c for c in page.context.cookies() if c["name"] == "homerag_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("homerag_session") < 0  # not readable by JS


def test_login_then_logout_in_the_browser(browser, serve, users, corpus, pg_url) -> None:  # noqa: F811
    app = serve()
    context = browser.new_context()
    page = context.new_page()
    _log_in(page, app, corpus, pg_url)
    page.click("#logout-button")
    page.wait_for_url(app + "/login")
    page.goto(app + "/reports")
    assert page.url.startswith(app + "/login")
    context.close()


@pytest.mark.parametrize("path", ["/", "/search?q=gym", "/reports", "/contracts", "/login",
                                  "/docs", "/library", "/upload", "/sources", "/health",
                                  "/conversations", "/transactions", "/rules",
                                  "/documents/1"])
def test_pages_run_under_the_csp_without_violations(browser, serve, path) -> None:  # noqa: F811
    app = serve()
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text)
            if "Content Security Policy" in msg.text or msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(app + path)
    page.wait_for_load_state("networkidle")
    if path == "/docs":
        page.wait_for_selector(".swagger-ui .info", timeout=15_000)  # Swagger UI started
    assert problems == [], problems
    assert page.evaluate("document.querySelector('meta[name=csrf-token]') !== null") or \
        path == "/docs"
    page.close()
