"""Money questions for `ask`: the service decides money intent here, never the model.

- `plan_money_question(question, session, today=...)` reads the question (English/German) into
  filters, finds the reading that matches rows (`facts.resolve`) and computes the cited answer;
  None when it is not a money question. A plan whose filters match nothing has no answer: the
  caller answers from the documents and says so (`MoneyPlan.no_match_notice`).
- Without an LLM the plan's computed answer is the answer (`MoneyPlan.computed`); with one, the
  model only words it: `MoneyPlan.citables()` are the computed result and its statement rows as
  context blocks, and `checked_llm_answer` flags any figure in its text that they do not hold.
- `answer_money_question(question, session, today=...)`: the deterministic answer in one call.
- `money_tools(sessions, today=...)`: OpenAI-style tools for questions the service does not read
  as money questions (holdings: `holdings_tools.py`; transactions: `tools.py`); given a session
  factory, each call runs in a short session of its own, so no connection is held while the
  model writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import func, select

from app.answer.types import AnswerResult, Citable, Citation, ContextBlock
from app.core.models import Transaction
from app.money.evidence import ASKS_FOR_EVIDENCE, with_evidence
from app.money.facts import MoneyAnswer, Reading, execute, known_vocabulary, resolve, tx_citable
from app.money.figures import unverified_figures
from app.money.nlq import HOLDINGS, MoneyQuery, filter_phrases, parse_money_question

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.answer.tools import Tool

NOTICE = "Computed from your imported bank statements (no language model involved)."
NO_STATEMENTS = ("I can't answer money questions yet: no bank statements have been imported. "
                 "Add OFX, CAMT.053, MT940, CSV or PDF statements to a source and run "
                 "`homerag ingest`.")
COMPUTED_PATH = "homerag: computed from your bank statements"


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


def to_answer(result: MoneyAnswer, *, start: int = 1) -> AnswerResult:
    """Number the cited transactions in order of appearance (from `start`) and write the
    answer text."""
    order = result.cited_ids()
    number = {tx_id: n for n, tx_id in enumerate(order, start=start)}
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


def _has_transactions(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Transaction)))


@dataclass(frozen=True)
class MoneyPlan:
    """How a money question is answered: the reading that ran and its computed answer.

    reading: None when no statements are imported at all. computed: the cited answer
    (numbered from 1), None when the filters match no transaction."""

    question: str
    query: MoneyQuery
    reading: Reading | None
    computed: MoneyAnswer | None

    @property
    def filters(self) -> tuple[str, ...]:
        """'payee ~ bike', 'period 2026-10' ... as run, and the words no row mentions."""
        mq = self.reading.query if self.reading else self.query
        out = filter_phrases(mq)
        if self.reading and self.reading.ignored:
            out.append("not in any transaction: " + ", ".join(self.reading.ignored))
        return tuple(out)

    @property
    def no_match_notice(self) -> str:
        if self.reading is None:
            return "No bank statements are imported, so this was answered from the documents"
        return (f"No imported transaction matches ({'; '.join(self.filters)}), so this was "
                "answered from the documents")

    def answer(self, session: Session, *, start: int = 1) -> AnswerResult:
        """The computed answer, its transactions numbered from `start` (with the linked
        receipts and invoices when the question asks for them)."""
        assert self.computed is not None
        result = to_answer(self.computed, start=start)
        if ASKS_FOR_EVIDENCE.search(self.question):  # "show me the invoice for this charge"
            result = with_evidence(session, result)
        return replace(result, filters=self.filters,
                       notice=f"{NOTICE} Filters: {'; '.join(self.filters) or 'none'}.")

    def citables(self, session: Session) -> list[Citable]:
        """What the model is given to word: the computed result first ([1], its markers point
        at the rows), then the statement rows and linked documents it cites ([2] ...)."""
        det = self.answer(session, start=2)
        head = ("Computed by homerag from the imported bank statements for this question "
                f"(filters: {'; '.join(self.filters) or 'none'}). These figures are exact: "
                "quote them as they are, never add amounts in different currencies, cite the "
                "numbered rows.\n")
        summary = Citable(text=head + det.answer, path=COMPUTED_PATH,
                          title="Computed from your bank statements", kind="computed")
        return [summary, *(b.citable for b in sorted(det.offered, key=lambda b: b.n))]


def plan_money_question(question: str, session: Session, *, today: date,
                        money_query: MoneyQuery | None = None,
                        llm: bool = False) -> MoneyPlan | None:
    """The plan for a money question (`money_query`: one already read, e.g. a follow-up's
    carried filters); None when the question is not about transactions (with `llm`, holdings
    questions are left to the model's holdings tools)."""
    if money_query is None and llm and HOLDINGS.search(question):
        return None
    if money_query is None:
        categories, merchants = known_vocabulary(session)
        money_query = parse_money_question(question, today=today, categories=categories,
                                           merchants=merchants)
    if money_query is None:
        return None
    if not _has_transactions(session):
        return MoneyPlan(question, money_query, None, None)
    reading = resolve(session, money_query)
    computed = (execute(session, reading.query, today=today, question=question)
                if reading.matched else None)
    return MoneyPlan(question, money_query, reading, computed)


def answer_money_question(question: str, session: Session, *, today: date) -> AnswerResult | None:
    """A cited, computed answer to a money question; None when it is not one we can parse.
    (Filters that match nothing answer "No transactions match"; the service answers such
    questions from the documents instead.)"""
    plan = plan_money_question(question, session, today=today)
    if plan is None:
        return None
    if plan.reading is None:
        return AnswerResult(answer=NO_STATEMENTS, mode="retrieval-only", uncited=True,
                            notice=NOTICE)
    if plan.computed is None:
        plan = replace(plan, computed=execute(session, plan.reading.query, today=today,
                                              question=question))
    return plan.answer(session)


def checked_answer(result: AnswerResult, *, sources: Iterable[str],
                   filters: Iterable[str] = (), notice: str | None = None) -> AnswerResult:
    """A model's answer with the figures no source holds flagged (`unverified_figures` and a
    notice), the filters it was computed with, and `notice` put first."""
    notices = [n for n in (notice, result.notice) if n]
    flagged: list[str] = []
    if result.mode == "llm":
        texts = [*sources, *(b.citable.text for b in result.offered)]
        flagged = unverified_figures(result.answer, texts)
        if flagged:
            notices.append("These figures are not in the computed results or the sources the "
                           f"model was given; check them: {', '.join(flagged)}")
    return replace(result, filters=tuple(filters) or tuple(result.filters),
                   unverified_figures=tuple(flagged), notice="; ".join(notices) or None)


def money_tools(sessions: Session | Callable[[], AbstractContextManager[Session]], *,
                today: date, recorded: list[str] | None = None) -> list[Tool]:
    """The OpenAI-style money tools (`app.money.tools`: transactions; `app.money.holdings_tools`:
    portfolio, money invested, dividends). `sessions`: a session the tools use, or a factory of
    sessions (`Database.session`): then each call opens its own and closes it before the model
    is asked again. `recorded` collects what each call returned, to check the answer's figures
    against."""
    from app.answer.tools import FunctionTool
    from app.money.holdings_tools import build_holdings_tools
    from app.money.tools import build_tools

    def built(session: Session) -> list[Tool]:
        return build_tools(session, today=today) + build_holdings_tools(session, today=today)

    if callable(sessions):
        factory = sessions

        def per_call(tool: Tool) -> Tool:
            def run(args: Mapping[str, Any]) -> Any:
                with factory() as session:
                    return {t.name: t for t in built(session)}[tool.name].execute(args)

            return FunctionTool(tool.name, tool.description, tool.parameters, run)

        # Built on no session only to describe themselves; every call is rebuilt on its own.
        tools = [per_call(t) for t in built(cast("Session", None))]
    else:
        tools = built(sessions)
    if recorded is None:
        return tools

    def recording(tool: Tool) -> Tool:
        def run(args):  # type: ignore[no-untyped-def]
            result = tool.execute(args)
            recorded.append(json.dumps(result.data, default=str))
            recorded.extend(c.text for c in result.citables)
            if result.render is not None:
                recorded.append(result.render(list(range(1, len(result.citables) + 1))))
            return result

        return FunctionTool(tool.name, tool.description, tool.parameters, run)

    return [recording(t) for t in tools]
