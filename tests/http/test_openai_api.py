"""/v1 (OpenAI-compatible) against the app under uvicorn on loopback: the `openai` client lists
the models, streams a cited answer and sends history; a raw SSE reader checks the chunk shapes
real clients expect; errors come in OpenAI's shape. The LLM behind homerag is the loopback stub."""

# ruff: noqa: F811
from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

# The household fixtures are shared with tests/mcp; tests name them as parameters.
from tests.mcp.household import household, make_runtime, serve_app  # noqa: F401
from tests.openai_stub import OpenAIStub, Reply, chat_text, offered_numbers

PASSAGE_LINK = re.compile(
    r"\]\(((?:http://127\.0\.0\.1:8000)?/documents/(\d+)\?chunk=(\d+)(?:&span=\d+-\d+)?#passage)\)")


def homerag_llm(request: dict[str, Any]) -> Reply:
    """The stub as the configured LLM: rewrites follow-ups as JSON, answers citing source 1."""
    system = request["messages"][0]["content"]
    if "You rewrite follow-up questions" in system:
        question = chat_text(request).rsplit("New question:", 1)[1].split("\n")[0].strip()
        return Reply(json.dumps({"standalone": f"When does the FitLife gym contract end? "
                                               f"({question})", "same_documents": True}))
    numbers = offered_numbers(request)
    assert numbers, "no sources offered"
    return Reply(f"You can cancel the gym membership with three months' notice [{numbers[0]}].",
                 chunk_size=7)


@pytest.fixture
def stub():
    with OpenAIStub(homerag_llm) as s:
        yield s


@pytest.fixture
def base(make_runtime, serve_app, stub) -> str:
    return serve_app(make_runtime(llm_base_url=stub.base_url, llm_timeout=20.0,
                                  public_url="http://127.0.0.1:8000"))


def client_for(base: str):
    from openai import OpenAI

    return OpenAI(base_url=f"{base}/v1", api_key="unused-without-auth", max_retries=0,
                  timeout=60)


def test_models_are_listed_for_clients_that_take_one_base_url(base):
    client = client_for(base)
    assert [m.id for m in client.models.list()] == ["homerag", "homerag-search"]
    assert client.models.retrieve("homerag-search").owned_by == "homerag"


def test_openai_client_streams_a_cited_answer_with_sources_and_structured_citations(base, stub):
    client = client_for(base)
    stream = client.chat.completions.create(
        model="homerag", stream=True,
        messages=[{"role": "system", "content": "You are a helpful assistant."},
                  {"role": "user", "content": "When can I cancel the gym membership?"}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("You can cancel the gym membership with three months' notice [1].")
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 3  # streamed
    assert "\n\nSources:\n- **[1]** [" in text
    link = PASSAGE_LINK.search(text)
    assert link and link.group(1).startswith("http://127.0.0.1:8000/documents/")
    final = chunks[-1]
    assert final.choices[0].finish_reason == "stop"
    citations = final.model_extra["citations"]
    assert citations[0]["n"] == 1 and citations[0]["path"].endswith("fitlife-gym-membership.pdf")
    assert citations[0]["url"] == link.group(1)
    assert citations[0]["document_id"] == int(link.group(2))
    assert final.model_extra["homerag"]["mode"] == "llm"
    # homerag is the retrieval layer in between: the stub received homerag's own prompt.
    assert "<source id=\"1\"" in chat_text(stub.last_chat)


def test_history_from_a_stateless_client_is_the_conversation(base, stub):
    client = client_for(base)
    first = client.chat.completions.create(
        model="homerag", messages=[{"role": "user",
                                    "content": "What is the notice period of the gym "
                                               "membership?"}])
    reply = first.choices[0].message.content
    assert "/documents/" in reply
    second = client.chat.completions.create(model="homerag", messages=[
        {"role": "user", "content": "What is the notice period of the gym membership?"},
        {"role": "assistant", "content": reply},
        {"role": "user", "content": "when does that contract end?"}])
    extra = second.model_extra["homerag"]
    assert extra["understood_as"].startswith("When does the FitLife gym contract end?")
    rewrite = stub.chat_requests[-2]
    assert "You rewrite follow-up questions" in rewrite["messages"][0]["content"]
    assert "What is the notice period of the gym membership?" in chat_text(rewrite)
    assert all(c["path"].endswith("fitlife-gym-membership.pdf")
               for c in second.model_extra["citations"])


def test_search_model_answers_money_follow_ups_without_the_llm(base, stub):
    client = client_for(base)
    before = len(stub.chat_requests)
    out = client.chat.completions.create(model="homerag-search", messages=[
        {"role": "user", "content": "How much did I spend at Rewe in September 2026?"},
        {"role": "assistant", "content": "Spending at Rewe ..."},
        {"role": "user", "content": "and in October 2026?"}])
    assert len(stub.chat_requests) == before  # homerag-search never calls the LLM
    extra = out.model_extra
    assert "rewe" in extra["homerag"]["understood_as"].lower()
    rows = [c["text"] for c in extra["citations"]]
    assert rows and all("Rewe" in r and " 2026-10-" in f" {r}" for r in rows)
    assert all(c["url"] == f"http://127.0.0.1:8000/documents/{c['document_id']}?row="
               f"{c['location']['row']}#passage" for c in extra["citations"])


def test_raw_sse_stream_has_the_chunk_shapes_clients_expect(base):
    body = {"model": "homerag", "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "When can I cancel the gym membership?"}]}
    lines = []
    with httpx.stream("POST", f"{base}/v1/chat/completions", json=body, timeout=60) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in resp.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    events = [json.loads(line[6:]) for line in lines[:-1]]
    assert {e["object"] for e in events} == {"chat.completion.chunk"}
    assert len({e["id"] for e in events}) == 1 and events[0]["id"].startswith("chatcmpl-")
    assert events[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    with_choices = [e for e in events if e["choices"]]
    finals = [e for e in with_choices if e["choices"][0]["finish_reason"] is not None]
    assert len(finals) == 1 and finals[0] is with_choices[-1]
    assert finals[0]["choices"][0]["delta"] == {} and finals[0]["choices"][0]["finish_reason"] \
        == "stop"
    assert finals[0]["citations"][0]["n"] == 1
    assert events[-1]["choices"] == [] and events[-1]["usage"]["total_tokens"] >= 0
    middle = with_choices[1:-1]
    assert middle and all(set(e["choices"][0]["delta"]) == {"content"} for e in middle)


def test_errors_come_in_openai_shape(base):
    import openai

    client = client_for(base)
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user",
                                                                  "content": "hi"}])
    assert info.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="homerag", messages=[
            {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}])
    assert "last message must be a user message" in bad.value.message
    with pytest.raises(openai.NotFoundError) as gone:
        client.chat.completions.create(model="homerag", messages=[{"role": "user",
                                                                   "content": "and then?"}],
                                       extra_body={"conversation_id": 987654})
    assert "conversation 987654 does not exist" in gone.value.message
    raw = httpx.post(f"{base}/v1/chat/completions", content=b"{not json",
                     headers={"content-type": "application/json"}, timeout=10)
    assert raw.status_code == 400 and raw.json()["error"]["type"] == "invalid_request_error"
    raw = httpx.post(f"{base}/v1/chat/completions", json={"model": "homerag"}, timeout=10)
    assert raw.status_code == 400 and raw.json()["error"]["param"] == "messages"
    assert httpx.get(f"{base}/v1/embeddings", timeout=10).json()["error"]["code"] == "not_found"
