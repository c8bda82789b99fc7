"""Security headers on every response (app/http/security.py), no inline script in any template,
secrets masked wherever they could show (app/core/redact.py), and an access log without the
questions in it."""

from __future__ import annotations

import logging
import re

import pytest

from app.core.redact import redact_headers, redact_text, redact_url
from app.http.rendering import TEMPLATES_DIR

BASE_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def check_headers(r, *, page: bool) -> None:
    for name, value in BASE_HEADERS.items():
        assert r.headers.get(name) == value, (r.request.url, name, r.headers)
    assert "camera=()" in r.headers["permissions-policy"]
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    if page:
        script_src = csp.split("script-src", 1)[1].split(";", 1)[0]
        assert script_src.strip() == "'self'", csp
        assert "unsafe-eval" not in csp


@pytest.mark.parametrize("path", ["/", "/search?q=rent", "/reports", "/contracts", "/login",
                                  "/nothing-here"])
def test_pages_carry_the_headers(client, path) -> None:
    r = client.get(path)
    assert r.headers["content-type"].startswith("text/html")
    check_headers(r, page=True)
    assert r.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/api/status", "/api/nothing", "/api/live", "/openapi.json",
                                  "/static/style.css"])
def test_api_and_static_responses_carry_the_headers(client, path) -> None:
    check_headers(client.get(path), page=False)


def test_errors_carry_the_headers(make_client) -> None:
    client = make_client()
    check_headers(client.get("/api/status", headers={"Host": "evil.example"}), page=False)
    check_headers(client.post("/api/search", content=b"{" * 20, headers={
        "Content-Type": "application/json", "Content-Length": str(11 * 1024 * 1024)}),
        page=False)

    class Broken:
        settings = client.app.state.runtime.settings

        def embedder(self) -> None:
            raise RuntimeError("boom")

    from app.http.deps import get_runtime

    client.app.dependency_overrides[get_runtime] = Broken
    r = client.get("/api/search", params={"q": "rent"})
    assert r.status_code == 500
    check_headers(r, page=False)  # even Starlette's outermost error handler's answer


def test_docs_page_has_no_inline_script(client) -> None:
    r = client.get("/docs")
    assert r.status_code == 200
    check_headers(r, page=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text)
    assert '<script src="/static/swagger-init.js"></script>' in r.text


def test_html_originals_keep_their_sandbox(client, corpus) -> None:
    from tests.http.corpus import doc_id

    db, _ = corpus
    r = client.get(f"/api/documents/{doc_id(db, 'page.html')}/file")
    csp = r.headers["content-security-policy"]
    assert csp.startswith("sandbox") and "frame-ancestors 'none'" in csp
    r = client.get(f"/api/documents/{doc_id(db, 'electricity.pdf')}/file")
    assert "sandbox" not in r.headers["content-security-policy"]  # Chromium's viewer needs it
    assert r.headers["cache-control"] == "private, max-age=3600"  # the route's own wins


def test_no_template_has_inline_script_or_event_handlers() -> None:
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    handler = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
    templates = sorted(TEMPLATES_DIR.glob("*.html"))
    assert len(templates) > 10
    for path in templates:
        text = path.read_text(encoding="utf-8")
        assert not inline.search(text), path.name
        assert not handler.search(text), path.name
        assert "javascript:" not in text.lower(), path.name


def test_every_post_form_carries_the_csrf_field() -> None:
    for path in sorted(TEMPLATES_DIR.glob("*.html")):
        for form in re.findall(r"<form\b[^>]*>", path.read_text(encoding="utf-8"), re.I | re.S):
            if re.search(r'method="post"', form, re.I):
                after = path.read_text(encoding="utf-8").split(form, 1)[1][:200]
                assert "csrf_field()" in after, (path.name, form)


# -- secrets ----------------------------------------------------------------------------------------
def test_redaction_covers_userinfo_query_params_and_headers() -> None:
    assert redact_url("http://bob:s3cret@llm:8001/v1") == "http://bob:***@llm:8001/v1"
    url = redact_url("postgresql://u:s3cret@db/x?sslmode=require&password=s3cret")
    assert "s3cret" not in url and "sslmode=require" in url and "password=***" in url
    assert redact_url("http://llm:8001/v1?api_key=K&x=1") == "http://llm:8001/v1?api_key=***&x=1"
    text = redact_text("could not reach https://a:b@h/ (Authorization: Bearer hr_abcdefgh) "
                       "password=hunter2 host=db")
    assert "b@" not in text and "hr_abcdefgh" not in text and "hunter2" not in text
    assert "host=db" in text
    assert redact_headers({"Authorization": "Bearer x", "Cookie": "a=b", "Accept": "*/*"}) == {
        "Authorization": "Bearer ***", "Cookie": "***", "Accept": "*/*"}
    assert redact_url("http://[::1:80/") == "<unparseable URL>"


def test_llm_credentials_are_masked_in_health_and_notices(make_client) -> None:
    # Port 9 (discard) on loopback: refused at once, so the answer is retrieval-only.
    client = make_client(llm_base_url="http://homer:s3cretpw@127.0.0.1:9/v1", llm_timeout=2.0)
    health = client.get("/api/health")
    assert "s3cretpw" not in health.text
    assert health.json()["llm"]["base_url"] == "http://homer:***@127.0.0.1:9/v1"
    answer = client.post("/api/ask", json={"question": "gym membership notice period"})
    assert answer.status_code == 200
    assert answer.json()["mode"] == "retrieval-only"
    assert "127.0.0.1:9" in answer.json()["notice"] and "s3cretpw" not in answer.text
    page = client.post("/ask", data={"question": "gym membership notice period"})
    assert "s3cretpw" not in page.text


def test_database_url_password_is_masked_in_errors(tmp_path) -> None:
    from app.core.db import Database
    from app.core.errors import DatabaseError

    url = "postgresql://homer:s3cretpw@127.0.0.1:1/x?password=s3cretpw&connect_timeout=2"
    with pytest.raises(DatabaseError) as caught:
        Database.open(url, pgdata=tmp_path / "pg")
    assert "s3cretpw" not in str(caught.value)
    assert "127.0.0.1:1" in str(caught.value)


def test_access_log_leaves_out_the_query_string(client, caplog) -> None:
    caplog.set_level(logging.INFO, logger="app.http.access")
    client.get("/search", params={"q": "my secret question"})
    client.get("/api/ask/stream", params={"q": "another secret"})
    lines = [r.getMessage() for r in caplog.records if r.name == "app.http.access"]
    assert any('"GET /search" 200' in line for line in lines), lines
    assert not any("secret" in line for line in lines), lines


def test_access_log_shows_queries_when_debugging(client, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="app.http.access")
    client.get("/search", params={"q": "debug question"})
    lines = [r.getMessage() for r in caplog.records if r.name == "app.http.access"]
    assert any("/search?q=debug+question" in line for line in lines), lines
