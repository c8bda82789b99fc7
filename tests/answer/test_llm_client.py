"""`OpenAIChatClient` over real HTTP against the loopback stub: requests, streaming, errors, timeouts."""

from __future__ import annotations

import socket
import time

import pytest

from app.core.config import LLMEndpoint, load_settings
from app.core.errors import ConfigError, LLMTimeoutError, LLMUnavailableError, UpstreamError
from app.llm.client import ChatClient, ChatDelta, ChatDone, OpenAIChatClient, make_chat_client
from tests.openai_stub import OpenAIStub, Reply, ToolCall

MSGS = [{"role": "system", "content": "sys"}, {"role": "user", "content": "Q?"}]


def client_for(stub: OpenAIStub, *, timeout: float = 20.0, key: str | None = None, model: str = "MiniMaxAI/MiniMax-M2.1"):
    return OpenAIChatClient(
        LLMEndpoint(base_url=stub.base_url, model=model, api_key=key, timeout=timeout),
        max_tokens=321,
        temperature=0.3,
    )


def collect(items) -> tuple[str, str, list[str], ChatDone]:
    answer, reasoning, channels, done = "", "", [], None
    for item in items:
        if isinstance(item, ChatDone):
            done = item
            continue
        channels.append(item.channel)
        if item.channel == "answer":
            answer += item.text
        elif item.channel == "reasoning":
            reasoning += item.text
        else:
            answer = ""
    assert done is not None, "stream ended without ChatDone"
    return answer, reasoning, channels, done


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_client_satisfies_the_protocol_and_needs_a_url():
    assert isinstance(OpenAIChatClient(LLMEndpoint(base_url="http://127.0.0.1:9/v1", model="m", api_key=None, timeout=1)), ChatClient)
    with pytest.raises(ConfigError, match="HOMERAG_LLM_BASE_URL"):
        OpenAIChatClient(LLMEndpoint(base_url=None, model="m", api_key=None, timeout=1))


def test_non_streaming_request_json_and_think_split(openai_stub):
    openai_stub.queue(Reply("<think>check [1]</think>\n\nRent is 950 EUR [1]."))
    done = client_for(openai_stub).complete(MSGS)
    assert (done.answer, done.reasoning) == ("Rent is 950 EUR [1].", "check [1]")
    assert done.raw_content.startswith("<think>")
    assert done.model == "MiniMaxAI/MiniMax-M2.1" and done.finish_reason == "stop"
    req = openai_stub.last_chat
    assert req["model"] == "MiniMaxAI/MiniMax-M2.1"
    assert req["messages"] == MSGS
    assert (req["max_tokens"], req["temperature"]) == (321, 0.3)
    assert "stream" not in req and "tools" not in req
    # No key configured: the client sends the placeholder vLLM accepts.
    assert openai_stub.requests[-1].headers["authorization"] == "Bearer EMPTY"


def test_api_key_is_sent_when_configured(openai_stub):
    client_for(openai_stub, key="s3cret").complete(MSGS)
    assert openai_stub.requests[-1].headers["authorization"] == "Bearer s3cret"
    assert "s3cret" not in repr(client_for(openai_stub, key="s3cret"))


def test_streaming_interleaved_think_split_at_awkward_places(openai_stub):
    pieces = ["<th", "ink>The lease", " says</thi", "nk>Rent is", " 950 [1]<", "think>more?", "</think> Done."]
    openai_stub.queue(Reply(pieces=pieces))
    answer, reasoning, _, done = collect(client_for(openai_stub).stream(MSGS))
    assert answer == "Rent is 950 [1] Done."
    assert reasoning == "The lease says\nmore?"
    assert (done.answer, done.reasoning) == (answer, reasoning)
    assert done.raw_content == "".join(pieces)
    req = openai_stub.last_chat
    assert req["stream"] is True and req["stream_options"] == {"include_usage": True}
    assert done.usage["total_tokens"] > 0


