"""POST /api/ask and its server-sent events, with the LLM as a loopback stub over real HTTP."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.openai_stub import Reply, offered_numbers

CITATION_KEYS = {"n", "chunk_id", "document_id", "path", "title", "page", "text"}


def parse_sse(body: str) -> list[tuple[str, dict[str, Any]]]:
    """(event, data) pairs; every frame must be `event:` + one `data:` line + a blank line."""
    assert body.endswith("\n\n"), body[-200:]
    events = []
    for frame in body.split("\n\n")[:-1]:
        lines = frame.split("\n")
        assert len(lines) == 2 and lines[0].startswith("event: ") and lines[1].startswith("data: "), frame
        event, data = lines[0][len("event: "):], json.loads(lines[1][len("data: "):])
        assert data["type"] == event
        events.append((event, data))
    return events


def cite_first(text: str):
    """A stub handler answering with `text` citing the first offered block."""
    def handler(request: dict[str, Any]) -> Reply:
        return Reply(text.format(n=offered_numbers(request)[0]))
    return handler


@pytest.fixture
def llm_client(make_client, openai_stub):
    return make_client(llm_base_url=openai_stub.base_url, llm_timeout=3.0)


def test_ask_with_llm_returns_the_answer_with_valid_citations(llm_client, openai_stub):
    openai_stub.reply_with(cite_first("The notice period is three months [{n}]. See also [99]."))
    r = llm_client.post("/api/ask", json={"question": "What is the gym membership notice period?"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["mode"] == "llm" and not body["uncited"]
    assert body["answer"] == "The notice period is three months [1]. See also."
    assert body["dropped_citations"] == [99]
    [cit] = body["citations"]
    assert set(cit) >= CITATION_KEYS and cit["n"] == 1
    assert Path(cit["path"]).name == "gym.md" and "three months" in cit["text"]
    prompt = json.dumps(openai_stub.last_chat["messages"])
    assert "notice period of three months" in prompt  # the passage was offered to the model


def test_think_block_is_kept_out_of_the_answer(llm_client, openai_stub):
    openai_stub.reply_with(cite_first("<think>The user asks about rent; source {n} says "
                                      "950.</think>The rent rises to 950 euros [{n}]."))
    body = llm_client.post("/api/ask", json={"question": "How much is the rent from March?"}).json()
    assert body["mode"] == "llm"
    assert body["answer"] == "The rent rises to 950 euros [1]."
    assert "<think>" not in body["answer"] and "asks about rent" in body["reasoning"]


def test_llm_http_500_gives_a_retrieval_only_answer(llm_client, openai_stub):
    openai_stub.reply_with(Reply(status=500, error_message="GPU on fire"))
    r = llm_client.post("/api/ask", json={"question": "rent landlord euros"})
    assert r.status_code == 200
    body = r.json()
    assert body["mode"] == "retrieval-only" and "HTTP 500" in body["notice"]
    assert body["citations"] and Path(body["citations"][0]["path"]).name == "rent.txt"
    assert all(set(c) >= CITATION_KEYS for c in body["citations"])


def test_llm_timeout_gives_retrieval_only_within_the_timeout(make_client, openai_stub):
    client = make_client(llm_base_url=openai_stub.base_url, llm_timeout=1.0)
    openai_stub.reply_with(Reply("too late [1]", first_byte_delay=8))
    started = time.monotonic()
    body = client.post("/api/ask", json={"question": "household insurance premium"}).json()
    elapsed = time.monotonic() - started
    assert body["mode"] == "retrieval-only" and body["error_code"] == "llm_timeout"
    assert "did not answer within" in body["notice"]
    assert elapsed < 4.0, elapsed  # 1 s deadline + retrieval; not the stub's 8 s
    assert body["citations"]


def test_without_llm_the_answer_is_labelled_retrieval_only(client):
    body = client.post("/api/ask", json={"question": "gym notice period"}).json()
    assert body["mode"] == "retrieval-only"
    assert "HOMERAG_LLM_BASE_URL" in body["notice"]
    assert Path(body["citations"][0]["path"]).name == "gym.md"


def test_answer_citing_nothing_valid_is_marked_uncited(llm_client, openai_stub):
    openai_stub.reply_with("The gym notice period is probably three months [42].")
    body = llm_client.post("/api/ask", json={"question": "gym notice period"}).json()
    assert body["mode"] == "llm" and body["uncited"] is True
    assert body["citations"] == [] and body["dropped_citations"] == [42]


def test_stream_endpoint_sends_well_formed_events(llm_client, openai_stub):
    openai_stub.reply_with(cite_first("<think>pondering</think>The notice period is three "
                                      "months [{n}]."))
    r = llm_client.post("/api/ask/stream", json={"question": "gym membership notice period"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["cache-control"] == "no-cache"
    events = parse_sse(r.text)
    kinds = [e for e, _ in events]
    assert kinds[0] == "sources" and kinds[-1] == "done" and kinds.count("done") == 1
    assert "reasoning" in kinds and "answer" in kinds
    streamed = "".join(d["text"] for e, d in events if e == "answer")
    assert streamed == "The notice period is three months [1]."
    assert "pondering" in "".join(d["text"] for e, d in events if e == "reasoning")
    sources = events[0][1]["sources"]
    assert sources[0]["n"] == 1 and Path(sources[0]["path"]).name == "gym.md"
    result = events[-1][1]["result"]
    assert result["answer"] == streamed and result["citations"][0]["chunk_id"] == sources[0]["chunk_id"]


def test_accept_event_stream_on_api_ask_streams(client):
    r = client.post("/api/ask", json={"question": "rent"}, headers={"Accept": "text/event-stream"})
    assert r.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(r.text)
    assert [e for e, _ in events] == ["sources", "done"]
    assert events[-1][1]["result"]["mode"] == "retrieval-only"


def test_get_stream_for_eventsource_takes_query_parameters(client):
    r = client.get("/api/ask/stream", params={"q": "chimney sweep invoice", "kind": "email"})
    events = parse_sse(r.text)
    cits = events[-1][1]["result"]["citations"]
    assert cits and all("sweep.eml" in c["path"] for c in cits)


def test_stream_failure_after_start_is_an_error_event(make_client, corpus):
    """A broken prompts directory fails after the sources went out: an `error` event, no trace."""
    _db, data_dir = corpus
    broken = data_dir / "broken-prompts"
    broken.mkdir(exist_ok=True)
    client = make_client(llm_base_url="http://127.0.0.1:9/v1", prompts_dir=broken)
    events = parse_sse(client.post("/api/ask/stream", json={"question": "rent"}).text)
    assert [e for e, _ in events] == ["sources", "error"]
    problem = events[-1][1]
    assert problem["status"] == 500 and problem["code"] == "config"
    assert "Traceback" not in problem["detail"]


@pytest.mark.parametrize("path", ["/api/ask", "/api/ask/stream"])
@pytest.mark.parametrize(("body", "needle"), [
    ({"question": ""}, "question: it is empty"),
    ({"question": "rent", "from": "yesterday"}, "from: 'yesterday' is not a date"),
    ({"question": "rent", "kind": ["letter", "rocket"]}, "kind: unknown rocket"),
    ({"question": "rent", "top_k": 500}, "top_k"),
    ({}, "question"),
])
def test_ask_bad_input_is_a_400_problem_even_when_streaming(client, path, body, needle):
    r = client.post(path, json=body, headers={"Accept": "text/event-stream"})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert needle in r.json()["detail"]
