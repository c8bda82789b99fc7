"""The chat seam (pure): messages, streamed deltas, tool-call requests and the `ChatClient` Protocol.

`app.llm.client` implements it over HTTP (`OpenAIChatClient`) and re-exports these names.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Message = Mapping[str, Any]
Task = Literal["answer", "extract", "report"]
PING_TIMEOUT = 2.0


@dataclass(frozen=True, slots=True)
class ChatDelta:
    """A piece of streamed text: `answer`, `reasoning`, or `reset` (answer so far was reasoning)."""

    channel: Literal["answer", "reasoning", "reset"]
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallRequest:
    """A tool call the model asked for; `arguments` is the raw JSON text it sent."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ChatDone:
    """The end of one model turn.

    Attributes:
        answer: the content without reasoning.
        reasoning: `<think>` text and reasoning deltas, apart from the answer.
        raw_content: the content exactly as received (what goes back into the history).
    """

    answer: str
    reasoning: str = ""
    raw_content: str = ""
    tool_calls: tuple[ToolCallRequest, ...] = ()
    finish_reason: str | None = None
    model: str = ""
    usage: Mapping[str, int] = field(default_factory=dict)


StreamItem = ChatDelta | ChatDone


@runtime_checkable
class ChatClient(Protocol):
    """One chat model behind an endpoint.

    Attributes:
        model: the model id requests name.
        timeout: default deadline of one request, in seconds.
    """

    model: str
    timeout: float

    def stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
    ) -> Iterator[StreamItem]:
        """Stream one turn: `ChatDelta`s as they arrive, then exactly one `ChatDone`.

        Args:
            messages: OpenAI-style chat messages.
            tools: OpenAI tool definitions (`{"type": "function", "function": {...}}`), if any.
            timeout: the deadline for the whole turn (default: `self.timeout`).

        Raises:
            LLMUnavailableError: the server cannot be reached or says it is unavailable.
            LLMTimeoutError: no complete answer before the deadline (also a stall mid-stream).
            UpstreamError: any other HTTP error or a malformed response.
        """
        ...

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
        """One turn without streaming (same errors as `stream`)."""
        ...

    def ping(self, *, timeout: float = PING_TIMEOUT) -> list[str]:
        """The model ids the server lists (a cheap reachability check for /api/health)."""
        ...


@runtime_checkable
class GatedChatClient(ChatClient, Protocol):
    """A ChatClient behind a concurrency gate: `hold()` takes one slot for several calls (an
    answer's rewrite, tool rounds and reply) and yields the client to make them with; it raises
    LLMBusyError when no slot can be had."""

    def hold(self) -> AbstractContextManager[ChatClient]: ...
