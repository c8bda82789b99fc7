"""Separate model reasoning from answer text in a stream (pure).

MiniMax-M2 models think in `<think>…</think>` inside the content. Depending on how vLLM serves them
the opening tag may be missing (the chat template opens it: "reasoning</think>answer"), present
("<think>reasoning</think>answer", the append-think parser), or the reasoning arrives apart as
`reasoning_content` deltas (a reasoning parser). Tags can be split across chunks, blocks can
interleave with answer text, and the last block may never close.

`ThinkSplitter` handles all of these. Its segments are `answer`, `reasoning`, or `reset`: a `reset`
says the answer text emitted so far was in fact reasoning (a closing tag arrived with no opening
one); it is followed by that text on the reasoning channel. However the stream is chunked, the final
`answer` and `reasoning` are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

OPEN = "<think>"
CLOSE = "</think>"
Channel = Literal["answer", "reasoning", "reset"]


@dataclass(frozen=True, slots=True)
class Segment:
    channel: Channel
    text: str


def _held_suffix(buf: str) -> int:
    """Length of the longest end of `buf` that could be the start of a tag."""
    for size in range(min(len(buf), len(CLOSE) - 1), 0, -1):
        tail = buf[-size:]
        if OPEN.startswith(tail) or CLOSE.startswith(tail):
            return size
    return 0


class ThinkSplitter:
    """Feed content deltas (`feed`) and reasoning deltas (`feed_reasoning`); then `finish`."""

    def __init__(self) -> None:
        self._in_think = False
        self._seen_tag = False
        self._buf = ""
        self._answer: list[str] = []
        self._reasoning: list[str] = []
        self._answer_started = False  # leading whitespace of the answer is dropped
        self._block_started = False  # a think block has produced text (for "\n" between blocks)

    @property
    def answer(self) -> str:
        return "".join(self._answer)

    @property
    def reasoning(self) -> str:
        return "".join(self._reasoning)

    def feed_reasoning(self, text: str) -> list[Segment]:
        """A `reasoning_content` delta: reasoning as is."""
        if not text:
            return []
        self._reasoning.append(text)
        return [Segment("reasoning", text)]

    def feed(self, text: str) -> list[Segment]:
        """A content delta; returns what can be emitted now (a partial tag is held back)."""
        buf = self._buf + text
        out: list[Segment] = []
        while buf:
            cut_open = -1 if self._in_think else buf.find(OPEN)
            cut_close = buf.find(CLOSE)
            cuts = [c for c in (cut_open, cut_close) if c >= 0]
            if not cuts:
                keep = _held_suffix(buf)
                self._emit(buf[: len(buf) - keep], out)
                buf = buf[len(buf) - keep :]
                break
            cut = min(cuts)
            self._emit(buf[:cut], out)
            if cut == cut_open:
                buf = buf[cut + len(OPEN) :]
                self._in_think, self._seen_tag, self._block_started = True, True, False
            else:
                buf = buf[cut + len(CLOSE) :]
                if not self._in_think and not self._seen_tag:
                    out.extend(self._retract())
                self._in_think, self._seen_tag = False, True
        self._buf = buf
        return out

    def finish(self) -> list[Segment]:
        """End of stream: a held partial tag is plain text; an open think block stays reasoning."""
        out: list[Segment] = []
        rest, self._buf = self._buf, ""
        self._emit(rest, out)
        return out

    def _emit(self, text: str, out: list[Segment]) -> None:
        if not text:
            return
        if self._in_think:
            if not self._block_started:
                self._block_started = True
                if self._reasoning:
                    text = "\n" + text
            self._reasoning.append(text)
            out.append(Segment("reasoning", text))
            return
        if not self._answer_started:
            text = text.lstrip()
            if not text:
                return
            self._answer_started = True
        self._answer.append(text)
        out.append(Segment("answer", text))

    def _retract(self) -> list[Segment]:
        """A closing tag with no opening one: everything so far was reasoning."""
        moved = "".join(self._answer)
        self._answer.clear()
        self._answer_started = False
        out = [Segment("reset", "")]
        if moved:
            if self._reasoning:
                moved = "\n" + moved
            self._reasoning.append(moved)
            out.append(Segment("reasoning", moved))
        return out


def split_thinking(text: str) -> tuple[str, str]:
    """(answer, reasoning) of a whole content string."""
    s = ThinkSplitter()
    s.feed(text)
    s.finish()
    return s.answer, s.reasoning
