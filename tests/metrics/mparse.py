"""Reading /metrics output back with prometheus_client's own parser (the format is checked)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def scrape(client, **kw) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """{sample name: {sorted label items: value}} of one GET /metrics."""
    r = client.get("/metrics", **kw)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for fam in text_string_to_metric_families(r.text):
        for s in fam.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def value(samples, name: str, **labels: str) -> float:
    return samples[name][tuple(sorted(labels.items()))]
