"""/v1 and /mcp behind the app-wide authentication (app/http/auth.py): once a user exists, the
OpenAI endpoint and the MCP endpoint answer only with an API token (`Authorization: Bearer`),
for the `openai` client and the MCP SDK's client alike."""

# ruff: noqa: F811
from __future__ import annotations

import anyio
import httpx
import pytest

# The household fixtures are shared with tests/mcp; tests name them as parameters.
from tests.mcp.household import household, make_runtime, serve_app  # noqa: F401


@pytest.fixture
def secured(make_runtime, serve_app):
    """The app on the household with one user and a token for it; (base URL, token)."""
    from sqlalchemy import delete

    from app.core.models import ApiToken, User
    from app.services.users import add_user, create_token

    rt = make_runtime()
    add_user(rt, "owner", "correct horse battery staple")
    _info, token = create_token(rt, "agent", user="owner")
    yield serve_app(rt), token
    with rt.db.session() as s:  # the household is shared by the module: open it again
        s.execute(delete(ApiToken))
        s.execute(delete(User))


def test_v1_needs_a_token_once_a_user_exists(secured):
    import openai

    base, token = secured
    bare = httpx.get(f"{base}/v1/models", timeout=10)
    assert bare.status_code == 401 and bare.headers["www-authenticate"].startswith("Bearer")
    assert bare.json()["error"]["type"] == "authentication_error"  # OpenAI's shape
    with pytest.raises(openai.AuthenticationError) as refused:
        openai.OpenAI(base_url=f"{base}/v1", api_key="wrong", max_retries=0).models.list()
    assert refused.value.code == "unauthorized" and refused.value.message
    client = openai.OpenAI(base_url=f"{base}/v1", api_key=token, max_retries=0, timeout=60)
    assert [m.id for m in client.models.list()] == ["homerag", "homerag-search"]
    out = client.chat.completions.create(model="homerag-search", messages=[
        {"role": "user", "content": "How much did I spend at Rewe in September 2026?"}])
    assert out.model_extra["citations"]


def test_mcp_needs_a_token_once_a_user_exists(secured):
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    base, token = secured
    refused = httpx.post(f"{base}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                         headers={"accept": "application/json, text/event-stream"}, timeout=10)
    assert refused.status_code == 401

    async def main() -> list[str]:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"},
                                      timeout=60) as http:
            transport = streamable_http_client(f"{base}/mcp", http_client=http)
            async with Client(transport, read_timeout_seconds=60) as client:
                tools = await client.list_tools()
                result = await client.call_tool("status", {})
                assert not result.is_error and result.structured_content["documents"] >= 7
                return [t.name for t in tools.tools]

    assert "search" in anyio.run(main)
