"""The loopback OpenAI stub itself, driven by the official `openai` client over real HTTP."""

from __future__ import annotations

import time

import httpx
import openai
import pytest

from tests.openai_stub import (
    OpenAIStub,
    Reply,
    ToolCall,
    offered_numbers,
    tool_messages,
    tool_then_answer,
)


def _client(stub: OpenAIStub, timeout: float = 2.0) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=stub.base_url,
        api_key="test-key",
        max_retries=0,
        timeout=httpx.Timeout(timeout, connect=timeout),
    )


MSG = [{"role": "user", "content": "hi"}]


def test_stub_answers_non_streaming_and_records_the_request(openai_stub):
    openai_stub.queue(Reply("Rent is 950 EUR [1].", reasoning="look at [1]"))
    with _client(openai_stub) as client:
        out = client.chat.completions.create(model="m-1", messages=MSG, temperature=0.1)
    assert out.choices[0].message.content == "Rent is 950 EUR [1]."
    assert out.choices[0].message.reasoning_content == "look at [1]"  # type: ignore[attr-defined]
    assert out.model == "m-1"
    req = openai_stub.last_chat
    assert req["model"] == "m-1" and req["messages"] == MSG and req["temperature"] == 0.1
    assert openai_stub.requests[-1].headers["authorization"] == "Bearer test-key"


def test_stub_streams_pieces_and_reasoning_deltas(openai_stub):
    openai_stub.queue(Reply("<thi", pieces=["<thi", "nk>a</th", "ink>Hello"], reasoning="r1r2"))
    with _client(openai_stub) as client:
        chunks = list(client.chat.completions.create(model="m", messages=MSG, stream=True))
    content = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    reasoning = [getattr(c.choices[0].delta, "reasoning_content", None) for c in chunks if c.choices]
    assert content == ["<thi", "nk>a</th", "ink>Hello"]
    assert "r1r2" in [r for r in reasoning if r]
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_stub_streams_tool_calls_then_answers_after_results(openai_stub):
    openai_stub.reply_with(
        tool_then_answer(
            [ToolCall("sum_spending", {"category": "groceries"})],
            lambda req: f"Total from tool: {tool_messages(req)[0]['content']} [1]",
        )
    )
    with _client(openai_stub) as client:
        chunks = list(client.chat.completions.create(model="m", messages=MSG, stream=True))
        calls = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
        args = "".join(tc.function.arguments or "" for tc in calls if tc.function)
        assert calls[0].function.name == "sum_spending"
        assert args == '{"category": "groceries"}'
        assert chunks[-1].choices[0].finish_reason == "tool_calls"
        follow_up = [
            *MSG,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": calls[0].id,
                        "type": "function",
                        "function": {"name": "sum_spending", "arguments": args},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": calls[0].id, "content": "42.00 EUR"},
        ]
        final = client.chat.completions.create(model="m", messages=follow_up)
    assert final.choices[0].message.content == "Total from tool: 42.00 EUR [1]"


def test_stub_non_streaming_tool_call_format(openai_stub):
    openai_stub.queue(Reply(tool_calls=[ToolCall("lookup", '{"q": 1', id="call_x")]))
    with _client(openai_stub) as client:
        out = client.chat.completions.create(model="m", messages=MSG)
    call = out.choices[0].message.tool_calls[0]
    assert (call.id, call.function.name, call.function.arguments) == ("call_x", "lookup", '{"q": 1')
    assert out.choices[0].finish_reason == "tool_calls"


def test_stub_http_error_and_dropped_connection(openai_stub):
    openai_stub.queue(Reply(status=500), Reply(drop=True))
    with _client(openai_stub) as client:
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="m", messages=MSG)
        with pytest.raises(openai.APIConnectionError):
            client.chat.completions.create(model="m", messages=MSG)


def test_stub_slow_first_byte_and_mid_stream_stall_time_out(openai_stub):
    openai_stub.queue(Reply("late", first_byte_delay=5), Reply("abcdefghij", stall_after=2))
    with _client(openai_stub, timeout=0.3) as client:
        start = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            client.chat.completions.create(model="m", messages=MSG)
        got = []
        # Mid-stream the client surfaces the transport's timeout (openai 2.x: httpx.ReadTimeout);
        # app/llm/client.py translates both kinds.
        with pytest.raises((openai.APITimeoutError, httpx.TimeoutException)):
            for chunk in client.chat.completions.create(model="m", messages=MSG, stream=True):
                got.append(chunk.choices[0].delta.content)
    assert got == ["abcde", "fghij"]
    assert time.monotonic() - start < 3.0  # a 5 s delay and a 30 s stall, both cut at 0.3 s


def test_stub_malformed_json(openai_stub):
    openai_stub.queue(Reply("x", malformed=True), Reply("abcdefgh", malformed=True))
    with _client(openai_stub) as client:
        with pytest.raises(ValueError):
            client.chat.completions.create(model="m", messages=MSG)
        with pytest.raises(ValueError):
            list(client.chat.completions.create(model="m", messages=MSG, stream=True))


def test_stub_models_endpoint_scripted(openai_stub):
    openai_stub.models = ["a", "b"]
    with _client(openai_stub) as client:
        assert [m.id for m in client.models.list()] == ["a", "b"]
        openai_stub.models_status = 503
        with pytest.raises(openai.APIStatusError):
            client.models.list()


def test_stub_handler_sees_offered_numbers(openai_stub):
    openai_stub.reply_with(lambda req: " ".join(f"[{n}]" for n in offered_numbers(req)))
    msgs = [{"role": "user", "content": '<source id="1">a</source>\n<source id="3">b</source>'}]
    with _client(openai_stub) as client:
        out = client.chat.completions.create(model="m", messages=msgs)
    assert out.choices[0].message.content == "[1] [3]"


def test_stub_stops_promptly_while_a_reply_is_stalled():
    stub = OpenAIStub(Reply("abcdefgh", stall_after=1, stall_for=60)).start()
    client = _client(stub, timeout=30)
    stream = client.chat.completions.create(model="m", messages=MSG, stream=True)
    start = time.monotonic()
    stub.stop()
    with pytest.raises((openai.APIConnectionError, httpx.HTTPError, openai.APIError)):
        list(stream)
    client.close()
    assert time.monotonic() - start < 3.0
