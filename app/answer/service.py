"""Answering a question: hits -> numbered context -> prompt -> LLM (+ tools) -> checked citations.

`stream_answer` yields `AnswerEvent`s for the CLI and the SSE endpoint; `answer_question` returns
the final `AnswerResult`. Without an LLM, or when it is unreachable, fails or runs past the
deadline, the result is a clearly labelled retrieval-only answer made of the best passages; with
no passages at all it says so without calling the LLM. Retrieval and prompt errors propagate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.answer.citations import CitationFilter, check_citations
from app.answer.context import DEFAULT_MAX_CHARS, build_context
from app.answer.spans import land_blocks, land_citations
from app.answer.tools import (
    DEFAULT_MAX_ROUNDS,
    CitationSpace,
    LoopState,
    Tool,
    ToolRound,
    tool_loop,
)
from app.answer.types import AnswerEvent, AnswerResult, Citable, Citation, ContextBlock
from app.core.errors import InvalidInputError, UpstreamError
from app.llm.client import ChatClient, ChatDelta, ChatDone
from app.llm.prompts import load_prompt

if TYPE_CHECKING:
    from app.retrieval.types import Hit

HitSource = Sequence["Hit | Citable"] | Callable[[], Sequence["Hit | Citable"]]

PROMPT_NAME = "answer"
# The variables this module fills, per prompt (tests/answer/test_prompts.py checks the files).
PROMPT_VARIABLES = {PROMPT_NAME: frozenset({"today", "context", "question"})}
FALLBACK_PASSAGES = 5
NO_LLM_NOTICE = "no language model is configured (set HOMERAG_LLM_BASE_URL)"
NOTHING_FOUND = "Nothing relevant was found in the indexed documents for this question."
NO_CONTEXT = "(no passages matched the question)"


def _ms(seconds: float) -> float:
    return seconds * 1000.0


def retrieval_only(
    blocks: Sequence[ContextBlock],
    notice: str,
    *,
    passages: int = FALLBACK_PASSAGES,
    error_code: str | None = None,
    **extra: Any,
) -> AnswerResult:
    """The labelled fallback: the best passages, each cited, and why the LLM did not answer."""
    best = list(blocks[:passages])
    if not best:
        return AnswerResult(
            answer=NOTHING_FOUND, mode="retrieval-only", notice=notice, error_code=error_code,
            offered=tuple(blocks), **extra,
        )
    # The passages themselves travel as citations (listed under the answer by every interface),
    # so the text only says why there is no written answer and which passages to read.
    refs = " ".join(f"[{b.n}]" for b in best)
    return AnswerResult(
        answer=f"Retrieval-only answer: {notice}. Read the most relevant passages: {refs}.",
        mode="retrieval-only",
        citations=tuple(Citation(n=b.n, citable=b.citable) for b in best),
        notice=notice,
        error_code=error_code,
        offered=tuple(blocks),
        **extra,
    )


def stream_answer(question: str, **options: Any) -> Iterator[AnswerEvent]:
    """`answer_events` with citations that land: offered passages carry the sentences that match
    the question; the `done` result has its markers renumbered by first citation and each
    citation its supporting span and snippet (app/answer/spans.py)."""
    for event in answer_events(question, **options):
        if event.type == "sources":
            event = replace(event, blocks=land_blocks(event.blocks, question))
        elif event.type == "done" and event.result is not None:
            event = replace(event, result=land_citations(event.result, question.strip()))
        yield event


def answer_events(
    question: str,
    *,
    hits: HitSource,
    chat: ChatClient | None,
    tools: Sequence[Tool] = (),
    prompts_dir: Path | None = None,
    prompt_name: str = PROMPT_NAME,
    prompt_vars: Mapping[str, Any] | None = None,
    today: date | None = None,
    timeout: float | None = None,
    max_context_chars: int = DEFAULT_MAX_CHARS,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    max_tokens: int | None = None,
    temperature: float | None = None,
    fallback_passages: int = FALLBACK_PASSAGES,
    stream: bool = True,
) -> Iterator[AnswerEvent]:
    """Answer `question` as events: `sources`, then `reasoning`/`answer` deltas (`reset` and `tool`
    where they apply), then `done` with the final `AnswerResult` (always last, always once).

    Args:
        hits: the retrieved passages (ranked), or a zero-argument callable that retrieves them.
        chat: the answering model; None gives a retrieval-only answer.
        tools: functions the model may call (results are citable, see app/answer/tools.py).
        prompt_name / prompt_vars: prompt files `<prompt_name>.<role>.md` and variables beyond
            `today`, `context`, `question` they declare.
        timeout: deadline of the LLM part in seconds (default: the client's timeout).
        stream: False asks the model without streaming (no deltas are yielded).

    Raises:
        InvalidInputError: an empty question.
        ConfigError: a broken prompt file. Retrieval errors propagate from `hits()`.
    """
    started = time.monotonic()
    question = (question or "").strip()
    if not question:
        raise InvalidInputError("question: it is empty")
    found = hits() if callable(hits) else hits
    retrieved = time.monotonic()
    timings: dict[str, float] = {"retrieval_ms": _ms(retrieved - started)}
    ctx = build_context(list(found), max_chars=max_context_chars)
    space = CitationSpace(ctx.blocks)
    yield AnswerEvent("sources", blocks=ctx.blocks)

    def finish(result_timings: dict[str, float]) -> dict[str, float]:
        result_timings["total_ms"] = _ms(time.monotonic() - started)
        return result_timings

    if not ctx.blocks and not (tools and chat is not None):
        yield AnswerEvent(
            "done",
            result=retrieval_only((), "no passages matched the question", timings=finish(timings)),
        )
        return
    if chat is None:
        yield AnswerEvent(
            "done",
            result=retrieval_only(
                ctx.blocks, NO_LLM_NOTICE, passages=fallback_passages, timings=finish(timings)
            ),
        )
        return

    prompt = load_prompt(prompt_name, prompts_dir)
    values: dict[str, Any] = {"today": (today or date.today()).isoformat()}
    values.update({"context": ctx.text or NO_CONTEXT, "question": question})
    values.update(prompt_vars or {})
    messages: list[Any] = prompt.render(**{k: v for k, v in values.items() if k in prompt.variables})
    meta: dict[str, Any] = {
        "model": chat.model, "prompt_name": prompt.name, "prompt_sha256": prompt.sha256,
    }

    state = LoopState()
    filt = CitationFilter(space.by_number().keys())
    streamed = False  # answer text was sent in the current turn
    new_turn = False  # the next reasoning delta starts a new model turn (after tool results)
    reasoning: list[str] = []

    def think(text: str, *, part: bool = False) -> None:
        """Collect reasoning: stream deltas join as they are, separate pieces on new lines."""
        if reasoning and not part:
            reasoning.append("\n")
        reasoning.append(text)

    llm_started = time.monotonic()
    deadline = llm_started + (chat.timeout if timeout is None else timeout)
    final: ChatDone | None = None
    try:
        for item in tool_loop(
            chat, messages, tools=tools, space=space, deadline=deadline, stream=stream,
            state=state, max_rounds=max_rounds, max_tokens=max_tokens, temperature=temperature,
        ):
            if isinstance(item, ChatDelta):
                if item.channel == "answer":
                    shown = filt.feed(item.text)
                    if shown:
                        if not streamed:
                            timings.setdefault("first_token_ms", _ms(time.monotonic() - llm_started))
                        streamed = True
                        yield AnswerEvent("answer", text=shown)
                elif item.channel == "reasoning":
                    think(item.text, part=not new_turn)
                    new_turn = False
                    yield AnswerEvent("reasoning", text=item.text)
                else:  # reset: what looked like answer was reasoning
                    filt = CitationFilter(space.by_number().keys())
                    if streamed:
                        streamed = False
                        yield AnswerEvent("reset")
            elif isinstance(item, ToolRound):
                if not stream and item.done.reasoning:
                    think(item.done.reasoning)
                if item.done.answer:  # text before a tool call is thinking aloud, not the answer
                    think(item.done.answer)
                    yield AnswerEvent("reasoning", text=item.done.answer)
                if streamed:
                    streamed = False
                    yield AnswerEvent("reset")
                for trace in item.traces:
                    yield AnswerEvent("tool", tool=trace)
                new_turn = True
                filt = CitationFilter(space.by_number().keys())
            else:
                final = item
    except UpstreamError as exc:
        timings["llm_ms"] = _ms(state.llm_seconds)
        if streamed:
            yield AnswerEvent("reset")
        yield AnswerEvent(
            "done",
            result=retrieval_only(
                space.blocks, f"the language model failed: {exc}", passages=fallback_passages,
                error_code=str(exc.code), reasoning="".join(reasoning).strip(),
                tool_calls=tuple(state.traces), timings=finish(timings), usage=dict(state.usage),
                **meta,
            ),
        )
        return
    timings["llm_ms"] = _ms(state.llm_seconds)
    assert final is not None  # tool_loop always ends with a ChatDone or raises
    if not stream and final.reasoning:
        think(final.reasoning)
    tail = filt.flush()
    if stream and tail.strip():
        yield AnswerEvent("answer", text=tail)
    meta["model"] = final.model or chat.model
    checked = check_citations(final.answer, space.by_number())
    if not checked.text:
        if streamed:
            yield AnswerEvent("reset")
        yield AnswerEvent(
            "done",
            result=retrieval_only(
                space.blocks, "the language model returned an empty answer",
                passages=fallback_passages, error_code="llm_empty",
                reasoning="".join(reasoning).strip(), tool_calls=tuple(state.traces),
                timings=finish(timings), usage=dict(state.usage), **meta,
            ),
        )
        return
    if not stream:
        yield AnswerEvent("answer", text=checked.text)
    incomplete = _incomplete(final)
    if incomplete is not None:
        meta.update(notice=incomplete[1], error_code=incomplete[0])
    yield AnswerEvent(
        "done",
        result=AnswerResult(
            answer=checked.text,
            mode="llm",
            citations=checked.citations,
            uncited=checked.uncited,
            reasoning="".join(reasoning).strip(),
            offered=tuple(space.blocks),
            dropped_citations=checked.dropped,
            tool_calls=tuple(state.traces),
            timings=finish(timings),
            usage=dict(state.usage),
            **meta,
        ),
    )


def _incomplete(final: ChatDone) -> tuple[str, str] | None:
    """(code, notice) when the model's answer did not end normally: the stream stopped without
    a finish reason (cut by the server or a proxy), or the token limit ended it."""
    if final.tool_calls:
        return None
    if final.finish_reason is None:
        return ("llm_cut_off", "the language model's answer was cut off before it finished; "
                               "what arrived is shown")
    if final.finish_reason == "length":
        return ("llm_length", "the answer reached the length limit (HOMERAG_LLM_MAX_TOKENS) "
                              "and may be incomplete")
    return None


def answer_question(
    question: str,
    *,
    hits: HitSource,
    chat: ChatClient | None,
    tools: Sequence[Tool] = (),
    prompts_dir: Path | None = None,
    stream: bool = False,
    **options: Any,
) -> AnswerResult:
    """The final `AnswerResult` of `stream_answer` (same options; by default the model is asked
    without streaming)."""
    events = stream_answer(
        question, hits=hits, chat=chat, tools=tools, prompts_dir=prompts_dir, stream=stream, **options
    )
    for event in events:
        if event.type == "done" and event.result is not None:
            return event.result
    raise AssertionError("stream_answer ended without a done event")  # pragma: no cover
