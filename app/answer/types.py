"""Data of the answering path (pure): citables, context blocks, citations, results and events.

A `Citable` is anything an answer may cite: a retrieved passage (`Citable.from_hit`) or a row a
tool produced (a transaction of issue 4). Offered citables get numbers `[n]`; the model cites them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from app.retrieval.types import Hit

Mode = Literal["llm", "retrieval-only"]
EventType = Literal["sources", "reasoning", "answer", "reset", "tool", "done"]


@dataclass(frozen=True, slots=True)
class Citable:
    """Something an answer can cite, with what a citation must name (document, page, passage).

    Attributes:
        text: the passage (or a tool row rendered as text) shown to the model and the owner.
        path: origin path/URI the owner recognises.
        kind: "chunk" for retrieved passages; tools use their own ("transaction", ...).
        label: extra human label, e.g. 'attachment of "Invoice 42" from alice@example.org'.
        location: extra place information (page_end, heading, char offsets, row, line,
            transaction_id ...); JSON-serialisable values only.
    """

    text: str
    path: str
    title: str | None = None
    page: int | None = None
    chunk_id: int | None = None
    document_id: int | None = None
    kind: str = "chunk"
    label: str | None = None
    location: Mapping[str, Any] = field(default_factory=dict)
    score: float | None = None

    @property
    def key(self) -> str:
        """Identity for de-duplication (the same chunk or row offered twice gets one number)."""
        if self.chunk_id is not None:
            return f"chunk:{self.chunk_id}"
        loc = json.dumps(dict(self.location), sort_keys=True, default=str)
        return f"{self.kind}:{self.document_id}:{self.path}:{self.page}:{loc}:{self.text[:200]}"

    @classmethod
    def from_hit(cls, hit: Hit) -> Citable:
        from app.answer.context import parent_label  # local: context imports this module

        location: dict[str, Any] = {}
        if hit.page_end is not None and hit.page_end != hit.page:
            location["page_end"] = hit.page_end
        if hit.heading:
            location["heading"] = hit.heading
        if hit.char_end:
            location["char_start"] = hit.char_start
            location["char_end"] = hit.char_end
        if hit.occurred_at is not None:
            location["date"] = hit.occurred_at.date().isoformat()
        if hit.parent_id is not None:
            location["parent_id"] = hit.parent_id
        return cls(
            text=hit.text,
            path=hit.path,
            title=hit.title,
            page=hit.page,
            chunk_id=hit.chunk_id,
            document_id=hit.document_id,
            kind="chunk",
            label=parent_label(hit.metadata) if hit.parent_id is not None or hit.metadata else None,
            location=location,
            score=hit.score,
        )


@dataclass(frozen=True, slots=True)
class ContextBlock:
    """A numbered citable as offered to the model; `shown` is the (possibly shortened) text."""

    n: int
    citable: Citable
    shown: str
    span: tuple[int, int] | None = None  # see Citation
    snippet: str | None = None

    @property
    def truncated(self) -> bool:
        return len(self.shown) < len(self.citable.text)

    def to_json(self) -> dict[str, Any]:
        return {**citation_json(self.n, self.citable, span=self.span, snippet=self.snippet),
                "truncated": self.truncated}


def citation_url(c: Citable, span: tuple[int, int] | None = None) -> str | None:
    """Where a citation lands: the document page scrolled to the passage (`chunk`) and its
    supporting sentences (`span`, document offsets), or to a statement's row or line."""
    if c.document_id is None:
        return None
    base = f"/documents/{c.document_id}"
    if c.chunk_id is not None:
        query = f"?chunk={c.chunk_id}" + (f"&span={span[0]}-{span[1]}" if span else "")
        return f"{base}{query}#passage"
    for unit in ("row", "line"):
        value = c.location.get(unit) if c.location else None
        if isinstance(value, int) and not isinstance(value, bool):
            # A PDF statement numbers its lines per page: the page says which one.
            on_page = f"page={c.page}&" if unit == "line" and c.page else ""
            return f"{base}?{on_page}{unit}={value}#passage"
    return base


