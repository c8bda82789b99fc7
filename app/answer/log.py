"""Write one `answers` row per answer (database I/O; the caller owns the transaction)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.models.core import Answer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.answer.types import AnswerResult


def log_answer(session: Session, result: AnswerResult, question: str) -> Answer:
    """Add the answer's log row (prompt, model, offered and cited chunks, timings) and flush it."""
    offered = [b.citable.chunk_id for b in result.offered if b.citable.chunk_id is not None]
    cited = [c.chunk_id for c in result.citations if c.chunk_id is not None]
    other = [
        {"n": b.n, "kind": b.citable.kind, "document_id": b.citable.document_id, **dict(b.citable.location)}
        for b in result.offered
        if b.citable.chunk_id is None
    ]
    row = Answer(
        question=question,
        mode=result.mode,
        answer=result.answer,
        prompt_name=result.prompt_name,
        prompt_sha256=result.prompt_sha256,
        model=result.model,
        offered_chunk_ids=list(dict.fromkeys(offered)),
        cited_chunk_ids=list(dict.fromkeys(cited)),
        latency_ms=result.timings.get("total_ms"),
        llm_ms=result.timings.get("llm_ms"),
        prompt_tokens=result.usage.get("prompt_tokens"),
        completion_tokens=result.usage.get("completion_tokens"),
        first_token_ms=result.timings.get("first_token_ms"),
        error_code=result.error_code,
        meta={
            "uncited": result.uncited,
            "notice": result.notice,
            "cited_numbers": [c.n for c in result.citations],
            "dropped_citations": list(result.dropped_citations),
            "offered_other": other,
            "tool_calls": [t.to_json() for t in result.tool_calls],
            "timings": {k: round(v, 2) for k, v in result.timings.items()},
        },
    )
    session.add(row)
    session.flush()
    return row