def test_streaming_reasoning_content_and_reasoning_field(openai_stub):
    openai_stub.queue(
        Reply("Answer [2].", reasoning="vLLM parsed reasoning"),
        Reply("Answer [3].", reasoning="newer field", reasoning_field="reasoning"),
    )
    client = client_for(openai_stub)
    answer, reasoning, channels, _ = collect(client.stream(MSGS))
    assert (answer, reasoning) == ("Answer [2].", "vLLM parsed reasoning")
    assert channels[0] == "reasoning" and channels[-1] == "answer"
    answer, reasoning, _, _ = collect(client.stream(MSGS))
    assert (answer, reasoning) == ("Answer [3].", "newer field")
    openai_stub.queue(Reply("Plain [1].", reasoning="non-streamed reasoning"))
    done = client.complete(MSGS)
    assert (done.answer, done.reasoning) == ("Plain [1].", "non-streamed reasoning")


def test_minimax_without_opening_tag_resets_the_streamed_answer(openai_stub):
    openai_stub.queue(Reply("Thinking about source 1</think>\n\nThe rent is 950 [1].", chunk_size=4))
    answer, reasoning, channels, done = collect(client_for(openai_stub).stream(MSGS))
    assert "reset" in channels
    assert (answer, reasoning) == ("The rent is 950 [1].", "Thinking about source 1")
    assert done.answer == answer


@pytest.mark.parametrize(("status", "error"), [(500, UpstreamError), (503, LLMUnavailableError), (404, UpstreamError)])
def test_http_errors_are_translated(openai_stub, status, error):
    openai_stub.queue(Reply(status=status, error_message="model not loaded"), Reply(status=status))
    client = client_for(openai_stub)
    with pytest.raises(error, match=rf"HTTP {status}") as info:
        client.complete(MSGS)
    assert type(info.value) is error
    with pytest.raises(error):
        list(client.stream(MSGS))
    assert len(openai_stub.chat_requests) == 2  # no retries


def test_unreachable_endpoint_is_unavailable():
    client = OpenAIChatClient(LLMEndpoint(base_url=f"http://127.0.0.1:{closed_port()}/v1", model="m", api_key=None, timeout=1))
    with pytest.raises(LLMUnavailableError, match=r"cannot reach the language model at http://127\.0\.0\.1"):
        client.complete(MSGS)
    with pytest.raises(LLMUnavailableError):
        list(client.stream(MSGS))
    with pytest.raises(LLMUnavailableError):
        client.ping()


def test_dropped_connection_is_unavailable(openai_stub):
    openai_stub.queue(Reply(drop=True))
    with pytest.raises(LLMUnavailableError):
        client_for(openai_stub).complete(MSGS)


def test_slow_first_byte_times_out(openai_stub):
    openai_stub.queue(Reply("late", first_byte_delay=5), Reply("late", first_byte_delay=5))
    client = client_for(openai_stub, timeout=0.3)
    start = time.monotonic()
    with pytest.raises(LLMTimeoutError, match=r"did not answer within 0\.3 s"):
        client.complete(MSGS)
    with pytest.raises(LLMTimeoutError):
        list(client.stream(MSGS))
    assert time.monotonic() - start < 3.0  # two 5 s delays, both cut


def test_stall_mid_stream_times_out_after_partial_text(openai_stub):
    openai_stub.queue(Reply("Rent is 950 EUR [1] and more", stall_after=3))
    got: list[ChatDelta] = []
    start = time.monotonic()
    with pytest.raises(LLMTimeoutError):
        for item in client_for(openai_stub, timeout=0.4).stream(MSGS):
            got.append(item)
    assert "".join(d.text for d in got) == "Rent is 950 EUR"  # three 5-char events
    assert time.monotonic() - start < 2.5  # the stall lasts 30 s


