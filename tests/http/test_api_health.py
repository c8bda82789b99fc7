"""GET /api/health and /api/status: each part reported on its own, never a failed response."""

from __future__ import annotations

import time

from sqlalchemy.orm import sessionmaker

from app.core.db import Database, make_engine
from app.services.runtime import Runtime
from tests.http.corpus import BASE_URL, EMB, make_settings


def test_health_without_llm_is_degraded_but_answers(client):
    r = client.get("/api/health")
    assert r.status_code == 200
    h = r.json()
    assert h["status"] == "degraded"
    assert h["database"]["ok"] is True
    assert h["embedder"]["index"] == "lexical-hash"
    assert h["embedder"]["label"] == "lexical-hash (lexical, not semantic)"
    assert h["embedder"]["semantic"] is False and h["embedder"]["loaded"] is True
    assert h["embedder"]["name"] == EMB.name and h["embedder"]["model_id"] == EMB.model_id
    assert h["llm"]["configured"] is False and h["llm"]["reachable"] is False
    assert "HOMERAG_LLM_BASE_URL" in h["llm"]["error"]


def test_health_with_reachable_llm_is_ok(make_client, openai_stub):
    openai_stub.models = ["MiniMaxAI/MiniMax-M2.1", "other"]
    h = make_client(llm_base_url=openai_stub.base_url).get("/api/health").json()
    assert h["status"] == "ok"
    assert h["llm"]["reachable"] is True and h["llm"]["model_listed"] is True
    assert h["llm"]["models"] == ["MiniMaxAI/MiniMax-M2.1", "other"]
    assert any(r.path.endswith("/models") for r in openai_stub.requests)


def test_health_reports_a_failing_llm_without_failing(make_client, openai_stub):
    openai_stub.models_status = 503
    h = make_client(llm_base_url=openai_stub.base_url).get("/api/health").json()
    assert h["status"] == "degraded" and h["database"]["ok"] is True
    assert h["llm"]["reachable"] is False and "HTTP 503" in h["llm"]["error"]


def test_health_llm_check_is_bounded_by_a_short_timeout(make_client, openai_stub):
    openai_stub.models_delay = 8
    client = make_client(llm_base_url=openai_stub.base_url)
    started = time.monotonic()
    h = client.get("/api/health").json()
    assert time.monotonic() - started < 5  # the ping's 2 s, not the stub's 8 s
    assert h["llm"]["reachable"] is False and "did not answer" in h["llm"]["error"]


def test_health_with_database_down_still_answers(pg_url, tmp_path):
    from fastapi.testclient import TestClient

    from app.http.app import create_app

    url = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"
    engine = make_engine(url)
    ctx = Runtime(settings=make_settings(pg_url, tmp_path),
                     db=Database(url=url, engine=engine, sessions=sessionmaker(engine)))
    with TestClient(create_app(runtime=ctx), base_url=BASE_URL,
                    raise_server_exceptions=False) as client:
        r = client.get("/api/health")
        assert r.status_code == 200
        h = r.json()
        assert h["status"] == "degraded" and h["database"]["ok"] is False
        assert h["database"]["error"] and h["embedder"]["ok"] is False
        # Other routes fail with a problem detail, not a traceback.
        r = client.get("/api/status")
        assert r.status_code == 503 and r.json()["code"] == "database"
        assert r.json()["detail"] == "the database is not reachable; see /api/health"
        assert "nobody" not in r.text and "Traceback" not in r.text
    engine.dispose()


def test_status_lists_the_index_and_sources(client):
    s = client.get("/api/status").json()
    assert s["embedder"] == "lexical-hash"
    assert s["documents"] >= 8 and s["chunks"] >= s["documents"]
    [src] = s["sources"]
    assert src["name"] == "home" and src["indexed"] >= 7 and src["failed"] == 0
