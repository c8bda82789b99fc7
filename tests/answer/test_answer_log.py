"""`log_answer` writes the answers table on the real embedded PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from app.answer.log import log_answer
from app.answer.service import answer_question
from app.answer.tools import FunctionTool, ToolResult
from app.answer.types import Citable
from app.core.config import LLMEndpoint
from app.core.models.core import Answer
from app.llm.client import OpenAIChatClient
from app.retrieval.types import Hit
from tests.openai_stub import Reply, ToolCall, tool_then_answer


def make_hits() -> list[Hit]:
    return [
        Hit(chunk_id=7 + i, document_id=1, score=1.0, text=f"passage {i}", path="/d/a.pdf", title="A", page=i)
        for i in range(3)
    ]


def test_llm_answer_is_logged_with_prompt_model_and_chunks(session, openai_stub):
    row_tool = FunctionTool(
        name="rows", description="d", parameters={"type": "object"},
        fn=lambda args: ToolResult(
            data={"n": 1},
            citables=[Citable(text="row", path="/bank/x.csv", kind="transaction", document_id=3, location={"row": 4})],
        ),
    )
    openai_stub.reply_with(tool_then_answer([ToolCall("rows", {})], lambda req: "Answer [2][4][9]."))
    chat = OpenAIChatClient(LLMEndpoint(base_url=openai_stub.base_url, model="served-model", api_key=None, timeout=20))
    result = answer_question("What?", hits=make_hits(), chat=chat, tools=[row_tool])
    row = log_answer(session, result, "What?")
    assert row.id is not None
    stored = session.scalars(select(Answer).where(Answer.id == row.id)).one()
    assert (stored.question, stored.mode, stored.answer) == ("What?", "llm", "Answer [1][2].")
    assert (stored.prompt_name, stored.model) == ("answer", "served-model")
    assert stored.prompt_sha256 == result.prompt_sha256 and len(stored.prompt_sha256) == 64
    assert stored.offered_chunk_ids == [7, 8, 9]
    assert stored.cited_chunk_ids == [8]
    assert stored.latency_ms is not None and stored.llm_ms is not None and stored.error_code is None
    assert stored.meta["dropped_citations"] == [9]
    # Renumbered by first citation (the model's [2][4] became [1][2]).
    assert stored.meta["cited_numbers"] == [1, 2]
    assert stored.meta["offered_other"] == [{"n": 2, "kind": "transaction", "document_id": 3, "row": 4}]
    assert stored.meta["tool_calls"][0]["name"] == "rows"


def test_retrieval_only_answer_is_logged_with_error_code(session, openai_stub):
    openai_stub.reply_with(Reply(status=503))
    chat = OpenAIChatClient(LLMEndpoint(base_url=openai_stub.base_url, model="m", api_key=None, timeout=20))
    result = answer_question("What?", hits=make_hits(), chat=chat)
    row = log_answer(session, result, "What?")
    session.expire_all()
    stored = session.get(Answer, row.id)
    assert stored.mode == "retrieval-only" and stored.error_code == "llm_unavailable"
    assert stored.cited_chunk_ids == [7, 8, 9] and stored.meta["notice"].startswith("the language model failed")