def citation_json(n: int, c: Citable, *, span: tuple[int, int] | None = None,
                  snippet: str | None = None) -> dict[str, Any]:
    """The stable JSON shape of one citation (CLI `ask --json`, API).

    `span`: [start, end) of the supporting sentences in the document's text (null when not
    located); `snippet`: those sentences as a short text (else the passage's start); `url`: the
    document page that marks them.
    """
    out: dict[str, Any] = {
        "n": n,
        "chunk_id": c.chunk_id,
        "document_id": c.document_id,
        "path": c.path,
        "title": c.title,
        "page": c.page,
        "text": c.text,
        "kind": c.kind,
        "span": list(span) if span else None,
        "snippet": snippet if snippet is not None else _start_of(c.text),
        "url": citation_url(c, span),
    }
    if c.label:
        out["label"] = c.label
    if c.location:
        out["location"] = dict(c.location)
    return out


def _start_of(text: str, limit: int = 320) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 2].rsplit(" ", 1)[0] + " …"


@dataclass(frozen=True, slots=True)
class Citation:
    """One number the answer cites, resolved to what was offered under it."""

    n: int
    citable: Citable
    # [start, end) of the sentences that support the answer, in the document's text
    # (app/answer/spans.py); None when not located (tool rows, no overlap).
    span: tuple[int, int] | None = None
    snippet: str | None = None

    @property
    def chunk_id(self) -> int | None:
        return self.citable.chunk_id

    @property
    def url(self) -> str | None:
        return citation_url(self.citable, self.span)

    def to_json(self) -> dict[str, Any]:
        return citation_json(self.n, self.citable, span=self.span, snippet=self.snippet)


@dataclass(frozen=True, slots=True)
class ToolTrace:
    """One tool call the service executed for the model (for logs and the UI)."""

    name: str
    arguments: Mapping[str, Any] | str
    ok: bool
    numbers: tuple[int, ...] = ()
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "arguments": self.arguments,
            "ok": self.ok,
            "numbers": list(self.numbers),
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class AnswerResult:
    """A finished answer: text, mode, what it cites, and what is needed to debug it later."""

    answer: str
    mode: Mode
    citations: Sequence[Citation] = ()
    uncited: bool = False
    reasoning: str = ""
    notice: str | None = None
    offered: Sequence[ContextBlock] = ()
    dropped_citations: Sequence[int] = ()
    error_code: str | None = None
    model: str | None = None
    prompt_name: str | None = None
    prompt_sha256: str | None = None
    timings: Mapping[str, float] = field(default_factory=dict)
    tool_calls: Sequence[ToolTrace] = ()
    # Tokens the model reported (prompt_tokens, completion_tokens ...), summed over tool rounds.
    usage: Mapping[str, int] = field(default_factory=dict)
    # Money answers: the filters the question was read as ("payee ~ bike", "period 2026-10"),
    # and figures in the answer that no computed result or offered source contains.
    filters: Sequence[str] = ()
    unverified_figures: Sequence[str] = ()

    def to_json(self) -> dict[str, Any]:
        """`{answer, mode, citations: [{n, chunk_id, document_id, path, title, page, text}]}` + extras."""
        return {
            "answer": self.answer,
            "mode": self.mode,
            "citations": [c.to_json() for c in self.citations],
            "uncited": self.uncited,
            "notice": self.notice,
            "reasoning": self.reasoning,
            "dropped_citations": list(self.dropped_citations),
            "error_code": self.error_code,
            "model": self.model,
            "prompt": {"name": self.prompt_name, "sha256": self.prompt_sha256},
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
            "tool_calls": [t.to_json() for t in self.tool_calls],
            "usage": dict(self.usage),
            "filters": list(self.filters),
            "unverified_figures": list(self.unverified_figures),
            # Every passage offered, numbered as the answer's markers are (cited ones first).
            "offered": [b.to_json() for b in self.offered],
        }


@dataclass(frozen=True, slots=True)
class AnswerEvent:
    """One event of a streamed answer.

    Types: `sources` (data: offered blocks), `reasoning` / `answer` (text deltas), `reset`
    (discard the answer text streamed so far: it turned out to be reasoning, or a tool round, or
    the LLM failed and a retrieval-only answer follows), `tool` (a tool call executed), `done`
    (result: the final AnswerResult, whose `answer` is authoritative).
    """

    type: EventType
    text: str = ""
    blocks: Sequence[ContextBlock] = ()
    tool: ToolTrace | None = None
    result: AnswerResult | None = None

    def to_json(self) -> dict[str, Any]:
        if self.type == "sources":
            return {"type": "sources", "sources": [b.to_json() for b in self.blocks]}
        if self.type == "tool" and self.tool is not None:
            return {"type": "tool", "tool": self.tool.to_json()}
        if self.type == "done" and self.result is not None:
            return {"type": "done", "result": self.result.to_json()}
        return {"type": self.type, "text": self.text}
