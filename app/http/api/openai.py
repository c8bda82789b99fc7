"""OpenAI-compatible endpoint for chat apps that take one base URL (Chatbox, Open WebUI ...):
GET /v1/models and POST /v1/chat/completions, streamed (SSE `chat.completion.chunk`s, then
`data: [DONE]`) or not.

The last user message is answered by homerag (retrieval, the money tools, the configured LLM);
the earlier messages are the conversation it is read against (follow-ups are rewritten into
standalone questions), or pass `conversation_id` to continue a stored conversation. Citations
are `[n]` in the text plus a trailing "Sources" list of links into the web UI, and the
structured list in the extra `citations` field. Models: `homerag` (answers with the LLM when one
is configured) and `homerag-search` (retrieval-only, never calls the LLM). Errors have OpenAI's
shape: {"error": {"message", "type", "param", "code"}}.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.core.errors import ErrorCode, HomeragError
from app.http.deps import FilterFields, RuntimeDep
from app.services.runtime import Runtime

router = APIRouter(prefix="/v1", tags=["openai"])

MODELS = {"homerag": "Answers from your documents and statements with the configured LLM, "
                     "citing sources (retrieval-only without an LLM).",
          "homerag-search": "Retrieval-only: the best passages or computed figures, cited; "
                            "never calls the LLM."}
CREATED = 1767225600  # 2026-01-01: a fixed "created" for the model list
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
MAX_MESSAGES = 200
MAX_MESSAGE_CHARS = 20_000


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """The fields homerag reads; other OpenAI parameters (temperature, max_tokens, ...) are
    accepted and ignored: the configured LLM's settings apply."""

    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    conversation_id: int | None = Field(default=None, description="homerag: continue (and "
                                        "store into) this conversation.")
    filters: FilterFields | None = Field(default=None, description="homerag: search filters.")


def openai_error(status: int, message: str, *, code: str | None = None,
                 param: str | None = None,
                 headers: dict[str, str] | None = None) -> JSONResponse:
    """An error in OpenAI's shape (clients raise their typed errors from it); also what the
    app's error edge answers for /v1 paths (app/http/errors.py: 401, 413, 503 ...)."""
    kind = {400: "invalid_request_error", 401: "authentication_error",
            403: "permission_error", 404: "invalid_request_error",
            429: "rate_limit_error"}.get(status, "api_error" if status < 500 else "server_error")
    return JSONResponse({"error": {"message": message, "type": kind, "param": param,
                                   "code": code}}, status_code=status, headers=headers)


def _error_of(exc: HomeragError) -> JSONResponse:
    from app.http.errors import retry_headers  # a full model queue: 503 + Retry-After

    return openai_error(exc.status, str(exc), code=str(exc.code), headers=retry_headers(exc))


def _model_json(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": CREATED, "owned_by": "homerag",
            "description": MODELS[name]}


@router.get("/models", summary="The models this endpoint answers as (OpenAI-compatible)")
def list_models() -> dict[str, Any]:
    return {"object": "list", "data": [_model_json(name) for name in MODELS]}


@router.get("/models/{model}", summary="One model (OpenAI-compatible)")
def get_model(model: str) -> Response:
    if model not in MODELS:
        return openai_error(404, f"The model '{model}' does not exist; use one of "
                                 f"{', '.join(MODELS)}", code="model_not_found", param="model")
    return JSONResponse(_model_json(model))


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if p.get("type", "text") == "text")
    return ""


def _read(body: Any) -> tuple[ChatRequest, str] | JSONResponse:
    """The request and its last user message, or an OpenAI-shaped 400/404."""
    try:
        req = ChatRequest.model_validate(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err.get("loc", ())) or "body"
        return openai_error(400, f"{field}: {err.get('msg', 'invalid value')}", param=field,
                            code=str(ErrorCode.invalid_input))
    if req.model not in MODELS:
        return openai_error(404, f"The model '{req.model}' does not exist; use one of "
                                 f"{', '.join(MODELS)}", code="model_not_found", param="model")
    last = req.messages[-1]
    question = _text(last.content).strip()
    if last.role != "user" or not question:
        return openai_error(400, "the last message must be a user message with text",
                            param="messages", code=str(ErrorCode.invalid_input))
    if len(question) > MAX_MESSAGE_CHARS:
        return openai_error(400, f"the last message is longer than {MAX_MESSAGE_CHARS} "
                                 "characters", param="messages",
                            code=str(ErrorCode.invalid_input))
    return req, question


def _events(rt: Runtime, req: ChatRequest, question: str) -> Iterator[Any]:
    from app.services.ask import ask_turn_stream

    history = [m.model_dump() for m in req.messages] if req.conversation_id is None else None
    return ask_turn_stream(
        rt, question, conversation_id=req.conversation_id, messages=history,
        store=req.conversation_id is not None, origin="openai",
        filters=req.filters.to_filters() if req.filters else None,
        chat=True if req.model == "homerag" else None, stream=req.stream)


