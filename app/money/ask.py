"""Money questions for `ask`: deterministic answers without an LLM, and the tools for one.

- `answer_money_question(question, session, today=...)` parses the question (English/German),
  runs the typed queries and returns an `AnswerResult` whose every line cites the transactions
  behind it; None when the question is not a money question (the caller then retrieves).
- `money_tools(session, today=...)` are the OpenAI-style tools for the LLM path (`tools.py`).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from app.answer.types import AnswerResult, Citation, ContextBlock
from app.core.models import Transaction
from app.money.evidence import ASKS_FOR_EVIDENCE, with_evidence
from app.money.facts import MoneyAnswer, execute, known_vocabulary, tx_citable
from app.money.nlq import parse_money_question

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.answer.tools import Tool

NOTICE = "Computed from your imported bank statements (no language model involved)."


def markers(numbers: list[int]) -> str:
    """"[1]", "[1][2]" or "[1-25]" for consecutive runs."""
    if not numbers:
        return ""
    nums = sorted(set(numbers))
    out, start, prev = [], nums[0], nums[0]
    for n in [*nums[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(f"[{start}]" if start == prev else
                   f"[{start}][{prev}]" if prev == start + 1 else f"[{start}-{prev}]")
        if n is not None:
            start = prev = n
    return "".join(out)


def to_answer(result: MoneyAnswer) -> AnswerResult:
    """Number the cited transactions in order of appearance and write the answer text."""
    order = result.cited_ids()
    number = {tx_id: n for n, tx_id in enumerate(order, start=1)}
    lines = []
    for i, fact in enumerate(result.lines):
        cited = [number[t] for t in fact.ids if t in number]
        text = fact.text + (" " + markers(cited) if cited else "")
        prefix = "- " if i and len(result.lines) > 2 else ""
        lines.append(prefix + text)
    blocks = []
    citations = []
    for tx_id in order:
        citable = tx_citable(result.rows[tx_id])
        blocks.append(ContextBlock(n=number[tx_id], citable=citable, shown=citable.text))
        citations.append(Citation(n=number[tx_id], citable=citable))
    return AnswerResult(answer="\n".join(lines), mode="retrieval-only", citations=citations,
                        uncited=not citations, notice=NOTICE, offered=blocks)


def answer_money_question(question: str, session: Session, *, today: date) -> AnswerResult | None:
    """A cited, computed answer to a money question; None when it is not one we can parse."""
    categories, merchants = known_vocabulary(session)
    mq = parse_money_question(question, today=today, categories=categories, merchants=merchants)
    if mq is None:
        return None
    if not session.scalar(select(func.count()).select_from(Transaction)):
        return AnswerResult(
            answer="I can't answer money questions yet: no bank statements have been imported. "
                   "Add OFX, CAMT.053, MT940, CSV or PDF statements to a source and run "
                   "`homerag ingest`.", mode="retrieval-only", uncited=True, notice=NOTICE)
    answer = to_answer(execute(session, mq, today=today, question=question))
    if ASKS_FOR_EVIDENCE.search(question):  # "show me the invoice for this charge"
        answer = with_evidence(session, answer)
    return answer


def money_tools(session: Session, *, today: date) -> list[Tool]:
    """The OpenAI-style money tools bound to this session (`app.money.tools`: transactions;
    `app.money.holdings_tools`: portfolio, money invested, dividends)."""
    from app.money.holdings_tools import build_holdings_tools
    from app.money.tools import build_tools

    return build_tools(session, today=today) + build_holdings_tools(session, today=today)
