"""/stats: the figures of /metrics on a page (same registry, same numbers), with its chart."""

from __future__ import annotations

import re

import pytest
from mparse import scrape, value
from sqlalchemy import text

from app.services.stats import bucket_quantile


def test_bucket_quantile_interpolates_like_prometheus():
    buckets = [(0.1, 0.0), (0.5, 50.0), (1.0, 100.0), (float("inf"), 100.0)]
    assert bucket_quantile(0.5, buckets) == 0.5
    assert bucket_quantile(0.25, buckets) == pytest.approx(0.3)  # halfway into the (0.1, 0.5] bucket
    assert bucket_quantile(0.95, buckets) == pytest.approx(0.95)
    assert bucket_quantile(0.5, [(1.0, 0.0), (float("inf"), 0.0)]) is None
    assert bucket_quantile(0.99, [(1.0, 1.0), (float("inf"), 10.0)]) == 1.0


def test_stats_page_shows_the_metrics_figures(client, corpus):
    db, _ = corpus
    with db.session() as s:
        s.execute(text("INSERT INTO answers (question, mode, answer, model, prompt_tokens, "
                       "completion_tokens, latency_ms, llm_ms, first_token_ms) VALUES "
                       "('q', 'llm', 'a', 'page-model', 12345, 678, 2000, 1500, 300)"))
    for q in ("gym", "rent"):
        client.get("/api/search", params={"q": q})
    page = client.get("/stats")
    assert page.status_code == 200
    m = scrape(client)
    html = page.text
    assert f"{int(value(m, 'homerag_index_documents')):,} documents" in html
    assert "page-model" in html and "12,345" in html and "678" in html
    # First token 300 ms -> the p50 of its histogram, as Prometheus would estimate it.
    assert re.search(r"First token p50\">\s*\d+ ms", html)
    assert "search /api/search" in html
    assert 'src="data:image/png;base64,' in html  # the latency chart
    assert "home" in html  # the source with its counts
