"""GET /metrics on the real app, database and stub LLM: every figure against the database or
the requests that produced it, the format read back with prometheus_client's parser, and the
endpoint behind the same login/token edge as every route."""

from __future__ import annotations

import pytest
from mparse import scrape, value
from sqlalchemy import text

from tests.openai_stub import Reply, offered_numbers

PRICES = """currency = "EUR"
[models."stub-model"]
input = 2.0
output = 10.0
"""


def _cite(request):
    return Reply(f"The notice period is three months [{offered_numbers(request)[0]}].")


@pytest.fixture
def llm_client(make_client, openai_stub, corpus):
    _db, data_dir = corpus
    (data_dir / "prices.toml").write_text(PRICES, encoding="utf-8")
    openai_stub.reply_with(_cite)
    yield make_client(llm_base_url=openai_stub.base_url, llm_model="stub-model", llm_timeout=5.0)
    (data_dir / "prices.toml").unlink()


def test_search_and_ask_latency_by_route(client):
    before = scrape(client).get("homerag_search_duration_seconds_count", {})
    for q in ("gym", "rent", "boiler"):
        assert client.get("/api/search", params={"q": q}).status_code == 200
    assert client.get("/search", params={"q": "rent"}).status_code == 200
    assert client.post("/api/ask", json={"question": "rent"}).status_code == 200
    m = scrape(client)
    assert value(m, "homerag_search_duration_seconds_count", route="/api/search") == (
        before.get((("route", "/api/search"),), 0) + 3)
    assert value(m, "homerag_search_duration_seconds_count", route="/search") >= 1
    assert value(m, "homerag_ask_duration_seconds_count", route="/api/ask") >= 1
    assert value(m, "homerag_http_requests_total", route="/api/search", method="GET",
                 code="200") >= 3
    assert value(m, "homerag_http_request_duration_seconds_bucket", route="/api/search",
                 method="GET", le="+Inf") >= 3
    # Paths outside any route share one label (no unbounded label set from random paths).
    client.get("/no/such/page/123")
    client.get("/no/such/page/456")
    routes = {dict(k).get("route") for k in scrape(client)["homerag_http_requests_total"]}
    assert "unmatched" in routes and not any("no/such" in r for r in routes if r)


def test_process_pool_index_and_ingest_figures_match_the_database(client, corpus):
    db, _ = corpus
    m = scrape(client)
    with db.session() as s:
        docs = s.scalar(text("SELECT count(*) FROM documents"))
        chunks = s.scalar(text("SELECT count(*) FROM chunks"))
        indexed = s.scalar(text("SELECT count(*) FROM ingest_items WHERE status = 'indexed'"))
    assert value(m, "homerag_index_documents") == docs
    assert value(m, "homerag_index_chunks") == chunks
    assert value(m, "homerag_ingest_items_total", source="home", status="indexed") == indexed
    assert value(m, "homerag_uptime_seconds") >= 0
    assert value(m, "homerag_database_up") == 1
    assert value(m, "homerag_db_pool_size") == 5
    assert ("state", "checked_out") in {k[0] for k in m["homerag_db_pool_connections"]}
    assert value(m, "process_resident_memory_bytes") > 10 * 2**20


def test_source_freshness_against_its_interval(client, corpus):
    db, _ = corpus
    with db.session() as s:
        s.execute(text("UPDATE sources SET last_sync_at = now() - interval '6 hours', "
                       "sync_interval_s = 3 * 3600 WHERE name = 'home'"))
    m = scrape(client)
    assert value(m, "homerag_source_sync_interval_seconds", source="home") == 3 * 3600
    assert value(m, "homerag_source_staleness_ratio", source="home") == pytest.approx(2.0, 0.01)


def test_failures_by_reason_and_source(client, corpus):
    db, _ = corpus
    with db.session() as s:
        run = s.scalar(text("SELECT max(id) FROM ingest_runs"))
        src = s.scalar(text("SELECT id FROM sources WHERE name = 'home'"))
        s.execute(text("INSERT INTO ingest_items (run_id, source_id, origin, status, code, "
                       "message) VALUES (:r, :s, '/x/a.pdf', 'failed', 'encrypted', 'a.pdf: "
                       "encrypted'), (:r, :s, '/x/b.pdf', 'failed', 'encrypted', 'b.pdf: "
                       "encrypted')"), {"r": run, "s": src})
    try:
        m = scrape(client)
        assert value(m, "homerag_ingest_failures_total", source="home", reason="encrypted") == 2
    finally:
        with db.session() as s:
            s.execute(text("DELETE FROM ingest_items WHERE code = 'encrypted'"))


