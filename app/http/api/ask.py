"""POST /api/ask: a cited answer as JSON, or streamed as server-sent events.

Streaming: `Accept: text/event-stream` on /api/ask, or /api/ask/stream (POST with a JSON body, or
GET with query parameters for `EventSource`). Each event is `event: <type>` + `data: <json>`,
types `sources`, `reasoning`, `answer`, `reset`, `tool`, `done` (the final result) and `error`
(a problem detail: `status`, `code`, `detail`). Every `data` object repeats its event type.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Generator, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from app.http.deps import FiltersDep, RuntimeDep
from app.http.errors import stream_failure
from app.http.schemas import AskBody
from app.services.runtime import Runtime
from app.services.search import SearchFilters

router = APIRouter(prefix="/api", tags=["ask"])

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
ASK_EXAMPLE = {
    "answer": "The notice period is three months [1].",
    "mode": "llm",
    "citations": [{"n": 1, "chunk_id": 17, "document_id": 4, "path": "/home/me/docs/gym.pdf",
                   "title": "Gym contract", "page": 2,
                   "text": "The notice period is three months."}],
    "uncited": False,
    "notice": None,
}


def sse(event: str, data: Any) -> str:
    """One server-sent event; JSON never contains a raw newline, so one data line suffices."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


def answer_events(rt: Runtime, question: str, *, filters: SearchFilters,
                  top_k: int | None) -> Iterator[Any]:
    from app.services.ask import ask_stream

    return ask_stream(rt, question, filters=filters, top_k=top_k)


def event_stream(rt: Runtime, question: str, *, filters: SearchFilters,
                 top_k: int | None) -> StreamingResponse:
    """Start the answer and stream it. The first event is taken before the response starts, so
    an empty question, a bad filter or an empty index is still an ordinary error response."""
    return sse_response(answer_events(rt, question, filters=filters, top_k=top_k))


def sse_response(events: Iterator[Any]) -> StreamingResponse:
    """Server-sent events of an answer's event iterator (`.type`, `.to_json()`). The first
    event is taken here, before the response starts, so a failure that comes before any
    output is an ordinary error response; a later one goes out as an `error` event."""
    first = next(events, None)

    def frames() -> Iterator[str]:
        try:
            for event in itertools.chain([first] if first is not None else [], events):
                yield sse(event.type, event.to_json())
        except Exception as exc:  # the status line is sent: the failure goes out as an event
            yield sse("error", {**stream_failure(exc), "type": "error"})
        finally:
            if isinstance(events, Generator):
                events.close()  # ends the answer (and frees its LLM slot) on a dropped client

    return StreamingResponse(frames(), media_type="text/event-stream", headers=SSE_HEADERS)


def wants_stream(request: Request) -> bool:
    return "text/event-stream" in request.headers.get("accept", "")


@router.post(
    "/ask",
    summary="Answer a question with citations",
    responses={200: {"content": {"application/json": {"example": ASK_EXAMPLE},
                                 "text/event-stream": {}}}},
)
def ask_post(body: AskBody, request: Request, rt: RuntimeDep) -> Response:
    """`{answer, mode: "llm"|"retrieval-only", citations: [{n, chunk_id, document_id, path,
    title, page, text}], uncited, notice, ...}`; with `Accept: text/event-stream`, streamed."""
    filters = body.to_filters()
    if wants_stream(request):
        return event_stream(rt, body.question, filters=filters, top_k=body.top_k)
    from app.services.ask import ask

    result = ask(rt, body.question, filters=filters, top_k=body.top_k)
    return JSONResponse(result.to_json())


@router.post("/ask/stream", summary="Answer a question, streamed (server-sent events)",
             response_class=StreamingResponse,
             responses={200: {"content": {"text/event-stream": {}}}})
def ask_stream_post(body: AskBody, rt: RuntimeDep) -> StreamingResponse:
    """The answer as server-sent events (see the module documentation for the event types)."""
    return event_stream(rt, body.question, filters=body.to_filters(), top_k=body.top_k)


@router.get("/ask/stream", summary="Answer a question, streamed (for EventSource)",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
def ask_stream_get(
    rt: RuntimeDep,
    filters: FiltersDep,
    question: Annotated[str, Query(alias="q", description="The question.")] = "",
    top_k: Annotated[int | None, Query(ge=1, le=50)] = None,
) -> StreamingResponse:
    """Like POST /api/ask/stream, with the question in `q` and filters as query parameters."""
    return event_stream(rt, question, filters=filters, top_k=top_k)
