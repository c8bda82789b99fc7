"""Optional LLM narrative on top of a spending report: it may only restate the numbered facts
(totals and flagged items) and must cite them. Anything else falls back to no narrative.

Checks on the model's text: at least one valid citation, no citation of a fact never offered,
and every number in it must appear in the facts (the model computes nothing).
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from app.answer.citations import check_citations
from app.answer.types import Citable
from app.core.errors import HomeragError

if TYPE_CHECKING:
    from app.llm.client import ChatClient

PROMPT_VARIABLES = {"report": frozenset({"period", "facts"})}
_NUMBER = re.compile(r"\d[\d.,]*\d|\d")


def report_facts(content: dict[str, Any]) -> list[str]:
    """The numbered facts offered to the model: totals first, then flags in report order."""
    facts = [f"Total: spent {t['spent']} {t['currency']} in {t['count']} transactions, income "
             f"{t['income']} {t['currency']}." for t in content["totals"]]
    facts += [f["reason"] + "." for f in content["flags"][:10]]
    return facts


def _numbers(text: str) -> set[str]:
    return {m.group(0).rstrip(".,") for m in _NUMBER.finditer(text)}


def write_narrative(content: dict[str, Any], chat: ChatClient, *, timeout: float = 60.0,
                    max_tokens: int = 400) -> dict[str, Any] | None:
    """{"text", "model", "cited": [fact numbers], "prompt_sha256"} or None when the model fails
    or breaks the rules (the deterministic summary is then used alone)."""
    from app.llm.prompts import load_prompt

    facts = report_facts(content)
    if not facts:
        return None
    prompt = load_prompt("report")
    numbered = "\n".join(f"[{i}] {fact}" for i, fact in enumerate(facts, start=1))
    messages = prompt.render(period=content["period"], facts=numbered)
    started = time.monotonic()
    try:
        done = chat.complete(messages, max_tokens=max_tokens, temperature=0.0, timeout=timeout)
    except HomeragError:
        return None
    text = done.answer.strip()
    offered = {i: Citable(text=f, path="report", kind="fact") for i, f in
               enumerate(facts, start=1)}
    checked = check_citations(text, offered)
    if not text or checked.uncited or checked.dropped:
        return None
    allowed = _numbers(numbered) | _numbers(content["period"])
    body = re.sub(r"\[[\d,\s\-\u2013]+\]", " ", text)  # markers, incl. en-dash ranges
    if not _numbers(body) <= allowed:  # a figure the facts do not contain: computed or invented
        return None
    return {"text": checked.text, "model": done.model or chat.model,
            "cited": [c.n for c in checked.citations], "facts": facts,
            "prompt_sha256": prompt.sha256, "seconds": round(time.monotonic() - started, 2)}
