"""CSRF rules (app/http/csrf.py) request by request, with the headers browsers send; the same
attacks made by a real Chromium are in tests/http/test_csrf_browser.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, text

from app.core.models import Answer, Report
from app.services import users as users_service

OWN = "http://localhost"
EVIL = "http://evil.example"
PASSWORD = "correct horse battery"


@pytest.fixture
def users(corpus) -> Iterator[Any]:
    db, _ = corpus
    yield db
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM users"))
        conn.execute(text("DELETE FROM reports"))


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def count(db: Any, model: Any) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)))


def logged_in(make_client) -> Any:
    client = make_client()
    users_service.add_user(client.app.state.runtime, "alice", PASSWORD)
    page = client.get("/login")
    client.post("/login", data={"name": "alice", "password": PASSWORD,
                                "csrf_token": csrf_of(page.text)})
    return client


@pytest.mark.parametrize("mode", ["open", "session"])
def test_cross_site_posts_are_refused(make_client, users, mode) -> None:
    client = make_client() if mode == "open" else logged_in(make_client)
    token = csrf_of(client.get("/").text)
    before = count(users, Report)
    attacks = [
        {"Origin": EVIL},  # a form on another site
        {"Origin": "null"},  # a sandboxed or privacy-referrer page
        {"Origin": "http://localhost:9999"},  # another port: same site, another origin
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"},
        {"Referer": EVIL + "/page"},
    ]
    for headers in attacks:
        for path in ("/reports/build", "/contracts/refresh", "/api/reports/spending"):
            # Even with a valid token (a leaked page): the origin alone is refused.
            r = client.post(path, data={"period": "2026-W01", "csrf_token": token},
                            headers=headers, follow_redirects=False)
            assert r.status_code == 403 and "cross-site" in r.text, (path, headers)
    assert count(users, Report) == before


@pytest.mark.parametrize("mode", ["open", "session"])
def test_same_origin_posts_need_the_token(make_client, users, mode) -> None:
    client = make_client() if mode == "open" else logged_in(make_client)
    same = {"Origin": OWN, "Sec-Fetch-Site": "same-origin"}
    r = client.post("/contracts/refresh", headers=same, follow_redirects=False)
    assert r.status_code == 403 and "CSRF token" in r.text
    r = client.post("/contracts/refresh", data={"csrf_token": "x" * 43}, headers=same,
                    follow_redirects=False)
    assert r.status_code == 403
    token = csrf_of(client.get("/contracts").text)
    r = client.post("/contracts/refresh", data={"csrf_token": token}, headers=same,
                    follow_redirects=False)
    assert r.status_code in (200, 303)
    r = client.post("/api/search", json={"query": "rent"},
                    headers={**same, "X-CSRF-Token": token})
    assert r.status_code == 200


def test_the_session_token_is_bound_to_the_session(make_client, users) -> None:
    client = logged_in(make_client)
    token = csrf_of(client.get("/").text)
    other = make_client()  # anonymous: its own cookie token
    anon = csrf_of(other.get("/login").text)
    assert anon != token
    same = {"Origin": OWN}
    assert client.post("/api/search", json={"query": "x"},
                       headers={**same, "X-CSRF-Token": anon}).status_code == 403


def test_session_cookie_requests_need_the_token_even_without_browser_headers(make_client,
                                                                             users) -> None:
    client = logged_in(make_client)
    assert client.post("/api/search", json={"query": "rent"}).status_code == 403


def test_scripts_on_this_machine_need_no_token_in_the_open_mode(client, users) -> None:
    """curl and agents send no Origin, Referer, fetch metadata or session cookie."""
    assert client.post("/api/search", json={"query": "rent"}).status_code == 200


def test_multipart_forms_carry_the_token_as_their_first_field(make_client, users) -> None:
    client = make_client()
    token = csrf_of(client.get("/").text)
    same = {"Origin": OWN}
    ok = client.post("/upload", data={"csrf_token": token},
                     files={"files": ("a.txt", b"hello", "text/plain")}, headers=same)
    assert ok.status_code != 403
    bad = client.post("/upload", files={"files": ("a.txt", b"hello", "text/plain")},
                      headers=same)
    assert bad.status_code == 403


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"},
    {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "script"},
    {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"},
    # A cross-site link straight to the API: navigations reach pages, never the API.
    {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"},
    # No fetch metadata (an older browser): the Referer gives it away.
    {"Referer": EVIL + "/"},
])
def test_gets_from_other_sites_cannot_run_an_answer(client, users, headers) -> None:
    before = count(users, Answer)
    r = client.get("/api/ask/stream", params={"q": "gym membership notice period"},
                   headers=headers)
    assert r.status_code == 403
    assert count(users, Answer) == before


def test_the_stream_get_works_same_origin_and_with_the_token(client, users) -> None:
    r = client.get("/api/ask/stream", params={"q": "rent"},
                   headers={"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"})
    assert r.status_code == 200 and "event: done" in r.text
    token = csrf_of(client.get("/").text)
    r = client.get("/api/ask/stream", params={"q": "rent", "csrf_token": token},
                   headers={"Referer": OWN + "/"})
    assert r.status_code == 200


def test_cross_site_navigation_to_a_page_still_works(client, users) -> None:
    """A link or bookmark to /search?q=... from another site opens the page (read only)."""
    r = client.get("/search", params={"q": "rent"}, headers={
        "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"})
    assert r.status_code == 200
    r = client.get("/search", params={"q": "rent"}, headers={
        "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"})
    assert r.status_code == 403  # never inside another site's frame


def test_login_form_is_protected_too(make_client, users) -> None:
    client = make_client()
    users_service.add_user(client.app.state.runtime, "alice", PASSWORD)
    r = client.post("/login", data={"name": "alice", "password": PASSWORD},
                    headers={"Origin": OWN}, follow_redirects=False)
    assert r.status_code == 403  # no token: a login CSRF fails
    r = client.post("/login", data={"name": "alice", "password": PASSWORD,
                                    "csrf_token": csrf_of(client.get("/login").text)},
                    headers={"Origin": EVIL}, follow_redirects=False)
    assert r.status_code == 403