def _extras(rt: Runtime, result: Any, rewrite: dict[str, Any],
            stored: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """(the "Sources" markdown appended to the text, the extra response fields)."""
    from app.services.links import sources_markdown, with_link

    citations = [with_link(rt, c.to_json()) for c in result.citations]
    tail = f"\n\nSources:\n{sources_markdown(rt, citations)}" if citations else ""
    if result.unverified_figures:  # chat clients show only the text: the warning goes in it
        tail = f"\n\n⚠ {result.notice}{tail}"
    return tail, {
        "citations": citations,
        "homerag": {"mode": result.mode, "notice": result.notice, "uncited": result.uncited,
                    "filters": list(result.filters),
                    "unverified_figures": list(result.unverified_figures),
                    "understood_as": rewrite.get("standalone"),
                    "carried": rewrite.get("carried", []),
                    "conversation_id": stored["id"] if stored else None},
    }


@router.post("/chat/completions", summary="Chat completion (OpenAI-compatible, streaming or not)")
async def chat_completions(request: Request, rt: RuntimeDep) -> Response:
    """Answer the last user message; see the module documentation."""
    from starlette.concurrency import run_in_threadpool

    try:
        body = await request.json()
    except ValueError:
        return openai_error(400, "the request body is not JSON", code="invalid_json")
    read = _read(body)
    if isinstance(read, JSONResponse):
        return read
    req, question = read
    try:
        if req.stream:
            return await run_in_threadpool(_stream, rt, req, question)
        return await run_in_threadpool(_complete, rt, req, question)
    except HomeragError as exc:
        return _error_of(exc)


def _usage(result: Any, rewrite: dict[str, Any]) -> dict[str, int]:
    """The tokens of every LLM call the answer took, summed: the follow-up's rewrite, the tool
    rounds and the reply (0 for a retrieval-only or computed answer: no LLM was called)."""
    calls = [rewrite.get("usage") or {}, getattr(result, "usage", None) or {}]
    prompt = sum(int(u.get("prompt_tokens") or 0) for u in calls)
    completion = sum(int(u.get("completion_tokens") or 0) for u in calls)
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def _complete(rt: Runtime, req: ChatRequest, question: str) -> JSONResponse:
    from app.services.ask import TurnEvent

    rewrite: dict[str, Any] = {}
    stored: dict[str, Any] | None = None
    result = None
    for event in _events(rt, req, question):
        if isinstance(event, TurnEvent):
            if event.type == "rewrite":
                rewrite = dict(event.data)
            else:
                stored = dict(event.data)
        elif event.type == "done":
            result = event.result
    assert result is not None
    tail, extras = _extras(rt, result, rewrite, stored)
    message: dict[str, Any] = {"role": "assistant", "content": result.answer + tail}
    if result.reasoning:
        message["reasoning_content"] = result.reasoning
    return JSONResponse({
        "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion",
        "created": int(time.time()), "model": req.model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop",
                     "logprobs": None}],
        "usage": _usage(result, rewrite), **extras,
    })


def _stream(rt: Runtime, req: ChatRequest, question: str) -> StreamingResponse:
    """The first event is taken before the response starts, so a bad conversation id or an
    empty index is still an ordinary error response."""
    events = _events(rt, req, question)
    first = next(events)
    return StreamingResponse(_chunks(rt, req, itertools.chain([first], events)),
                             media_type="text/event-stream", headers=SSE_HEADERS)


def _chunks(rt: Runtime, req: ChatRequest, events: Iterator[Any]) -> Iterator[str]:
    from app.http.errors import stream_failure
    from app.services.ask import TurnEvent

    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        data = {"id": cid, "object": "chat.completion.chunk", "created": created,
                "model": req.model, "choices": [{"index": 0, "delta": delta,
                                                 "finish_reason": finish, "logprobs": None}],
                **extra}
        return f"data: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    rewrite: dict[str, Any] = {}
    stored: dict[str, Any] | None = None
    sent = ""  # answer text sent since the last reset
    withdrawn = False  # text was sent and then reset: the client still shows it
    try:
        for event in events:
            if isinstance(event, TurnEvent):
                if event.type == "rewrite":
                    rewrite = dict(event.data)
                else:
                    stored = dict(event.data)
            elif event.type == "answer" and event.text:
                text = ("\n\n" if withdrawn and not sent else "") + event.text
                sent += event.text
                yield chunk({"content": text})
            elif event.type == "reasoning" and event.text:
                yield chunk({"reasoning_content": event.text})
            elif event.type == "reset":
                withdrawn = withdrawn or bool(sent)
                sent = ""
            elif event.type == "done" and event.result is not None:
                result = event.result
                if result.answer.strip() != sent.strip():
                    # Nothing streamed (retrieval-only, a computed money answer), or what was
                    # streamed was withdrawn (a tool round, a failed LLM): the final text.
                    gap = "\n\n" if sent or withdrawn else ""
                    yield chunk({"content": gap + result.answer})
                tail, extras = _extras(rt, result, rewrite, stored)
                if tail:
                    yield chunk({"content": tail})
                yield chunk({}, "stop", **extras)
                if (req.stream_options or {}).get("include_usage"):
                    usage = {"id": cid, "object": "chat.completion.chunk", "created": created,
                             "model": req.model, "choices": [],
                             "usage": _usage(result, rewrite)}
                    yield f"data: {json.dumps(usage)}\n\n"
    except Exception as exc:  # the status line is sent: the failure travels as an error event
        failure = stream_failure(exc)
        error = {"message": failure["detail"], "type": "server_error", "param": None,
                 "code": failure["code"]}
        yield f"data: {json.dumps({'error': error})}\n\n"
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()
    yield "data: [DONE]\n\n"


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                  include_in_schema=False)
def unknown(path: str) -> Response:
    return openai_error(404, f"homerag answers /v1/models and /v1/chat/completions, not "
                             f"/v1/{path}", code="not_found")
