"""A connection pool with nothing free answers a quick 503 "database busy" with Retry-After
(it used to hang 30 s and then fail with 500), in each interface's shape."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy.orm import sessionmaker

from app.core.db import Database, make_engine
from tests.http.corpus import BASE_URL, make_context, make_settings


def test_a_dry_pool_is_a_quick_503_database_busy(corpus, pg_url):
    from app.http.app import create_app

    _, data_dir = corpus
    engine = make_engine(pg_url, pool_size=1, max_overflow=0, pool_timeout=0.5)
    db = Database(url=pg_url, engine=engine, sessions=sessionmaker(engine))
    ctx = make_context(db, make_settings(pg_url, data_dir))
    try:
        with TestClient(create_app(runtime=ctx), base_url=BASE_URL,
                        raise_server_exceptions=False) as client:
            assert client.get("/api/status").status_code == 200
            held = engine.connect()  # the pool's only connection, taken
            try:
                t0 = time.monotonic()
                r = client.get("/api/status")
                waited = time.monotonic() - t0
                v1 = client.post("/v1/chat/completions", json={
                    "model": "homerag-search", "messages": [{"role": "user", "content": "rent"}]})
            finally:
                held.close()
            assert client.get("/api/status").status_code == 200  # free again: answers again
    finally:
        engine.dispose()
    assert r.status_code == 503 and r.headers["retry-after"] == "2", r.text
    assert r.json()["code"] == "database_busy" and "busy" in r.json()["detail"]
    assert waited < 5, f"waited {waited:.1f} s for the pool"
    assert v1.status_code == 503 and v1.headers["retry-after"] == "2", v1.text
    assert v1.json()["error"]["code"] == "database_busy"
    assert ctx.db.pool_stats()["size"] == 1
