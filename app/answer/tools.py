"""The generic OpenAI-style tool loop: offer `Tool`s, execute the calls in the service, feed results back.

The model only chooses tools and arguments; `Tool.execute` computes every figure in code. Each
result's `Citable`s get numbers in the same citation space as the context blocks, so the final
answer can cite a transaction row exactly like a passage. Rounds are bounded: after `max_rounds`
tool rounds the model is asked once more without tools and must answer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from app.answer.context import neutralise, render_block
from app.answer.types import Citable, ContextBlock, ToolTrace
from app.core.errors import HomeragError, LLMTimeoutError, UpstreamError
from app.llm.client import ChatClient, ChatDelta, ChatDone, Message, ToolCallRequest

DEFAULT_MAX_ROUNDS = 4
MAX_RESULT_CHARS = 16_000


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a tool returns: data for the model and the citables that back it.

    Attributes:
        data: JSON-serialisable result (amounts as strings: never floats for money).
        citables: rows/passages the result rests on; they are numbered and offered for citing.
        render: optional text for the model given the numbers assigned to `citables` (in order),
            e.g. "Total -123.45 EUR over [9]-[14]"; default: `data` as JSON.
    """

    data: Any = None
    citables: Sequence[Citable] = ()
    render: Callable[[Sequence[int]], str] | None = None


@runtime_checkable
class Tool(Protocol):
    """A function the model may call. `parameters` is a JSON schema (type "object")."""

    # Read-only, so frozen dataclasses (FunctionTool) satisfy the protocol.
    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def parameters(self) -> Mapping[str, Any]: ...

    def execute(self, args: Mapping[str, Any]) -> ToolResult:
        """Run with the model's arguments. Raise a HomeragError (or ValueError) for bad ones;
        the message goes back to the model so it can correct itself."""
        ...


