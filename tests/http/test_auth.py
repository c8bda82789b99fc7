"""Login, sessions, API tokens and the open-loopback rule (app/http/auth.py), through the real app
on the test database. The browser side (cookies in Chromium, cross-site pages) is in
tests/http/test_csrf_browser.py."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from app.core import credentials
from app.core.models import ApiToken, UserSession
from app.http.auth import PUBLIC_PATHS, SESSION_COOKIE, safe_next
from app.http.deps import CurrentUser
from app.services import users as users_service

PASSWORD = "correct horse battery"


@pytest.fixture
def users(corpus) -> Iterator[Any]:
    """The corpus database; every user (with tokens and sessions) removed afterwards."""
    db, _ = corpus
    yield db
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM users"))


def add_user(client: TestClient, name: str = "alice", password: str = PASSWORD) -> None:
    users_service.add_user(client.app.state.runtime, name, password)


def token_for(client: TestClient, user: str = "alice", name: str = "test") -> str:
    return users_service.create_token(client.app.state.runtime, name, user=user)[1]


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def login(client: TestClient, name: str = "alice", password: str = PASSWORD, *,
          next_path: str = "/") -> Any:
    page = client.get("/login")
    return client.post("/login", data={"name": name, "password": password, "next": next_path,
                                       "csrf_token": csrf_of(page.text)},
                       follow_redirects=False)


# -- the rule ---------------------------------------------------------------------------------------
def test_loopback_without_users_stays_open(client, users) -> None:
    assert client.get("/api/status").status_code == 200
    assert client.get("/").status_code == 200
    assert client.post("/api/search", json={"query": "rent"}).status_code == 200


def test_once_a_user_exists_every_route_needs_a_login(client, users) -> None:
    add_user(client)
    r = client.get("/api/status")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="homerag"'
    assert r.json()["code"] == "unauthorized" and "embedder" not in r.text
    page = client.get("/search?q=rent", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fsearch%3Fq%3Drent"
    # The public few.
    assert client.get("/login").status_code == 200
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/api/live").json() == {"status": "ok"}
    # Documents, transactions and the model endpoints are closed.
    for path in ("/api/documents/1/file", "/api/transactions", "/v1/models", "/docs",
                 "/openapi.json", "/api/health"):
        assert client.get(path).status_code == 401, path
    assert client.post("/mcp", json={}).status_code == 401


def test_every_route_of_the_app_is_protected(client, users) -> None:
    """Walks the app's routes (those added later by other modules too): without credentials
    each answers 401 or sends the browser to /login, except the public paths."""
    add_user(client)
    checked = 0
    for route in all_routes(client.app.routes):
        path = getattr(route, "path", "")
        if not path or any(path == p or (p.endswith("/") and path.startswith(p))
                           for p in PUBLIC_PATHS):
            continue
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        methods = sorted(getattr(route, "methods", None) or {"GET"})
        for method in methods:
            if method == "HEAD":
                continue
            r = client.request(method, concrete, follow_redirects=False)
            assert r.status_code in (401, 303), (method, concrete, r.status_code)
            if r.status_code == 303:
                assert r.headers["location"].startswith("/login")
            checked += 1
    assert checked > 30


def all_routes(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI keeps included routers nested
            yield from all_routes(route.original_router.routes)
        else:
            yield route


def test_a_route_added_after_the_app_is_built_is_protected_and_reads_the_user(make_client,
                                                                              users) -> None:
    client = make_client()

    def whoami(user: CurrentUser) -> dict[str, Any]:
        return {"name": user.name, "via": user.via, "id": user.user_id}

    client.app.router.routes.append(APIRoute("/api/whoami", whoami, methods=["GET"]))
    assert client.get("/api/whoami").json() == {"name": "owner", "via": "open", "id": None}
    add_user(client)
    assert client.get("/api/whoami").status_code == 401
    raw = token_for(client)
    me = client.get("/api/whoami", headers={"Authorization": f"Bearer {raw}"}).json()
    assert me["name"] == "alice" and me["via"] == "token" and me["id"]
    assert login(client).status_code == 303
    assert client.get("/api/whoami").json()["via"] == "session"


def test_an_exposed_bind_is_never_open(corpus, pg_url, users) -> None:
    from app.http.app import create_app
    from tests.http.corpus import make_context, make_settings

    db, data_dir = corpus
    app = create_app(runtime=make_context(db, make_settings(pg_url, data_dir)), bind="0.0.0.0")
    with TestClient(app, base_url="http://localhost") as client:
        r = client.get("/api/status")
        assert r.status_code == 401
        assert "homerag user add NAME" in r.json()["detail"]  # no users: says how


@pytest.mark.parametrize("header", ["X-Forwarded-For", "X-Real-IP", "Forwarded"])
def test_a_proxy_on_loopback_does_not_open_the_app(client, users, header) -> None:
    """A reverse proxy on this machine may be serving the LAN: proxied requests need a login
    even without users (and then nobody can log in: it says how to add one)."""
    r = client.get("/api/status", headers={header: "192.168.1.7"})
    assert r.status_code == 401
    assert "homerag user add" in r.json()["detail"]


# -- login and sessions -----------------------------------------------------------------------------
def test_login_sets_an_httponly_lax_session_cookie_stored_as_a_hash(client, users) -> None:
    add_user(client)
    r = login(client, next_path="/reports")
    assert r.status_code == 303 and r.headers["location"] == "/reports"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    raw = cookie.split(";")[0].split("=", 1)[1]
    db = client.app.state.runtime.db
    with db.session() as s:
        stored = list(s.scalars(select(UserSession.token_hash)))
    assert stored == [hashlib.sha256(raw.encode()).hexdigest()]  # never the cookie itself
    assert client.get("/api/status").status_code == 200
    page = client.get("/")
    assert 'id="user-name">alice<' in page.text and 'id="logout-button"' in page.text


def test_logout_ends_the_session(client, users) -> None:
    add_user(client)
    login(client)
    raw = client.cookies.get(SESSION_COOKIE)
    token = csrf_of(client.get("/").text)
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.get("/api/status").status_code == 401
    # The old cookie is dead on the server too (a copy of it is worth nothing).
    client.cookies.set(SESSION_COOKIE, raw)
    assert client.get("/api/status").status_code == 401


def test_wrong_password_and_unknown_user_look_the_same(client, users) -> None:
    add_user(client)
    wrong = login(client, password="wrong password")
    unknown = login(client, name="mallory", password="wrong password")
    for r in (wrong, unknown):
        assert r.status_code == 401 and "wrong name or password" in r.text
        assert SESSION_COOKIE not in r.headers.get("set-cookie", "")
    # The unknown name was verified against the dummy hash: the same argon2 work.
    before = credentials.dummy_hash.cache_info()
    login(client, name="nobody-else", password="x" * 20)
    after = credentials.dummy_hash.cache_info()
    assert after.hits + after.misses == before.hits + before.misses + 1
    login(client, password="still wrong")  # a known name never touches it
    assert credentials.dummy_hash.cache_info() == after


def test_failed_logins_are_limited_per_user(make_client, users) -> None:
    client = make_client()
    add_user(client)
    for _ in range(5):
        assert login(client, password="guess guess").status_code == 401
    r = login(client)  # even the right password: the limit comes first
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert "too many failed logins" in r.text


def test_failed_logins_are_limited_per_address(make_client, users) -> None:
    client = make_client()
    add_user(client)
    for n in range(5):
        assert login(client, name=f"user{n}", password="guess guess").status_code == 401
    assert login(client, name="alice").status_code == 429


def test_password_change_logs_out_sessions(client, users) -> None:
    add_user(client)
    login(client)
    assert client.get("/api/status").status_code == 200
    users_service.set_password(client.app.state.runtime, "alice", "a new password")
    assert client.get("/api/status").status_code == 401


def test_login_next_never_leaves_the_site() -> None:
    assert safe_next("/reports?q=1") == "/reports?q=1"
    for bad in ("https://evil.example/", "//evil.example", "/\\evil", "javascript:x", "",
                "/a\r\nSet-Cookie: x"):
        assert safe_next(bad) == "/"


def test_login_page_says_how_to_add_a_user_when_there_is_none(client, users) -> None:
    page = client.get("/login")
    assert "homerag user add NAME" in page.text


def test_secure_cookie_behind_a_trusted_https_proxy(make_client, users) -> None:
    app = make_client(trusted_proxies="127.0.0.1/32").app
    add_user(TestClient(app, base_url="http://localhost"))
    proxied = TestClient(app, base_url="http://localhost", client=("127.0.0.1", 40000),
                         headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.168.1.7",
                                  "X-Forwarded-Host": "localhost"})
    page = proxied.get("/login")
    assert "Secure" in page.headers["set-cookie"]  # the CSRF cookie too
    # httpx keeps Secure cookies for https URLs; the proxy's browser would send it back.
    proxied.cookies.set("homerag_csrf", page.cookies["homerag_csrf"])
    r = proxied.post("/login", data={"name": "alice", "password": PASSWORD,
                                     "csrf_token": csrf_of(page.text)},
                     headers={"Origin": "https://localhost"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert "Secure" in r.headers["set-cookie"]
    # From an untrusted peer the same headers are ignored: plain http, no Secure.
    direct = TestClient(app, base_url="http://localhost", client=("192.168.1.9", 40000),
                        headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in direct.get("/login").headers["set-cookie"]


# -- API tokens -------------------------------------------------------------------------------------
def test_bearer_token_works_is_revocable_and_notes_its_use(client, users) -> None:
    add_user(client)
    raw = token_for(client)
    auth = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/status", headers=auth).status_code == 200
    rt = client.app.state.runtime
    with rt.db.session() as s:
        token = s.scalar(select(ApiToken))
        assert token.last_used_at is not None
        token_id = token.id
    assert client.get("/api/status", headers={"Authorization": f"Bearer {raw}x"}).status_code \
        == 401
    users_service.revoke_token(rt, token_id)
    r = client.get("/api/status", headers=auth)
    assert r.status_code == 401 and "unknown or revoked" in r.json()["detail"]


def test_bearer_requests_need_no_csrf_token(client, users) -> None:
    add_user(client)
    raw = token_for(client)
    r = client.post("/api/search", json={"query": "rent"},
                    headers={"Authorization": f"Bearer {raw}", "Origin": "https://agent.example",
                             "Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 200


def test_openai_clients_key_is_ignored_in_the_open_loopback_mode(client, users) -> None:
    r = client.get("/v1/models", headers={"Authorization": "Bearer EMPTY"})
    assert r.status_code == 200
    add_user(client)
    assert client.get("/v1/models", headers={"Authorization": "Bearer EMPTY"}).status_code == 401
