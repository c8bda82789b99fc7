"""A loopback OpenAI-compatible HTTP server for tests: scripted chat replies, recorded requests.

`OpenAIStub` listens on 127.0.0.1 (a free port) in a background thread and serves
`POST /v1/chat/completions` (SSE when `"stream": true`, plain JSON otherwise) and `GET /v1/models`.
Every request is recorded (`stub.requests`, `stub.chat_requests`) for assertions. What it answers
is scripted per test with `Reply` objects: queued (`stub.queue(...)`), or computed from the request
by a handler (`stub.reply_with(fn)`), including `<think>` text split at awkward places, vLLM
`reasoning_content` deltas, tool calls, HTTP errors, slow first bytes, mid-stream stalls, malformed
JSON and dropped connections.

    with OpenAIStub() as stub:
        stub.queue(Reply("Rent is 950 EUR [1]."))
        client = OpenAI(base_url=stub.base_url, api_key="x")

Other test folders build their own fixture from the class (see tests/answer/conftest.py).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "OpenAIStub",
    "RecordedRequest",
    "Reply",
    "ToolCall",
    "chat_text",
    "offered_numbers",
    "split_every",
    "tool_messages",
    "tool_then_answer",
]


@dataclass(frozen=True)
class ToolCall:
    """One tool call the scripted model makes; `arguments` may be a raw (even invalid) string."""

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)
    id: str | None = None

    def arguments_json(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments)


@dataclass
class Reply:
    """What the stub answers to one chat request.

    Attributes:
        content: the assistant text (may contain `<think>...</think>`).
        reasoning: vLLM reasoning-parser text, sent as `reasoning_content` (or `reasoning_field`)
            deltas before the content.
        tool_calls: tool calls to make (finish_reason "tool_calls").
        pieces: explicit chunking of `content` for streaming; default: every `chunk_size` chars.
        deltas: full control over the streamed deltas (dicts such as {"content": "x"} or
            {"reasoning_content": "y"}); overrides content/reasoning/pieces when streaming and is
            merged into one message when not.
        status: HTTP status; >= 400 answers an OpenAI-style error body with `error_message`.
        first_byte_delay: seconds to wait before sending anything (tests read timeouts).
        stall_after: when streaming, stop after this many SSE events and hang for `stall_for` s.
        chunk_delay: when streaming, seconds between events (a slow trickle, never a stall).
        malformed: non-streaming: an invalid JSON body; streaming: an invalid JSON event.
        drop: close the connection without answering.
        cut_after: when streaming, end the response cleanly after this many content events,
            without the final chunk (finish_reason) and `[DONE]` (a stream cut by a proxy).
    """

    content: str = ""
    reasoning: str | None = None
    tool_calls: Sequence[ToolCall] = ()
    pieces: Sequence[str] | None = None
    chunk_size: int = 5
    deltas: Sequence[Mapping[str, Any]] | None = None
    reasoning_field: str = "reasoning_content"
    status: int = 200
    error_message: str = "stub: scripted failure"
    first_byte_delay: float = 0.0
    stall_after: int | None = None
    stall_for: float = 30.0
    chunk_delay: float = 0.0
    malformed: bool = False
    drop: bool = False
    cut_after: int | None = None
    finish_reason: str | None = None
    model: str | None = None  # default: the model the request named

    def stream_deltas(self) -> list[dict[str, Any]]:
        """The deltas this reply streams, in order (first one carries the role)."""
        if self.deltas is not None:
            out = [dict(d) for d in self.deltas]
        else:
            out = []
            if self.reasoning:
                out += [{self.reasoning_field: p} for p in split_every(self.reasoning, 7)]
            pieces = self.pieces if self.pieces is not None else split_every(self.content, self.chunk_size)
            out += [{"content": p} for p in pieces]
            for index, call in enumerate(self.tool_calls):
                call_id = call.id or f"call_{index}"
                args = call.arguments_json()
                out.append(
                    {
                        "tool_calls": [
                            {
                                "index": index,
                                "id": call_id,
                                "type": "function",
                                "function": {"name": call.name, "arguments": ""},
                            }
                        ]
                    }
                )
                # Arguments arrive in fragments, as vLLM sends them.
                for part in split_every(args, 6):
                    out.append({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
        if out:
            out[0] = {"role": "assistant", **out[0]}
        else:
            out = [{"role": "assistant", "content": ""}]
        return out

    def message(self) -> dict[str, Any]:
        """The non-streaming assistant message."""
        if self.deltas is not None:
            merged: dict[str, Any] = {"role": "assistant", "content": ""}
            for delta in self.deltas:
                for key, value in delta.items():
                    if isinstance(value, str) and key != "role":
                        merged[key] = (merged.get(key) or "") + value
            return merged
        msg: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.reasoning is not None:
            msg[self.reasoning_field] = self.reasoning
        if self.tool_calls:
            msg["content"] = self.content or None
            msg["tool_calls"] = [
                {
                    "id": call.id or f"call_{i}",
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments_json()},
                }
                for i, call in enumerate(self.tool_calls)
            ]
        return msg

    def resolved_finish_reason(self) -> str:
        if self.finish_reason:
            return self.finish_reason
        return "tool_calls" if self.tool_calls else "stop"


@dataclass(frozen=True)
class RecordedRequest:
    """One request the stub received."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    received_at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


