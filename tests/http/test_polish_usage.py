"""/v1/chat/completions reports the tokens of every LLM call an answer took (the follow-up's
rewrite and the reply), summed, as the loopback stub LLM counted them; 0 when no LLM was called."""

# ruff: noqa: F811
from __future__ import annotations

import json

import httpx

from tests.http.test_openai_api import base, client_for, homerag_llm, stub  # noqa: F401
from tests.mcp.household import household, make_runtime, serve_app  # noqa: F401
from tests.openai_stub import chat_text

FIRST = "What is the notice period of the gym membership?"


def counted(requests: list[dict]) -> tuple[int, int]:
    """(prompt, completion) tokens as the stub reports them for these requests (its usage:
    words of the request's messages and of its reply)."""
    prompt = sum(len(chat_text(r).split()) for r in requests)
    completion = sum(len(homerag_llm(r).content.split()) for r in requests)
    return prompt, completion


def test_a_follow_up_reports_the_rewrite_and_the_reply_summed(base, stub):
    client = client_for(base)
    first = client.chat.completions.create(model="homerag",
                                           messages=[{"role": "user", "content": FIRST}])
    one = stub.chat_requests
    assert len(one) == 1  # a first question: the reply only
    assert (first.usage.prompt_tokens, first.usage.completion_tokens) == counted(one)
    assert first.usage.prompt_tokens > 100 and first.usage.completion_tokens > 5
    assert first.usage.total_tokens == first.usage.prompt_tokens + first.usage.completion_tokens

    second = client.chat.completions.create(model="homerag", messages=[
        {"role": "user", "content": FIRST},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "when does that contract end?"}])
    two = stub.chat_requests[len(one):]
    assert len(two) == 2 and "You rewrite follow-up questions" in two[0]["messages"][0]["content"]
    prompt, completion = counted(two)
    assert (second.usage.prompt_tokens, second.usage.completion_tokens) == (prompt, completion)
    assert second.usage.prompt_tokens > counted(two[1:])[0]  # the rewrite's share is in it


def test_streamed_usage_chunk_carries_the_same_sum(base, stub):
    body = {"model": "homerag", "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": FIRST}]}
    with httpx.stream("POST", f"{base}/v1/chat/completions", json=body, timeout=60) as resp:
        lines = [line for line in resp.iter_lines() if line]
    events = [json.loads(line[6:]) for line in lines[:-1]]
    usage = events[-1]["usage"]
    assert events[-1]["choices"] == []
    prompt, completion = counted(stub.chat_requests)
    assert usage == {"prompt_tokens": prompt, "completion_tokens": completion,
                     "total_tokens": prompt + completion}
    assert prompt > 0


def test_no_llm_call_no_tokens(base, stub):
    out = client_for(base).chat.completions.create(
        model="homerag-search", messages=[{"role": "user", "content": FIRST}])
    assert stub.chat_requests == []
    assert (out.usage.prompt_tokens, out.usage.completion_tokens, out.usage.total_tokens) == \
        (0, 0, 0)
