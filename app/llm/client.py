"""The `ChatClient` implementation for OpenAI-compatible servers (HTTP I/O); re-exports the seam.

`OpenAIChatClient` talks to vLLM (or any OpenAI-compatible server) through the official `openai`
client with explicit timeouts and no retries, splits `<think>` reasoning from the answer, and
translates every failure exactly once into `LLMUnavailableError`, `LLMTimeoutError` or
`UpstreamError`. A watchdog closes a stream at its deadline, so a server that stalls mid-stream
cannot hold an answer past the timeout.

`ChatGate` bounds the calls in flight to one endpoint (HOMERAG_LLM_CONCURRENCY) with a short
queue (HOMERAG_LLM_QUEUE places, HOMERAG_LLM_QUEUE_TIMEOUT seconds); past that a call is refused
at once with `LLMBusyError` (503 + Retry-After) instead of piling up server threads. An answer
takes one slot for all its model calls (`OpenAIChatClient.hold()`).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from app.core.chat import (
    PING_TIMEOUT,
    ChatClient,
    ChatDelta,
    ChatDone,
    Message,
    StreamItem,
    Task,
    ToolCallRequest,
)
from app.core.errors import (
    ConfigError,
    HomeragError,
    LLMTimeoutError,
    LLMUnavailableError,
    UpstreamError,
)
from app.core.redact import redact_url
from app.llm.gate import ChatGate
from app.llm.thinking import ThinkSplitter, split_thinking

__all__ = [
    "ChatClient",
    "ChatDelta",
    "ChatDone",
    "ChatGate",
    "Message",
    "OpenAIChatClient",
    "StreamItem",
    "ToolCallRequest",
    "make_chat_client",
]

if TYPE_CHECKING:
    import httpx
    import openai

    from app.core.config import LLMEndpoint, Settings

CONNECT_TIMEOUT = 5.0


class OpenAIChatClient:
    """`ChatClient` over the official `openai` client (vLLM and other compatible servers)."""

    def __init__(
        self,
        endpoint: LLMEndpoint,
        http_client: httpx.Client | None = None,
        *,
        max_tokens: int = 1024,
        temperature: float = 0.2,
        connect_timeout: float = CONNECT_TIMEOUT,
        gate: ChatGate | None = None,
    ) -> None:
        if not endpoint.base_url:
            raise ConfigError("HOMERAG_LLM_BASE_URL: no language-model endpoint is configured")
        self.endpoint = endpoint
        self.base_url: str = endpoint.base_url
        # What messages and logs show: credentials in the URL (http://user:pw@host) masked.
        self.where: str = redact_url(endpoint.base_url)
        self.model = endpoint.model
        self.timeout = endpoint.timeout
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.connect_timeout = connect_timeout
        self._http_client = http_client
        self._client: openai.OpenAI | None = None
        self._lock = threading.Lock()
        self.gate = gate  # None: no bound (tests, one-shot CLI clients)

    def __repr__(self) -> str:
        return f"OpenAIChatClient(base_url={self.where!r}, model={self.model!r})"

    # -- plumbing -------------------------------------------------------------------------------
    def _openai(self) -> openai.OpenAI:
        with self._lock:
            if self._client is None:
                import openai  # lazy: keeps `import app.http.app` light

                self._client = openai.OpenAI(
                    base_url=self.base_url,
                    # vLLM accepts any key unless started with --api-key; the client needs one.
                    api_key=self.endpoint.api_key or "EMPTY",
                    max_retries=0,  # the service degrades to retrieval-only instead of retrying
                    timeout=self._timeouts(self.timeout),
                    # openai >= 3 is built on httpx2 but also drives a classic httpx.Client.
                    http_client=cast(Any, self._http_client),
                )
            return self._client

    def _timeouts(self, seconds: float) -> openai.Timeout:
        import openai

        seconds = max(0.01, seconds)
        return openai.Timeout(seconds, connect=min(self.connect_timeout, seconds))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def _request(
        self,
        messages: Sequence[Message],
        *,
        stream: bool,
        tools: Sequence[Mapping[str, Any]] | None,
        max_tokens: int | None,
        temperature: float | None,
        timeout: float,
        response_format: Mapping[str, Any] | None = None,
    ) -> Any:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "max_tokens": max_tokens or self.max_tokens,
            "temperature": self.temperature if temperature is None else temperature,
            "timeout": self._timeouts(timeout),
        }
        if tools:
            kwargs["tools"] = [dict(t) for t in tools]
            kwargs["tool_choice"] = "auto"
        if response_format:
            kwargs["response_format"] = dict(response_format)
        if stream:
            kwargs["stream"] = True
            kwargs["stream_options"] = {"include_usage": True}
        return self._openai().chat.completions.create(**kwargs)

    def _translate(self, exc: BaseException, timeout: float) -> HomeragError:
        """The one place where openai/httpx failures become homerag errors."""
        import openai

        where = self.where
        if isinstance(exc, (openai.APITimeoutError, *_http_errors("TimeoutException"))):
            return LLMTimeoutError(f"the language model at {where} did not answer within {_secs(timeout)} s")
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            if status in (502, 503, 504):
                return LLMUnavailableError(f"the language model at {where} is unavailable (HTTP {status})")
            detail = _short(getattr(exc, "message", "") or str(exc))
            return UpstreamError(f"the language model at {where} answered HTTP {status}: {detail}")
        if isinstance(exc, (openai.APIConnectionError, *_http_errors("TransportError"))):
            return LLMUnavailableError(f"cannot reach the language model at {where}")
        return UpstreamError(f"the language model at {where} sent a malformed response ({type(exc).__name__})")

    # -- the seam -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def hold(self) -> Iterator[ChatClient]:
        """One slot of the gate for several calls (an answer's rewrite, tool rounds and reply):
        the client yielded makes its calls inside it. LLMBusyError when none can be had."""
        if self.gate is None:
            yield self
            return
        with self.gate.slot():
            yield _HeldClient(self)

    def stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
    ) -> Iterator[StreamItem]:
        with self.gate.slot() if self.gate is not None else contextlib.nullcontext():
            yield from self._stream(messages, tools=tools, max_tokens=max_tokens,
                                    temperature=temperature, timeout=timeout)

    def complete(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
        response_format: Mapping[str, Any] | None = None,
    ) -> ChatDone:
        with self.gate.slot() if self.gate is not None else contextlib.nullcontext():
            return self._complete(messages, tools=tools, max_tokens=max_tokens,
                                  temperature=temperature, timeout=timeout,
                                  response_format=response_format)

    def _stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
    ) -> Iterator[StreamItem]:
        budget = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + budget

        expired = threading.Event()
        guard = threading.Lock()
        finished = False
        splitter = ThinkSplitter()
        raw: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        finish: str | None = None
        model = self.model
        usage: dict[str, int] = {}
        response: Any = None
        watchdog: threading.Timer | None = None
        try:
            response = self._request(
                messages, stream=True, tools=tools, max_tokens=max_tokens,
                temperature=temperature, timeout=budget,
            )

            def expire() -> None:
                with guard:  # never touch a connection already handed back to the pool
                    if finished:
                        return
                    expired.set()
                    _abort(response)

            watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), expire)
            watchdog.daemon = True
            watchdog.start()
            for chunk in response:
                if expired.is_set() or time.monotonic() > deadline:
                    raise LLMTimeoutError(
                        f"the language model at {self.where} did not answer within {_secs(budget)} s"
                    )
                model = getattr(chunk, "model", None) or model
                if getattr(chunk, "usage", None):
                    usage = _usage(chunk.usage)
                for choice in chunk.choices or ():
                    delta = choice.delta
                    if choice.finish_reason:
                        finish = choice.finish_reason
                    if delta is None:
                        continue
                    thought = _reasoning_of(delta)
                    if thought:
                        for seg in splitter.feed_reasoning(thought):
                            yield ChatDelta(seg.channel, seg.text)
                    if delta.content:
                        raw.append(delta.content)
                        for seg in splitter.feed(delta.content):
                            yield ChatDelta(seg.channel, seg.text)
                    for tc in delta.tool_calls or ():
                        acc = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                        acc["id"] = tc.id or acc["id"]
                        if tc.function is not None:
                            acc["name"] += tc.function.name or ""
                            acc["arguments"] += tc.function.arguments or ""
            if expired.is_set():  # the watchdog ended the stream early: no clean finish
                raise LLMTimeoutError(
                    f"the language model at {self.where} did not answer within {_secs(budget)} s"
                )
        except HomeragError:
            raise
        except _failures() as exc:
            if expired.is_set():
                raise LLMTimeoutError(
                    f"the language model at {self.where} did not answer within {_secs(budget)} s"
                ) from exc
            raise self._translate(exc, budget) from exc
        finally:
            with guard:
                finished = True
            if watchdog is not None:
                watchdog.cancel()
            if response is not None:
                response.close()
        for seg in splitter.finish():
            yield ChatDelta(seg.channel, seg.text)
        tool_calls = tuple(
            ToolCallRequest(id=c["id"] or f"call_{i}", name=c["name"], arguments=c["arguments"])
            for i, c in sorted(calls.items())
        )
        yield ChatDone(
            answer=splitter.answer.strip(),
            reasoning=splitter.reasoning.strip(),
            raw_content="".join(raw),
            tool_calls=tool_calls,
            finish_reason=finish,
            model=model,
            usage=usage,
        )

    def _complete(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
        response_format: Mapping[str, Any] | None = None,
    ) -> ChatDone:

        budget = self.timeout if timeout is None else timeout
        try:
            resp = self._request(
                messages, stream=False, tools=tools, max_tokens=max_tokens,
                temperature=temperature, timeout=budget, response_format=response_format,
            )
            if not resp.choices:
                raise ValueError("no choices")
            choice = resp.choices[0]
            msg = choice.message
            raw = msg.content or ""
            answer, think = split_thinking(raw)
            reasoning = "\n".join(p for p in (_reasoning_of(msg), think) if p)
            tool_calls = tuple(
                ToolCallRequest(id=tc.id or f"call_{i}", name=tc.function.name, arguments=tc.function.arguments or "")
                for i, tc in enumerate(msg.tool_calls or ())
            )
            return ChatDone(
                answer=answer.strip(),
                reasoning=reasoning.strip(),
                raw_content=raw,
                tool_calls=tool_calls,
                finish_reason=choice.finish_reason,
                model=resp.model or self.model,
                usage=_usage(resp.usage) if resp.usage else {},
            )
        except _failures() as exc:
            raise self._translate(exc, budget) from exc

    def ping(self, *, timeout: float = PING_TIMEOUT) -> list[str]:

        try:
            page = self._openai().models.list(timeout=self._timeouts(timeout))
            return [m.id for m in page.data]
        except _failures() as exc:
            raise self._translate(exc, timeout) from exc


class _HeldClient:
    """An `OpenAIChatClient` inside a slot it already holds: its calls do not queue again."""

    def __init__(self, client: OpenAIChatClient) -> None:
        self._client = client
        self.model = client.model
        self.timeout = client.timeout
        self.where = client.where

    def __repr__(self) -> str:
        return f"{self._client!r} (holding a slot)"

    @contextlib.contextmanager
    def hold(self) -> Iterator[ChatClient]:
        yield self

    def stream(self, messages: Sequence[Message], **options: Any) -> Iterator[StreamItem]:
        return self._client._stream(messages, **options)

    def complete(self, messages: Sequence[Message], **options: Any) -> ChatDone:
        return self._client._complete(messages, **options)

    def ping(self, *, timeout: float = PING_TIMEOUT) -> list[str]:
        return self._client.ping(timeout=timeout)


def _failures() -> tuple[type[BaseException], ...]:
    """What a request or a stream can raise: client errors, transport errors, malformed data."""
    import openai

    return (openai.APIError, *_http_errors("HTTPError"), ValueError, KeyError, TypeError, AttributeError)


def _http_errors(name: str) -> tuple[type[BaseException], ...]:
    """Exception class `name` of each httpx flavour loaded (httpx, and httpx2 under openai >= 3)."""
    found = []
    for module in ("httpx", "httpx2"):
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            found.append(cls)
    return tuple(found)


def _abort(response: Any) -> None:
    """Unblock a read in progress on another thread: shut the socket down (closing is not enough)."""
    import socket

    http_response = getattr(response, "response", None)
    stream = getattr(http_response, "extensions", {}).get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    else:  # a transport without a socket (tests' MockTransport): best effort
        with contextlib.suppress(Exception):
            response.close()


def _reasoning_of(obj: Any) -> str:
    """vLLM's reasoning text: `reasoning_content` (older) or `reasoning` (newer)."""
    for name in ("reasoning_content", "reasoning"):
        value = getattr(obj, name, None)
        if isinstance(value, str) and value:
            return value
    return ""


def _usage(usage: Any) -> dict[str, int]:
    return {
        k: int(getattr(usage, k))
        for k in ("prompt_tokens", "completion_tokens", "total_tokens")
        if isinstance(getattr(usage, k, None), int)
    }


def _secs(seconds: float) -> str:
    """0.999997 -> "1", 0.3 -> "0.3" (the service passes the budget left, not a round number)."""
    return f"{round(seconds, 1):g}"


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def make_chat_client(
    settings: Settings, task: Task = "answer", *, http_client: httpx.Client | None = None
) -> OpenAIChatClient | None:
    """The chat client for one task (answer / extract / report), or None when no URL is set."""
    endpoint = settings.llm_endpoint(task)
    if not endpoint.base_url:
        return None
    gate = ChatGate(limit=settings.llm_concurrency, queue=settings.llm_queue,
                    wait=settings.llm_queue_timeout, where=redact_url(endpoint.base_url))
    return OpenAIChatClient(
        endpoint,
        http_client,
        max_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
        gate=gate,
    )