@dataclass(frozen=True, slots=True)
class FunctionTool:
    """A `Tool` from a plain function."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    fn: Callable[[Mapping[str, Any]], ToolResult]

    def execute(self, args: Mapping[str, Any]) -> ToolResult:
        return self.fn(args)


def tool_spec(tool: Tool) -> dict[str, Any]:
    """The OpenAI `tools=[...]` entry of a tool."""
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": dict(tool.parameters),
        },
    }


class CitationSpace:
    """Numbers of everything offered in one answer: context blocks first, then tool citables."""

    def __init__(self, blocks: Sequence[ContextBlock] = ()) -> None:
        self._blocks: list[ContextBlock] = list(blocks)
        self._by_key = {b.citable.key: b.n for b in self._blocks}

    @property
    def blocks(self) -> list[ContextBlock]:
        return list(self._blocks)

    def by_number(self) -> dict[int, Citable]:
        return {b.n: b.citable for b in self._blocks}

    def add(self, citables: Sequence[Citable]) -> tuple[list[int], list[ContextBlock]]:
        """Numbers for `citables` (known ones keep theirs) and the blocks that are new."""
        numbers: list[int] = []
        new: list[ContextBlock] = []
        for c in citables:
            n = self._by_key.get(c.key)
            if n is None:
                n = max((b.n for b in self._blocks), default=0) + 1
                block = ContextBlock(n=n, citable=c, shown=c.text)
                self._blocks.append(block)
                self._by_key[c.key] = n
                new.append(block)
            numbers.append(n)
        return numbers, new


@dataclass(frozen=True, slots=True)
class ToolRound:
    """A model turn that ended in tool calls, after the service executed them."""

    traces: tuple[ToolTrace, ...]
    new_blocks: tuple[ContextBlock, ...]
    done: ChatDone


@dataclass
class LoopState:
    """What the loop accumulated (read by the service after the loop ends)."""

    traces: list[ToolTrace] = field(default_factory=list)
    rounds: int = 0
    llm_seconds: float = 0.0
    usage: dict[str, int] = field(default_factory=dict)  # token counts summed over the turns


def execute_call(
    call: ToolCallRequest, tools: Mapping[str, Tool], space: CitationSpace
) -> tuple[str, ToolTrace, list[ContextBlock]]:
    """Run one tool call; returns the tool message content, a trace and newly offered blocks."""
    tool = tools.get(call.name)
    args: Any = call.arguments
    try:
        if tool is None:
            raise ValueError(f"unknown tool {call.name!r}; available: {', '.join(sorted(tools))}")
        try:
            args = json.loads(call.arguments or "{}")
        except json.JSONDecodeError as exc:
            raise ValueError(f"arguments of {call.name} are not valid JSON: {exc.msg}") from exc
        if not isinstance(args, dict):
            raise ValueError(f"arguments of {call.name} must be a JSON object")
        result = tool.execute(args)
    except (HomeragError, ValueError, TypeError, KeyError) as exc:
        message = str(exc) or type(exc).__name__
        content = json.dumps({"error": message}, ensure_ascii=False)
        return content, ToolTrace(name=call.name, arguments=args, ok=False, error=message), []
    numbers, new = space.add(result.citables)
    body = result.render(numbers) if result.render else json.dumps(result.data, ensure_ascii=False, default=str)
    parts = [f'<tool_result name="{call.name}">\n{neutralise(body)[:MAX_RESULT_CHARS]}\n</tool_result>']
    by_n = space.by_number()
    if numbers:
        parts.append("Sources of this result (untrusted text; cite them as [n]):")
        parts.extend(render_block(n, by_n[n], by_n[n].text) for n in dict.fromkeys(numbers))
    trace = ToolTrace(name=call.name, arguments=args, ok=True, numbers=tuple(dict.fromkeys(numbers)))
    return "\n".join(parts), trace, new


def tool_loop(
    chat: ChatClient,
    messages: list[Message],
    *,
    tools: Sequence[Tool],
    space: CitationSpace,
    deadline: float,
    stream: bool,
    state: LoopState,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    max_tokens: int | None = None,
    temperature: float | None = None,
) -> Iterator[ChatDelta | ToolRound | ChatDone]:
    """Turns until the model answers: deltas of each turn, a `ToolRound` after each tool turn,
    and the final `ChatDone` last. `messages` grows with the assistant and tool messages."""
    by_name = {t.name: t for t in tools}
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LLMTimeoutError(f"the language model did not finish within the deadline ({state.rounds} tool rounds)")
        offer = [tool_spec(t) for t in tools] if tools and state.rounds < max_rounds else None
        started = time.monotonic()
        done: ChatDone | None = None
        try:
            if stream:
                for item in chat.stream(
                    messages, tools=offer, max_tokens=max_tokens, temperature=temperature, timeout=remaining
                ):
                    if isinstance(item, ChatDone):
                        done = item
                    else:
                        yield item
            else:
                done = chat.complete(
                    messages, tools=offer, max_tokens=max_tokens, temperature=temperature, timeout=remaining
                )
        finally:
            state.llm_seconds += time.monotonic() - started
        if done is None:  # a client that broke its contract: treat like a malformed response
            raise UpstreamError("the language model stream ended without a final message")
        for key, count in done.usage.items():
            state.usage[key] = state.usage.get(key, 0) + int(count)
        if not (offer and done.tool_calls):
            yield done
            return
        state.rounds += 1
        messages.append(
            {
                "role": "assistant",
                "content": done.raw_content or None,
                "tool_calls": [
                    {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                    for c in done.tool_calls
                ],
            }
        )
        traces: list[ToolTrace] = []
        new_blocks: list[ContextBlock] = []
        for call in done.tool_calls:
            content, trace, new = execute_call(call, by_name, space)
            messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
            traces.append(trace)
            new_blocks.extend(new)
        state.traces.extend(traces)
        yield ToolRound(traces=tuple(traces), new_blocks=tuple(new_blocks), done=done)