def test_llm_tokens_cost_and_speed_per_model(llm_client, corpus):
    db, _ = corpus
    r = llm_client.post("/api/ask", json={"question": "gym membership notice period"})
    assert r.status_code == 200 and r.json()["mode"] == "llm"
    r = llm_client.post("/api/ask/stream", json={"question": "gym membership notice period"})
    assert r.status_code == 200
    with db.session() as s:
        prompt, completion, streamed = s.execute(text(
            "SELECT sum(prompt_tokens), sum(completion_tokens), "
            "       count(*) FILTER (WHERE first_token_ms IS NOT NULL) "
            "FROM answers WHERE model = 'stub-model'")).one()
    assert prompt > 0 and completion > 0 and streamed >= 1
    m = scrape(llm_client)
    assert value(m, "homerag_llm_tokens_total", model="stub-model", kind="prompt") == prompt
    assert value(m, "homerag_llm_tokens_total", model="stub-model", kind="completion") == completion
    assert value(m, "homerag_llm_cost_total", model="stub-model", currency="EUR") == (
        pytest.approx((prompt * 2.0 + completion * 10.0) / 1e6))
    assert value(m, "homerag_llm_answers_total", model="stub-model", mode="llm") >= 2
    assert value(m, "homerag_llm_time_to_first_token_seconds_count", model="stub-model") == streamed
    assert value(m, "homerag_llm_prefill_tokens_per_second_count", model="stub-model") == streamed
    assert value(m, "homerag_answer_duration_seconds_count", mode="llm") >= 2


def test_queue_and_worker_figures(client, corpus):
    from ingest.embedders.lexical import LexicalHashEmbedder
    from ingest.queue import enqueue_documents
    from ingest.queue_worker import QueueWorker

    db, _ = corpus
    with db.session() as s:
        sid = s.scalar(text("SELECT id FROM embedding_spaces WHERE status = 'active'"))
        doc = s.scalar(text("SELECT id FROM documents WHERE origin LIKE '%rent.txt'"))
        s.execute(text("DELETE FROM chunk_embeddings ce USING chunks c WHERE c.id = ce.chunk_id "
                       "AND c.document_id = :d"), {"d": doc})
        queued = enqueue_documents(s, sid, [doc])
    m = scrape(client)
    assert value(m, "homerag_embed_queue_chunks", space=str(sid)) == queued >= 1
    assert value(m, "homerag_embed_queue_documents", space=str(sid)) == 1
    assert value(m, "homerag_embed_queue_texts", space=str(sid), state="ready") == queued
    emb = LexicalHashEmbedder()
    worker = QueueWorker(db, emb, space_id=sid, sparse_dim=emb.sparse_dim, device="cpu",
                         poll_s=0.05)
    report = worker.run(drain=True)
    m = scrape(client)
    labels = {"worker": worker.id, "host": worker.id.split(":")[0], "device": "cpu"}
    assert value(m, "homerag_embed_worker_tokens_total", **labels) == report.tokens > 0
    assert value(m, "homerag_embed_worker_chunks_total", **labels) == queued
    assert value(m, "homerag_embed_worker_up", **labels) == 0  # stopped after draining
    assert set(m["homerag_embed_queue_chunks"].values()) == {0.0}  # drained: zeros, not gone


def test_metrics_needs_a_token_once_a_user_exists(client, corpus):
    from sqlalchemy import delete

    from app.core.models import ApiToken, User
    from app.services.runtime import Runtime
    from app.services.users import add_user, create_token

    db, _ = corpus
    rt = Runtime(settings=client.app.state.runtime.settings, db=db)
    add_user(rt, "owner", "correct horse battery staple")
    _info, token = create_token(rt, "prometheus", user="owner")
    try:
        bare = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
        assert bare.status_code == 401 and bare.headers["www-authenticate"].startswith("Bearer")
        assert "homerag_" not in bare.text
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        m = scrape(client, headers={"Authorization": f"Bearer {token}"})
        assert value(m, "homerag_database_up") == 1
    finally:
        with db.session() as s:
            s.execute(delete(ApiToken))
            s.execute(delete(User))


def test_two_apps_in_one_process_keep_their_own_registries(make_client):
    a, b = make_client(), make_client()
    a.get("/api/search", params={"q": "gym"})
    ma, mb = scrape(a), scrape(b)
    assert value(ma, "homerag_search_duration_seconds_count", route="/api/search") == 1
    assert (("route", "/api/search"),) not in mb.get("homerag_search_duration_seconds_count", {})
