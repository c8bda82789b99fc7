"""The MCP server through the SDK's own client, against the sample household in the real
database: over stdio (`homerag mcp` as a subprocess) and over streamable HTTP (/mcp on the app
under uvicorn). Every tool is listed with a typed input schema and called; results cite."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = {"search", "ask", "transactions", "holdings", "contracts", "get_document", "status"}


async def _call(client: Any, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """The result's structured content, failing the test on a tool error."""
    result = await client.call_tool(name, args)
    text = " ".join(getattr(c, "text", "") for c in result.content)
    assert not result.is_error, f"{name}: {text}"
    data = result.structured_content
    assert isinstance(data, dict), result
    assert json.loads(text) == data  # the text content carries the same JSON for plain clients
    return data


async def exercise(client: Any, *, public_url: str | None = None) -> dict[str, Any]:
    """List the tools and call each one; returns what they gave for further checks."""
    listed = await client.list_tools()
    tools = {t.name: t for t in listed.tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.input_schema["type"] == "object"
        assert tool.description
    assert tools["search"].input_schema["required"] == ["query"]
    assert tools["transactions"].input_schema["properties"]["action"]["enum"] == [
        "list", "sum", "top"]
    assert tools["search"].annotations.read_only_hint is True
    prefix = public_url or ""
    out: dict[str, Any] = {}

    found = await _call(client, "search", {"query": "gym membership notice period",
                                           "kind": ["contract"], "top_k": 3})
    assert found["results"], found
    top = found["results"][0]
    assert top["path"].endswith("fitlife-gym-membership.pdf") and top["page"] >= 1
    assert top["url"] == f"{prefix}/documents/{top['document_id']}?chunk={top['chunk_id']}#passage"
    out["search"] = found

    answer = await _call(client, "ask", {"question": "How much did I spend at Rewe in "
                                                     "September 2026?"})
    assert answer["mode"] == "retrieval-only" and answer["citations"], answer
    assert all(c["kind"] == "transaction" for c in answer["citations"])
    first = answer["citations"][0]
    assert first["url"] == (f"{prefix}/documents/{first['document_id']}?row="
                            f"{first['location']['row']}#passage")
    assert "Rewe" in answer["answer"] or "rewe" in answer["answer"].lower()
    follow = await _call(client, "ask", {"question": "and in October 2026?",
                                         "conversation_id": answer["conversation_id"]})
    assert follow["conversation_id"] == answer["conversation_id"] and follow["turn"] == 2
    assert "rewe" in follow["understood_as"].lower() and "2026-10-01" in follow["understood_as"]
    assert all("Rewe" in c["text"] and "2026-10" in c["text"] for c in follow["citations"])
    out["ask"] = follow

    listed_tx = await _call(client, "transactions", {"action": "list", "payee": "Rewe",
                                                     "period": "2026-10"})
    assert listed_tx["count"] == len(listed_tx["transactions"]) > 0
    row = listed_tx["transactions"][0]
    assert row["source"]["path"].endswith("ing-girokonto-2026-08-to-11.csv")
    assert row["url"] == (f"{prefix}/documents/{row['source']['document_id']}?row="
                          f"{row['source']['row']}#passage")
    assert row["transaction_url"] == f"{prefix}/reports/transactions/{row['id']}"
    summed = await _call(client, "transactions", {"action": "sum", "payee": "Rewe",
                                                  "period": "2026-10"})
    total = sum(float(t["amount"]) for t in listed_tx["transactions"])
    assert float(summed["totals"][0]["total"]) == pytest.approx(total)
    assert summed["cited_transactions"]
    top_groups = await _call(client, "transactions", {"action": "top", "by": "category",
                                                      "period": "2026-10", "limit": 3})
    assert top_groups["groups"] and top_groups["by"] == "category"
    out["transactions"] = listed_tx

    contracts = await _call(client, "contracts", {"days": 365})
    gym = next(c for c in contracts["contracts"] if "gym" in (c["path"] or "").lower())
    assert gym["notice"] and gym["url"] == f"{prefix}/documents/{gym['document_id']}"
    cited = [c for c in gym["citations"].values() if isinstance(c, dict) and c.get("url")]
    assert cited and all("chunk=" in c["url"] for c in cited)

    doc = await _call(client, "get_document", {"chunk_id": top["chunk_id"],
                                               "context_chars": 200})
    assert doc["id"] == top["document_id"] and doc["passage"]["chunk_id"] == top["chunk_id"]
    assert doc["passage"]["text"] and len(doc["passage"]["after"]) <= 200
    assert doc["url"] == f"{prefix}/documents/{top['document_id']}"
    whole = await _call(client, "get_document", {"document_id": top["document_id"]})
    assert whole["text"] and "passage" not in whole

    status = await _call(client, "status", {})
    assert status["documents"] >= 7 and status["chunks"] > 0
    source = next(s for s in status["sources"] if s["name"] == "sample household")
    assert source["last_sync_at"] and source["indexed"] >= 7 and source["last_run"]["status"]

    bad = await client.call_tool("get_document", {"document_id": 999999})
    assert bad.is_error and "document 999999 does not exist" in bad.content[0].text
    bad = await client.call_tool("transactions", {"period": "next blue moon"})
    assert bad.is_error and "period" in bad.content[0].text

    templates = await client.list_resource_templates()
    assert [t.uri_template for t in templates.resource_templates] == [
        "homerag://documents/{document_id}"]
    res = await client.read_resource(f"homerag://documents/{top['document_id']}")
    assert "FitLife" in res.contents[0].text or "gym" in res.contents[0].text.lower()
    return out


def test_mcp_over_stdio_lists_and_calls_every_tool(household, pg_url, tmp_path):
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    _db, data_dir = household
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMERAG_")}
    env.update({"HOMERAG_DATABASE_URL": pg_url, "HOMERAG_DATA_DIR": str(data_dir),
                "HOMERAG_EMBEDDER": "lexical-hash", "HOMERAG_PUBLIC_URL": "http://127.0.0.1:8000",
                "PYTHONPATH": str(REPO)})
    params = StdioServerParameters(command=sys.executable, args=["-m", "app", "mcp"], env=env,
                                   cwd=str(tmp_path))

    async def main() -> None:
        async with Client(params, read_timeout_seconds=60) as client:
            await exercise(client, public_url="http://127.0.0.1:8000")

    anyio.run(main)


def test_mcp_over_streamable_http_on_the_app(make_runtime, serve_app):
    from mcp import Client

    base = serve_app(make_runtime())

    async def main() -> None:
        async with Client(f"{base}/mcp", read_timeout_seconds=60) as client:
            await exercise(client)

    anyio.run(main)
