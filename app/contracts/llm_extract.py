"""Key-term extraction with the extraction LLM: strict JSON schema in, values validated in code.

The model sees numbered chunks of the contract (the text marked untrusted in the system
prompt) and must answer JSON matching `SCHEMA`; every value cites a chunk id and a quote. Code
then keeps only what validates: real dates, positive periods, exact amounts with an ISO
currency, chunk ids that were offered, quotes that occur in their chunk.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from app.contracts.terms import (
    AFTER_TERM,
    MAX_AMOUNT,
    RHYTHMS,
    UNITS,
    Amount,
    Citation,
    ContractTerms,
    Period,
    currency_code,
    parse_iso_date,
)
from app.core.errors import UpstreamError

if TYPE_CHECKING:
    from app.llm.client import ChatClient

PROMPT = "contract_extract"
PROMPT_VARIABLES = {PROMPT: frozenset({"today", "title", "sources"})}
MAX_CONTEXT_CHARS = 24000
_KEYWORDS = re.compile(
    r"term|renew|notice|terminat|cancel|effective|commence|fee|price|rent|pay|€|eur|\$|£|"
    r"laufzeit|verläng|kündig|beginn|miete|beitrag|gebühr|entgelt|zahl|vertrag", re.I)


@dataclass(frozen=True, slots=True)
class SourceChunk:
    chunk_id: int
    page: int | None
    text: str


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _cited(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object", "additionalProperties": False,
        "required": ["value", "chunk", "quote"],
        "properties": {"value": value, "chunk": _nullable({"type": "integer"}),
                       "quote": {"type": "string"}},
    }


_PERIOD = _nullable({
    "type": "object", "additionalProperties": False, "required": ["count", "unit"],
    "properties": {"count": {"type": "integer", "minimum": 1},
                   "unit": {"type": "string", "enum": list(UNITS)}},
})
_DATE = _nullable({"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"})
SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "required": ["parties", "start_date", "term", "after_term", "renewal", "notice",
                 "notice_to_month_end", "end_date", "amounts", "payment_rhythm"],
    "properties": {
        "parties": _cited({"type": "array", "items": {"type": "string"}}),
        "start_date": _cited(_DATE),
        "term": _cited(_PERIOD),
        "after_term": _cited(_nullable({"type": "string", "enum": list(AFTER_TERM)})),
        "renewal": _cited(_PERIOD),
        "notice": _cited(_PERIOD),
        "notice_to_month_end": {"type": "boolean"},
        "end_date": _cited(_DATE),
        "amounts": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["amount", "currency", "rhythm", "chunk", "quote"],
            "properties": {
                "amount": {"type": "string", "pattern": r"^\d+(\.\d{1,4})?$"},
                "currency": {"type": "string"},
                "rhythm": _nullable({"type": "string", "enum": list(RHYTHMS)}),
                "chunk": _nullable({"type": "integer"}),
                "quote": {"type": "string"},
            }}},
        "payment_rhythm": _nullable({"type": "string", "enum": list(RHYTHMS)}),
    },
}


def select_chunks(chunks: Sequence[SourceChunk], budget: int = MAX_CONTEXT_CHARS) -> list[SourceChunk]:
    """All chunks if they fit; else the first two (parties) and those richest in term words."""
    if sum(len(c.text) for c in chunks) <= budget:
        return list(chunks)
    ranked = sorted(range(len(chunks)),
                    key=lambda i: (i >= 2, -len(_KEYWORDS.findall(chunks[i].text))))
    keep: set[int] = set()
    used = 0
    for i in ranked:
        if used + len(chunks[i].text) > budget:
            continue
        keep.add(i)
        used += len(chunks[i].text)
    return [chunks[i] for i in sorted(keep)]


def render_sources(chunks: Sequence[SourceChunk]) -> str:
    parts = []
    for c in chunks:
        page = f' page="{c.page}"' if c.page is not None else ""
        text = c.text.replace("</chunk>", "</ chunk>")  # the text cannot close its own wrapper
        parts.append(f'<chunk id="{c.chunk_id}"{page}>\n{text}\n</chunk>')
    return "\n\n".join(parts)


def extract_with_llm(chat: ChatClient, *, title: str, chunks: Sequence[SourceChunk],
                     today: date, prompts_dir: Any = None, timeout: float | None = None) -> ContractTerms:
    """Ask the extraction model; raises UpstreamError when it fails or answers no valid JSON."""
    from app.llm.prompts import load_prompt

    offered = select_chunks(chunks)
    messages = load_prompt(PROMPT, prompts_dir).render(
        today=today.isoformat(), title=title, sources=render_sources(offered))
    done = chat.complete(
        messages, temperature=0.0, max_tokens=2000, timeout=timeout,
        response_format={"type": "json_schema",
                         "json_schema": {"name": "contract_terms", "strict": True,
                                         "schema": SCHEMA}},
    )
    data = _json_of(done.answer)
    return validate(data, {c.chunk_id: c for c in offered}, model=done.model or chat.model)


def _json_of(text: str) -> dict[str, Any]:
    text = text.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fenced:
        text = fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    try:
        data = json.loads(text[start:end + 1] if start != -1 else text)
    except (json.JSONDecodeError, ValueError) as exc:
        # A plain ValueError (a number over int's digit limit) has no .msg.
        why = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise UpstreamError(f"the extraction model answered no valid JSON ({why})") from exc
    if not isinstance(data, dict):
        raise UpstreamError("the extraction model answered JSON that is not an object")
    return data


class _Validator:
    def __init__(self, offered: dict[int, SourceChunk]) -> None:
        self.offered = offered
        self.warnings: list[str] = []
        self.citations: dict[str, Citation] = {}

    def cite(self, name: str, item: Any) -> Citation | None:
        if not isinstance(item, dict):
            return None
        chunk_id, quote = item.get("chunk"), str(item.get("quote") or "")
        chunk = self.offered.get(chunk_id) if isinstance(chunk_id, int) else None
        if chunk is None:
            if chunk_id is not None:
                self.warnings.append(f"{name}: the model cited chunk {chunk_id}, which it was not given")
            return None
        if quote and _norm(quote) not in _norm(chunk.text):
            self.warnings.append(f"{name}: the quoted words are not in chunk {chunk_id}")
            quote = ""
        citation = Citation(chunk_id, chunk.page, " ".join(quote.split())[:300])
        self.citations.setdefault(name, citation)
        return citation

    def value(self, data: dict[str, Any], name: str) -> Any:
        item = data.get(name)
        if not isinstance(item, dict) or item.get("value") is None:
            return None
        self.cite(name, item)
        return item["value"]

    def period(self, data: dict[str, Any], name: str) -> Period | None:
        raw = self.value(data, name)
        if raw is None:
            return None
        try:
            return Period(int(raw["count"]), str(raw["unit"]))
        except (KeyError, TypeError, ValueError):
            self.warnings.append(f"{name}: {raw!r} is not a valid period; ignored")
            self.citations.pop(name, None)
            return None

    def date(self, data: dict[str, Any], name: str) -> date | None:
        raw = self.value(data, name)
        if raw is None:
            return None
        value = parse_iso_date(raw)
        if value is None:
            self.warnings.append(f"{name}: {raw!r} is not a valid date; ignored")
            self.citations.pop(name, None)
        return value


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def validate(data: dict[str, Any], offered: dict[int, SourceChunk], *, model: str | None) -> ContractTerms:
    """ContractTerms from the model's JSON, keeping only values that validate (pure)."""
    v = _Validator(offered)
    parties_raw = v.value(data, "parties") or []
    parties = tuple(dict.fromkeys(
        " ".join(str(p).split()) for p in parties_raw if isinstance(p, str) and p.strip()))[:6]
    after = v.value(data, "after_term")
    if after is not None and after not in AFTER_TERM:
        v.warnings.append(f"after_term: {after!r} is not one of {', '.join(AFTER_TERM)}; ignored")
        after = None
    renewal = v.period(data, "renewal")
    if renewal is not None and after is None:
        after = "renews"
    amounts = []
    for item in data.get("amounts") or []:
        if not isinstance(item, dict):
            continue
        try:
            value = Decimal(str(item.get("amount")))
        except InvalidOperation:
            v.warnings.append(f"amounts: {item.get('amount')!r} is not an amount; ignored")
            continue
        currency = currency_code(str(item.get("currency") or ""))
        if not Decimal(0) < value < MAX_AMOUNT or currency is None:
            v.warnings.append(f"amounts: {item.get('amount')} {item.get('currency')} ignored")
            continue
        rhythm = item.get("rhythm") if item.get("rhythm") in RHYTHMS else None
        amounts.append(Amount(value, currency, rhythm, v.cite("amounts", item)))
    rhythm = data.get("payment_rhythm")
    rhythm = rhythm if rhythm in RHYTHMS else next((a.rhythm for a in amounts if a.rhythm), None)
    return ContractTerms(
        method="llm", parties=parties, start_date=v.date(data, "start_date"),
        term=v.period(data, "term"), renewal=renewal, after_term=after,
        notice=v.period(data, "notice"),
        notice_to_month_end=bool(data.get("notice_to_month_end") is True),
        end_date=v.date(data, "end_date"), amounts=tuple(amounts), payment_rhythm=rhythm,
        citations=v.citations, warnings=tuple(v.warnings), model=model,
    )