def test_trickling_stream_is_cut_at_the_deadline(openai_stub):
    # Each chunk arrives well within the read timeout, but the whole answer would take 4 s.
    openai_stub.queue(Reply("x" * 40, chunk_size=1, chunk_delay=0.1))
    start = time.monotonic()
    with pytest.raises(LLMTimeoutError):
        list(client_for(openai_stub, timeout=0.5).stream(MSGS))
    assert time.monotonic() - start < 2.5  # the whole reply would take 4 s


def test_per_call_timeout_overrides_the_default(openai_stub):
    openai_stub.queue(Reply("late", first_byte_delay=5))
    start = time.monotonic()
    with pytest.raises(LLMTimeoutError, match=r"0\.2 s"):
        client_for(openai_stub, timeout=30).complete(MSGS, timeout=0.2)
    assert time.monotonic() - start < 2.5  # the scripted delay is 5 s


def test_malformed_responses_are_upstream_errors(openai_stub):
    openai_stub.queue(Reply("x", malformed=True), Reply("abcdefghij", malformed=True))
    client = client_for(openai_stub)
    with pytest.raises(UpstreamError, match="malformed response"):
        client.complete(MSGS)
    with pytest.raises(UpstreamError, match="malformed response"):
        list(client.stream(MSGS))


def test_tool_calls_streamed_and_not(openai_stub):
    calls = [ToolCall("sum_spending", {"category": "groceries", "month": "2024-03"}, id="c1"), ToolCall("list_tx", "{}", id="c2")]
    openai_stub.queue(Reply("Let me check.", tool_calls=calls), Reply(tool_calls=calls))
    tools = [{"type": "function", "function": {"name": "sum_spending", "description": "d", "parameters": {"type": "object"}}}]
    client = client_for(openai_stub)
    _, _, _, done = collect(client.stream(MSGS, tools=tools))
    assert [(c.id, c.name) for c in done.tool_calls] == [("c1", "sum_spending"), ("c2", "list_tx")]
    assert done.tool_calls[0].arguments == '{"category": "groceries", "month": "2024-03"}'
    assert done.finish_reason == "tool_calls" and done.answer == "Let me check."
    assert openai_stub.last_chat["tools"] == tools and openai_stub.last_chat["tool_choice"] == "auto"
    done = client.complete(MSGS, tools=tools)
    assert [c.name for c in done.tool_calls] == ["sum_spending", "list_tx"]


def test_response_format_is_passed_for_extraction(openai_stub):
    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    client_for(openai_stub).complete(MSGS, response_format=schema)
    assert openai_stub.last_chat["response_format"] == schema


def test_ping_lists_models_with_a_short_timeout(openai_stub):
    openai_stub.models = ["MiniMaxAI/MiniMax-M2.1"]
    client = client_for(openai_stub)
    assert client.ping() == ["MiniMaxAI/MiniMax-M2.1"]
    openai_stub.models_status = 503
    with pytest.raises(LLMUnavailableError):
        client.ping()
    openai_stub.models_status, openai_stub.models_delay = 200, 3
    start = time.monotonic()
    with pytest.raises(LLMTimeoutError):
        client.ping(timeout=0.2)
    assert time.monotonic() - start < 2.5  # the scripted delay is 3 s


def test_make_chat_client_routes_by_task(openai_stub, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no stray .env
    assert make_chat_client(load_settings(data_dir=tmp_path)) is None
    settings = load_settings(
        data_dir=tmp_path, llm_base_url=openai_stub.base_url, llm_model="answer-model",
        report_llm_model="report-model", llm_timeout=7, llm_max_tokens=99,
    )
    answer = make_chat_client(settings)
    extract = make_chat_client(settings, "extract")
    report = make_chat_client(settings, "report")
    assert answer is not None and extract is not None and report is not None
    assert (answer.model, extract.model, report.model) == ("answer-model", "answer-model", "report-model")
    assert answer.timeout == 7 and answer.max_tokens == 99
    report.complete(MSGS)
    assert openai_stub.last_chat["model"] == "report-model"
