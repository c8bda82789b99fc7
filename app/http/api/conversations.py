"""Conversations API: ask within a conversation (follow-ups rewritten against the earlier
turns), list, read, export as Markdown, delete. The web form streams from
POST /api/conversations/ask with `Accept: text/event-stream` (the events of /api/ask plus
`rewrite`, how the question was understood, and `conversation`, where the turn was stored)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import Field

from app.http.api.ask import sse_response, wants_stream
from app.http.deps import FilterFields, RuntimeDep
from app.services import conversations as service

router = APIRouter(prefix="/api/conversations", tags=["conversations"])


class TurnBody(FilterFields):
    """A question, the conversation it continues (none: a new one), and search filters."""

    question: str = Field(description="The question or follow-up ('and in October?').")
    conversation_id: int | None = Field(default=None, description="Continue this conversation.")
    top_k: int | None = Field(default=None, ge=1, le=50, description="Default HOMERAG_TOP_K.")


def turn_stream(rt: Any, body: TurnBody) -> Response:
    """Stream the turn; the first event (the rewrite) is taken before the response starts, so an
    unknown conversation or an empty question is an ordinary error response."""
    from app.services.ask import ask_turn_stream

    return sse_response(ask_turn_stream(rt, body.question, conversation_id=body.conversation_id,
                                        filters=body.to_filters(), top_k=body.top_k,
                                        origin="web"))


@router.post("/ask", summary="Ask within a conversation (JSON, or server-sent events)",
             responses={200: {"content": {"application/json": {}, "text/event-stream": {}}}})
def ask_turn(body: TurnBody, request: Request, rt: RuntimeDep) -> Response:
    """`{result, rewrite: {standalone, carried, mode, ...}, conversation: {id, turn}}`; with
    `Accept: text/event-stream`, streamed."""
    if wants_stream(request):
        return turn_stream(rt, body)
    from app.services.ask import ask_turn as answer

    result, rewrite, stored = answer(rt, body.question, conversation_id=body.conversation_id,
                                     filters=body.to_filters(), top_k=body.top_k, origin="api")
    return JSONResponse({"result": result.to_json(), "rewrite": rewrite,
                         "conversation": stored})


@router.get("", summary="Stored conversations, most recently continued first")
def list_all(rt: RuntimeDep, limit: Annotated[int, Query(ge=1, le=service.MAX_LIST_LIMIT)]
             = service.DEFAULT_LIST_LIMIT) -> list[dict[str, Any]]:
    return service.list_conversations(rt, limit=limit)


@router.get("/{conversation_id}", summary="One conversation with every turn and its citations")
def get_one(conversation_id: int, rt: RuntimeDep) -> dict[str, Any]:
    return service.get_conversation(rt, conversation_id)


@router.get("/{conversation_id}/markdown", summary="The conversation as Markdown",
            response_class=PlainTextResponse,
            responses={200: {"content": {"text/markdown": {}}}})
def export(conversation_id: int, rt: RuntimeDep, download: bool = False) -> Response:
    text = service.export_markdown(rt, conversation_id)
    headers = ({"Content-Disposition": f'attachment; filename="conversation-{conversation_id}.md"'}
               if download else None)
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8", headers=headers)


@router.delete("/{conversation_id}", status_code=204, summary="Delete a conversation")
def delete(conversation_id: int, rt: RuntimeDep) -> Response:
    service.delete_conversation(rt, conversation_id)
    return Response(status_code=204)
