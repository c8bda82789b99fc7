"""The app itself: lifespan-owned context, OpenAPI docs served locally, error edge, lazy imports."""

from __future__ import annotations

import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from app.http.app import create_app
from app.http.deps import get_runtime
from app.http.hosts import host_name
from tests.conftest import REPO
from tests.http.corpus import BASE_URL, make_settings


def test_app_opens_and_closes_its_own_context(pg_url, tmp_path):
    app = create_app(make_settings(pg_url, tmp_path, embedder="lexical-hash"))
    assert app.state.runtime is None  # nothing opened before start-up
    with TestClient(app, base_url=BASE_URL) as client:
        ctx = app.state.runtime
        assert ctx is not None and ctx.settings.data_dir == tmp_path
        assert client.get("/api/health").json()["database"]["ok"] is True
    assert app.state.runtime is None


def test_openapi_docs_are_served_without_a_cdn(client):
    html = client.get("/docs")
    assert html.status_code == 200
    assert "/static/swagger/swagger-ui-bundle.js" in html.text
    assert "cdn" not in html.text.lower() and "https://" not in html.text
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/swagger/swagger-ui.css").status_code == 200
    spec = client.get("/openapi.json").json()
    for path in ("/api/search", "/api/ask", "/api/ask/stream", "/api/documents/{document_id}",
                 "/api/documents/{document_id}/file", "/api/chunks/{chunk_id}", "/api/health",
                 "/api/status"):
        assert path in spec["paths"], path
    assert "/" not in spec["paths"]  # the web pages stay out of the API description


def test_unknown_api_path_is_a_problem_and_unknown_page_is_html(client):
    r = client.get("/api/nothing-here")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"] == "nothing at /api/nothing-here"
    r = client.get("/nothing-here")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "nothing at /nothing-here" in r.text
    r = client.delete("/api/search")
    assert r.status_code == 405 and r.json()["status"] == 405


def test_an_unexpected_error_never_shows_a_traceback(make_client):
    client = make_client()

    class BrokenRuntime:
        settings = client.app.state.runtime.settings

        def embedder(self) -> None:
            raise RuntimeError("secret internals at /srv/x.py line 3")

    client.app.dependency_overrides[get_runtime] = BrokenRuntime
    r = client.get("/api/search", params={"q": "rent"})
    assert r.status_code == 500
    body = r.json()
    assert body["code"] == "internal"
    assert body["detail"] == "an internal error occurred; the server log has the details"
    assert "secret" not in r.text and "Traceback" not in r.text


def test_importing_and_building_the_app_loads_no_torch():
    code = ("import sys; from app.http.app import create_app; create_app(); "
            "heavy = [m for m in ('torch', 'FlagEmbedding', 'transformers', 'openai') "
            "if m in sys.modules]; print(heavy); assert not heavy")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_only_loopback_host_headers_are_answered_on_loopback(client):
    """A page that rebinds its own name to 127.0.0.1 must not read the API (DNS rebinding)."""
    for host in ("127.0.0.1:8000", "localhost:8000", "LOCALHOST", "[::1]:8000", "app.localhost"):
        assert client.get("/api/status", headers={"Host": host}).status_code == 200, host
    for host in ("evil.example:8000", "127.0.0.1.evil.example", "localhost.evil.example", ""):
        r = client.get("/api/status", headers={"Host": host})
        assert r.status_code == 400 and "embedder" not in r.text, host


def test_a_connection_on_another_interface_needs_an_allowed_name_and_a_login(make_client):
    """Exposed (--host 0.0.0.0): the Host guard applies on every interface (issue 12), and with
    no user nothing is open to the LAN (tests/http/test_auth.py has the logged-in side)."""
    lan = TestClient(make_client().app, base_url="http://192.168.1.10")
    assert lan.get("/api/status", headers={"Host": "homeserver.lan:8000"}).status_code == 400
    assert lan.get("/api/status", headers={"Host": "192.168.1.10:8000"}).status_code == 401
    named = TestClient(make_client(allowed_hosts="homeserver.lan").app,
                       base_url="http://192.168.1.10")
    assert named.get("/api/status", headers={"Host": "homeserver.lan:8000"}).status_code == 401


@pytest.mark.parametrize(("header", "name"), [
    ("localhost:8000", "localhost"), ("[::1]:8000", "::1"), ("[::1]", "::1"),
    ("Example.ORG", "example.org"), ("::1", "::1"), ("", ""),
])
def test_host_name(header, name):
    assert host_name(header) == name
