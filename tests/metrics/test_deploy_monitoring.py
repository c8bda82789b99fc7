"""The monitoring deployment without Docker (none here): docker-compose.yml's monitoring and
workers profiles, Prometheus' scrape config and Grafana's provisioning parse and point at each
other, and every metric the dashboard queries exists in a real /metrics output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from mparse import scrape
from sqlalchemy import text

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
# PromQL words that are not metric names.
PROMQL = {"sum", "by", "rate", "increase", "histogram_quantile", "le", "avg", "max", "min",
          "without", "irate", "count", "on", "ignoring", "group_left", "group_right"}


def _mounts(volumes: list[str]) -> dict[str, str]:
    """{container path: host path} of short-syntax volumes (host paths may hold ${VAR:-x})."""
    out = {}
    for v in volumes:
        v = v.removesuffix(":ro").removesuffix(":rw")
        host, _, target = v.rpartition(":")
        out[target] = host
    return out


def _compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_profiles_wire_prometheus_grafana_and_workers():
    services = _compose()["services"]
    prom, graf, worker = services["prometheus"], services["grafana"], services["worker"]
    assert prom["profiles"] == ["monitoring"] and graf["profiles"] == ["monitoring"]
    assert worker["profiles"] == ["workers"] and worker["command"][:2] == ["homerag", "worker"]
    # The default `docker compose up` starts neither.
    assert all("profiles" not in services[s] for s in ("db", "api", "scheduler", "vllm"))
    for svc in (prom, graf):  # loopback only on the host
        assert all(str(p).startswith("127.0.0.1:") for p in svc["ports"])
    mounts = _mounts(prom["volumes"])
    assert mounts["/etc/prometheus/prometheus.yml"] == "./deploy/prometheus.yml"
    assert mounts["/run/secrets/prometheus.token"] == "${SECRETS_DIR:-./secrets}/prometheus.token"
    gmounts = _mounts(graf["volumes"])
    assert gmounts["/etc/grafana/provisioning"] == "./deploy/grafana/provisioning"
    assert gmounts["/var/lib/grafana/dashboards/homerag.json"] == "./deploy/grafana/homerag.json"
    for path in ("./deploy/prometheus.yml", "./deploy/grafana/provisioning",
                 "./deploy/grafana/homerag.json"):
        assert (REPO / path).exists(), path
    env = graf["environment"]
    assert env["GF_ANALYTICS_REPORTING_ENABLED"] == "false"  # nothing leaves the machine
    # The api answers Prometheus' Host header (`api`) and can switch ingest to the queue.
    api_env = services["api"]["environment"]
    assert "api" in api_env["HOMERAG_ALLOWED_HOSTS"] and "HOMERAG_EMBED_QUEUE" in api_env


def test_prometheus_scrapes_the_api_with_a_bearer_token():
    conf = yaml.safe_load((DEPLOY / "prometheus.yml").read_text(encoding="utf-8"))
    (job,) = conf["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == ["api:8000"]
    assert job["authorization"] == {"type": "Bearer",
                                     "credentials_file": "/run/secrets/prometheus.token"}


def _dashboard() -> dict:
    return json.loads((DEPLOY / "grafana" / "homerag.json").read_text(encoding="utf-8"))


def test_grafana_provisioning_points_at_prometheus_and_the_dashboard():
    prov = DEPLOY / "grafana" / "provisioning"
    ds = yaml.safe_load((prov / "datasources" / "prometheus.yml").read_text())["datasources"][0]
    assert ds["type"] == "prometheus" and ds["url"] == "http://prometheus:9090"
    dash = yaml.safe_load((prov / "dashboards" / "homerag.yml").read_text())["providers"][0]
    assert dash["options"]["path"] == "/var/lib/grafana/dashboards"
    board = _dashboard()
    assert board["uid"] == "homerag" and len(board["panels"]) >= 15
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] == ds["uid"]
        assert panel["targets"] and all(t["expr"] for t in panel["targets"])
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))


def _metric_names(expr: str) -> set[str]:
    without_labels = re.sub(r"\{[^}]*\}", "", expr)
    without_ranges = re.sub(r"\[[^\]]*\]", "", without_labels)
    words = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_ranges))
    return {w for w in words if w not in PROMQL and ("_" in w)}


def test_every_metric_the_dashboard_uses_is_in_metrics(make_client, openai_stub, corpus):
    db, _ = corpus
    client = make_client(llm_base_url=openai_stub.base_url, llm_model="stub-model")
    # Data for the families that appear only with data: an answer with usage and a first token
    # (streamed), a queued document, a worker, a search, a price table.
    client.post("/api/ask/stream", json={"question": "rent"})
    client.get("/api/search", params={"q": "gym"})
    from ingest.embedders.lexical import LexicalHashEmbedder
    from ingest.queue import enqueue_documents
    from ingest.queue_worker import QueueWorker

    with db.session() as s:
        sid = s.scalar(text("SELECT id FROM embedding_spaces WHERE status = 'active'"))
        doc = s.scalar(text("SELECT id FROM documents WHERE origin LIKE '%gym.md'"))
        s.execute(text("DELETE FROM chunk_embeddings ce USING chunks c WHERE c.id = ce.chunk_id "
                       "AND c.document_id = :d"), {"d": doc})
        enqueue_documents(s, sid, [doc])
        s.execute(text("UPDATE sources SET last_sync_at = now()"))
        s.execute(text("INSERT INTO ingest_items (run_id, source_id, origin, status, code) "
                       "SELECT max(r.id), max(r.source_id), '/x/locked.pdf', 'failed', "
                       "'encrypted' FROM ingest_runs r"))
    emb = LexicalHashEmbedder()
    worker = QueueWorker(db, emb, space_id=sid, sparse_dim=emb.sparse_dim, batch=1, poll_s=0.05)
    worker._register()  # one batch of a registered worker: its row and totals exist
    try:
        worker.run_batch()
        _, data_dir = corpus
        (data_dir / "prices.toml").write_text('currency = "EUR"\n[models."stub-model"]\n'
                                              'input = 1\noutput = 1\n', encoding="utf-8")
        exposed = set(scrape(client))
    finally:
        worker._unregister()
        (corpus[1] / "prices.toml").unlink(missing_ok=True)
        with db.session() as s:
            s.execute(text("DELETE FROM ingest_items WHERE origin = '/x/locked.pdf'"))
    used = set()
    for panel in _dashboard()["panels"]:
        for t in panel["targets"]:
            used |= _metric_names(t["expr"])
    assert used, "no metric names found in the dashboard"
    missing = sorted(n for n in used if n not in exposed)
    assert not missing, f"dashboard queries metrics /metrics does not expose: {missing}"
