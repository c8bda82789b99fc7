"""Follow-up questions rewritten by the configured LLM (prompt `rewrite`), with the deterministic
carry-over (`app.money.followup`) as the fallback when the model is absent, fails or replies
with something that is not the JSON asked for. LLM I/O through the given client."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.errors import UpstreamError
from app.llm.prompts import load_prompt
from app.money.followup import Rewrite, TurnState, carry_over, describe_money
from app.money.nlq import parse_money_question

if TYPE_CHECKING:
    from app.core.chat import ChatClient

PROMPT_NAME = "rewrite"
# The variables this module fills (tests/answer/test_prompts.py checks the prompt files).
PROMPT_VARIABLES = {PROMPT_NAME: frozenset({"today", "history", "question"})}
HISTORY_TURNS = 6
ANSWER_EXCERPT = 400
MAX_TOKENS = 300
MAX_STANDALONE = 1000
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


@dataclass(frozen=True, slots=True)
class PastTurn:
    """An earlier turn as the rewriting model sees it."""

    question: str
    answer: str
    state: TurnState


def render_history(turns: Sequence[PastTurn]) -> str:
    """The last turns as numbered plain text (question, how it was understood, filters, answer)."""
    blocks = []
    shown = list(turns)[-HISTORY_TURNS:]
    first = len(turns) - len(shown) + 1
    for i, turn in enumerate(shown, start=first):
        lines = [f"Turn {i}", f"Question: {turn.question}"]
        if turn.state.standalone != turn.question:
            lines.append(f"Understood as: {turn.state.standalone}")
        if turn.state.money is not None:
            lines.append(f"Money filters: {describe_money(turn.state.money)}")
        if turn.state.documents:
            lines.append("Documents cited: " + ", ".join(map(str, turn.state.documents)))
        answer = " ".join(turn.answer.split())
        if len(answer) > ANSWER_EXCERPT:
            answer = answer[:ANSWER_EXCERPT].rsplit(" ", 1)[0] + " …"
        lines.append(f"Answer: {answer}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def parse_reply(text: str) -> tuple[str, bool]:
    """(standalone question, same documents) from the model's reply; ValueError if unusable."""
    m = _JSON_OBJECT.search(text or "")
    if not m:
        raise ValueError("the rewrite is not a JSON object")
    try:
        data = json.loads(m.group(0))
    except json.JSONDecodeError as exc:
        raise ValueError(f"the rewrite is not valid JSON ({exc.msg})") from None
    standalone = data.get("standalone") if isinstance(data, dict) else None
    if not isinstance(standalone, str) or not standalone.strip():
        raise ValueError("the rewrite has no standalone question")
    return " ".join(standalone.split())[:MAX_STANDALONE], bool(data.get("same_documents"))


def rewrite_question(question: str, turns: Sequence[PastTurn], *, chat: ChatClient | None,
                     today: date, categories: Sequence[str] = (), merchants: Sequence[str] = (),
                     prompts_dir: Path | None = None, timeout: float | None = None) -> Rewrite:
    """The standalone form of `question`: by the LLM when there is one and history to resolve,
    else (or when it fails) by carrying the previous turn's filters over."""
    states = [t.state for t in turns]
    fallback = carry_over(question, states, today=today, categories=categories,
                          merchants=merchants)
    if chat is None or not turns:
        return fallback
    prompt = load_prompt(PROMPT_NAME, prompts_dir)
    messages = prompt.render(today=today.isoformat(), history=render_history(turns),
                             question=fallback.question)
    done = None
    try:
        done = chat.complete(messages, max_tokens=MAX_TOKENS, temperature=0.0, timeout=timeout)
        standalone, same_documents = parse_reply(done.answer)
    except (UpstreamError, ValueError) as exc:
        return replace(fallback, notice=f"the follow-up was rewritten without the language "
                                        f"model ({exc})",
                       usage=dict(done.usage) if done is not None else {})  # tokens spent
    money = parse_money_question(standalone, today=today, categories=categories,
                                 merchants=merchants)
    if money is None and fallback.money is not None and fallback.mode == "carry-over":
        money = fallback.money  # the model kept it standalone in words the parser misses
    prev = states[-1]
    documents = prev.documents if same_documents else ()
    return Rewrite(question=fallback.question, standalone=standalone, mode="llm",
                   topic=prev.topic if fallback.mode == "carry-over" else standalone,
                   money=money, documents=documents, carried=fallback.carried,
                   usage=dict(done.usage))