Handler = Callable[[dict[str, Any]], "Reply | str"]


def split_every(text: str, n: int) -> list[str]:
    """`text` in pieces of `n` characters (at least one piece)."""
    if not text:
        return []
    n = max(1, n)
    return [text[i : i + n] for i in range(0, len(text), n)]


def chat_text(request: Mapping[str, Any]) -> str:
    """All message contents of a chat request, joined (for regex assertions in handlers)."""
    parts = []
    for msg in request.get("messages", []):
        content = msg.get("content")
        if isinstance(content, list):  # content parts
            content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        if content:
            parts.append(str(content))
    return "\n".join(parts)


_SOURCE_RE = re.compile(r'<source id="(\d+)"')


def offered_numbers(request: Mapping[str, Any], pattern: re.Pattern[str] = _SOURCE_RE) -> list[int]:
    """Numbers of the context blocks a chat request offered (homerag's `<source id="n">` form)."""
    seen: list[int] = []
    for match in pattern.finditer(chat_text(request)):
        n = int(match.group(1))
        if n not in seen:
            seen.append(n)
    return seen


def tool_messages(request: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The `role: tool` messages of a chat request (results the service fed back)."""
    return [m for m in request.get("messages", []) if m.get("role") == "tool"]


def tool_then_answer(
    calls: Sequence[ToolCall] | Sequence[Sequence[ToolCall]],
    final: Callable[[dict[str, Any]], Reply | str],
) -> Handler:
    """A handler that makes tool calls (one round per assistant turn) and then answers.

    `calls` is one round (a list of ToolCall) or several rounds (a list of lists). The round is
    chosen by how many assistant tool-call turns the request already carries; after the last
    round, `final(request)` answers.
    """
    one_round = bool(calls) and isinstance(calls[0], ToolCall)
    rounds: list[Sequence[ToolCall]] = [calls] if one_round else list(calls)  # type: ignore[list-item]

    def handler(request: dict[str, Any]) -> Reply | str:
        done = sum(
            1 for m in request.get("messages", []) if m.get("role") == "assistant" and m.get("tool_calls")
        )
        if done < len(rounds):
            return Reply(tool_calls=rounds[done])
        return final(request)

    return handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, stub: OpenAIStub) -> None:
        self.stub = stub
        self.connections: set[socket.socket] = set()
        super().__init__(("127.0.0.1", 0), _RequestHandler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        with self.stub._lock:
            self.connections.add(sock)
        return sock, addr

    def shutdown_request(self, request: Any) -> None:
        with self.stub._lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-stream are expected (timeouts under test); stay quiet.
        import sys

        self.stub.errors.append(repr(sys.exc_info()[1]))


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 10  # idle keep-alive connections give up after this

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- routing ----------------------------------------------------------------------------------
    def do_GET(self) -> None:
        stub = self.server.stub
        stub._record(self, b"")
        if self.path.rstrip("/").endswith("/models"):
            if stub.models_delay and stub._stopping.wait(stub.models_delay):
                return
            if stub.models_status >= 400:
                self._send_error(stub.models_status, "stub: models unavailable")
                return
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "stub"} for m in stub.models]
            self._send_json(200, {"object": "list", "data": data})
            return
        self._send_error(404, f"stub: no route for GET {self.path}")

    def do_POST(self) -> None:
        stub = self.server.stub
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        stub._record(self, body)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send_error(404, f"stub: no route for POST {self.path}")
            return
        try:
            request = json.loads(body)
        except ValueError:
            self._send_error(400, "stub: request body is not JSON")
            return
        try:
            reply = stub._next_reply(request)
        except Exception as exc:  # a handler bug must show up in the test, not hang it
            stub.errors.append(f"handler raised {exc!r}")
            self._send_error(500, f"stub: handler raised {exc!r}")
            return
        self._chat(request, reply)

    # -- chat -------------------------------------------------------------------------------------
    def _chat(self, request: dict[str, Any], reply: Reply) -> None:
        stub = self.server.stub
        if reply.first_byte_delay and stub._stopping.wait(reply.first_byte_delay):
            return
        if reply.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if reply.status >= 400:
            self._send_error(reply.status, reply.error_message)
            return
        model = reply.model or request.get("model") or "stub-model"
        completion_id = f"chatcmpl-stub{next(stub._ids)}"
        if request.get("stream"):
            self._stream(request, reply, model, completion_id)
            return
        if reply.malformed:
            self._send_raw(200, b'{"id": "chatcmpl-broken", "choices": [', "application/json")
            return
        message = reply.message()
        payload = {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": reply.resolved_finish_reason(),
                    "logprobs": None,
                }
            ],
            "usage": _usage(request, message.get("content") or ""),
        }
        self._send_json(200, payload)

    def _stream(self, request: dict[str, Any], reply: Reply, model: str, completion_id: str) -> None:
        stub = self.server.stub
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        created = int(time.time())

        def chunk(delta: Mapping[str, Any], finish: str | None = None) -> bytes:
            event = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": dict(delta), "finish_reason": finish, "logprobs": None}],
            }
            return b"data: " + json.dumps(event).encode() + b"\n\n"

        events = [chunk(d) for d in reply.stream_deltas()]
        if reply.cut_after is not None:
            for event in events[: reply.cut_after]:
                self._write_chunk(event)
            self._write_chunk(b"")
            return
        if reply.malformed:
            events.insert(min(1, len(events)), b'data: {"id": "chatcmpl-broken", "choices": [\n\n')
        events.append(chunk({}, reply.resolved_finish_reason()))
        if (request.get("stream_options") or {}).get("include_usage"):
            usage = _usage(request, reply.content)
            events.append(
                b"data: "
                + json.dumps(
                    {
                        "id": completion_id,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": model,
                        "choices": [],
                        "usage": usage,
                    }
                ).encode()
                + b"\n\n"
            )
        events.append(b"data: [DONE]\n\n")
        try:
            for i, event in enumerate(events):
                if reply.stall_after is not None and i == reply.stall_after:
                    stub._stopping.wait(reply.stall_for)
                    self.close_connection = True
                    return
                if i and reply.chunk_delay and stub._stopping.wait(reply.chunk_delay):
                    return
                self._write_chunk(event)
            self._write_chunk(b"")
        except OSError:  # the client gave up (timeout under test)
            self.close_connection = True

    # -- low level --------------------------------------------------------------------------------
    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _send_raw(self, status: int, body: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _send_json(self, status: int, payload: Any) -> None:
        self._send_raw(status, json.dumps(payload).encode(), "application/json")

    def _send_error(self, status: int, message: str) -> None:
        err_type = "server_error" if status >= 500 else "invalid_request_error"
        self._send_json(status, {"error": {"message": message, "type": err_type, "code": status}})


def _usage(request: Mapping[str, Any], content: str) -> dict[str, int]:
    prompt = len(chat_text(request).split())
    completion = len(content.split())
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


class OpenAIStub:
    """A scripted OpenAI-compatible server on 127.0.0.1; use as a context manager or start/stop.

    Replies come from the queue first (`queue`), then from the handler (`reply_with`), whose
    default answers "stub answer". `models`, `models_status` and `models_delay` script
    `GET /v1/models`.
    """

    def __init__(
        self,
        handler: Handler | Reply | str | None = None,
        *,
        models: Sequence[str] = ("stub-model",),
    ) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._queue: deque[Reply | str | Handler] = deque()
        self._handler: Handler = _as_handler(handler if handler is not None else "stub answer")
        self._ids = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[RecordedRequest] = []
        self.errors: list[str] = []
        self.models: list[str] = list(models)
        self.models_status = 200
        self.models_delay = 0.0

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> OpenAIStub:
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
            name=f"openai-stub-{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes stalled/delayed replies
        self._server.shutdown()
        with self._lock:
            open_conns = list(self._server.connections)
        for conn in open_conns:  # idle keep-alive connections would otherwise linger
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> OpenAIStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses --------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._server is not None, "stub not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """The OpenAI base URL (ends in /v1), e.g. for HOMERAG_LLM_BASE_URL."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting --------------------------------------------------------------------------------
    def queue(self, *replies: Reply | str | Handler) -> OpenAIStub:
        """Answer the next chat requests with these, in order (then fall back to the handler)."""
        with self._lock:
            self._queue.extend(replies)
        return self

    def reply_with(self, handler: Handler | Reply | str) -> OpenAIStub:
        """Answer every chat request (after the queue) with this reply or handler(request)."""
        self._handler = _as_handler(handler)
        return self

    def _next_reply(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            item: Reply | str | Handler = self._queue.popleft() if self._queue else self._handler
        return _as_handler(item)(request)  # type: ignore[return-value]

    # -- recording --------------------------------------------------------------------------------
    def _record(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        req = RecordedRequest(
            method=handler.command,
            path=handler.path,
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
            received_at=time.monotonic(),
        )
        with self._lock:
            self.requests.append(req)

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """JSON bodies of the chat-completion requests received so far."""
        with self._lock:
            reqs = list(self.requests)
        return [r.json for r in reqs if r.method == "POST" and r.path.endswith("/chat/completions")]

    @property
    def last_chat(self) -> dict[str, Any]:
        reqs = self.chat_requests
        assert reqs, "the stub received no chat request"
        return reqs[-1]

    def iter_messages(self) -> Iterator[dict[str, Any]]:
        """Every message of every chat request, in order."""
        for req in self.chat_requests:
            yield from req.get("messages", [])


def _coerce(value: Reply | str) -> Reply:
    return value if isinstance(value, Reply) else Reply(content=str(value))


def _as_handler(value: Handler | Reply | str) -> Handler:
    if callable(value) and not isinstance(value, Reply):
        fn = value

        def call(request: dict[str, Any]) -> Reply:
            return _coerce(fn(request))

        return call
    fixed = _coerce(value)  # type: ignore[arg-type]
    return lambda request: fixed
