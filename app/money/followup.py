"""Follow-up questions in a conversation, rewritten into standalone ones without an LLM (pure).

"How much did I spend at Rewe in September?" → "and in October?" → "which of those were over
70 euros?": each follow-up keeps what the earlier turns established (period, payee, category,
account, amounts, direction, what was asked) unless it says otherwise, and a question that points
back at documents ("when does that contract end?") is searched with the earlier topic and
restricted to the documents already cited. `TurnState` is what one turn leaves for the next
(stored as JSON with the turn); `carry_over` is the deterministic rewrite; the LLM rewrite
(`app.money.rewrite`) falls back to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from app.money.nlq import (
    _COUNT,
    _IN,
    _MAX,
    _MIN,
    _OUT,
    _RECURRING,
    _SUM,
    _TOP,
    _UNUSUAL,
    MoneyQuery,
    _amount,
    _category,
    _currency,
    _payee,
    parse_money_question,
)
from app.money.periods import Period, find_period
from app.money.queries import TxFilter

RewriteMode = Literal["first", "carry-over", "llm", "standalone"]

# "and ...", "what about ...", "und im ...": the question continues the previous one.
_CONTINUES = re.compile(
    r"^\s*(?:and|also|what about|how about|same for|und|auch|was ist mit|wie ist es mit|"
    r"wie sieht es mit|und was ist mit)\b", re.IGNORECASE)
# Words that point back at what was just said; the weak ones only in a short question
# (the period phrase taken out: "this month" points at a period, not back).
_POINTS_BACK = re.compile(
    r"\b(?:those|these|them|they|their|there|the same|same one|davon|diese[nmrs]?|dieser|"
    r"dessen|deren|dort|daran|dafür|darin)\b", re.IGNORECASE)
_POINTS_BACK_WEAK = re.compile(r"\b(?:it|its|that|this|es|das|dem)\b", re.IGNORECASE)
WEAK_POINTER_WORDS = 8
_LIST = re.compile(r"\b(?:which|what were|show|list|welche[nmrs]?|zeig\w*|liste)\b",
                   re.IGNORECASE)
_ACCOUNT = re.compile(
    r"\b(?:on|from|in|with|auf|vom|von|im)\s+(?:the\s+|my\s+|dem\s+|meinem\s+)?"
    r"(?P<a>[A-Za-zÄÖÜäöüß0-9][\w-]*)\s+(?:account|konto)\b"
    r"|\b(?:account|konto)\s+(?P<b>[A-Za-zÄÖÜäöüß0-9][\w-]*)", re.IGNORECASE)
_NOT_ACCOUNT = {"the", "my", "this", "that", "which", "what", "each", "every", "an", "a", "one"}
# "what about Aldi?", "und was ist mit Lidl?": a name after the continuation is the new payee.
_ABOUT = re.compile(
    r"\b(?:what|how) about\s+(?:the\s+)?|\bwas ist mit\s+(?:der\s+|dem\s+)?",
    re.IGNORECASE)
_NAME = re.compile(r"[A-Z0-9ÄÖÜ][\w&.\-ÄÖÜäöüß]*(?:\s+[A-Z0-9ÄÖÜ][\w&.\-ÄÖÜäöüß]*){0,2}")
SHORT_FOLLOWUP_WORDS = 4
MAX_DOCUMENTS = 20
INTENT_WORDS = {"sum": "How much in total", "count": "How many transactions",
                "list": "Which transactions", "top": "Largest groups of",
                "unusual": "Unusual spending", "recurring": "Recurring charges"}


# -- what a turn leaves for the next --------------------------------------------------------------
def money_json(mq: MoneyQuery) -> dict[str, Any]:
    f = mq.filter
    return {
        "intent": mq.intent, "group_by": mq.group_by,
        "date_from": f.date_from.isoformat() if f.date_from else None,
        "date_to": f.date_to.isoformat() if f.date_to else None,
        "period": mq.period.label if mq.period else None,
        "payee": f.counterparty, "category": f.category, "account": f.account,
        "min_amount": None if f.min_amount is None else str(f.min_amount),
        "max_amount": None if f.max_amount is None else str(f.max_amount),
        "currency": f.currency, "direction": f.direction,
    }


def money_from_json(data: Mapping[str, Any] | None) -> MoneyQuery | None:
    """The stored money state back as a query; None for a missing or unreadable one."""
    if not data or data.get("intent") not in INTENT_WORDS:
        return None
    try:
        start = date.fromisoformat(data["date_from"]) if data.get("date_from") else None
        end = date.fromisoformat(data["date_to"]) if data.get("date_to") else None
        lo = Decimal(data["min_amount"]) if data.get("min_amount") else None
        hi = Decimal(data["max_amount"]) if data.get("max_amount") else None
    except (ValueError, TypeError, InvalidOperation):
        return None
    direction = data.get("direction") if data.get("direction") in ("in", "out") else None
    f = TxFilter(date_from=start, date_to=end, counterparty=data.get("payee"),
                 category=data.get("category"), account=data.get("account"),
                 min_amount=lo, max_amount=hi, currency=data.get("currency"),
                 direction=direction)
    period = Period(start, end, data.get("period") or f"{start} to {end}") if start and end else None
    return MoneyQuery(intent=data["intent"], filter=f, period=period,
                      group_by=data.get("group_by"))


@dataclass(frozen=True, slots=True)
class TurnState:
    """What one answered turn leaves for the next: its standalone question, the topic (the
    question that opened the thread), the money query it ran and the documents it cited."""

    standalone: str
    topic: str
    money: MoneyQuery | None = None
    documents: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"standalone": self.standalone, "topic": self.topic,
                "money": money_json(self.money) if self.money else None,
                "documents": list(self.documents)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, question: str = "") -> TurnState:
        standalone = str(data.get("standalone") or question)
        docs = tuple(int(d) for d in data.get("documents") or () if str(d).isdigit())
        return cls(standalone=standalone, topic=str(data.get("topic") or standalone),
                   money=money_from_json(data.get("money")), documents=docs[:MAX_DOCUMENTS])


@dataclass(frozen=True, slots=True)
class Rewrite:
    """A question as asked and the standalone query it is answered as.

    Attributes:
        standalone: the retrieval query (also what the LLM answers).
        money: the money query to run (filters carried over), when the turn is about money.
        documents: search these documents first (the follow-up points back at them).
        carried: human phrases of what was carried over ("payee Rewe", "period 2026-10").
        notice: why the LLM rewrite was not used, when it failed.
        usage: the rewriting LLM call's token counts (empty when no LLM was called).
    """

    question: str
    standalone: str
    mode: RewriteMode
    topic: str
    money: MoneyQuery | None = None
    documents: tuple[int, ...] = ()
    carried: tuple[str, ...] = ()
    notice: str | None = None
    usage: Mapping[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"question": self.question, "standalone": self.standalone, "mode": self.mode,
                "money": money_json(self.money) if self.money else None,
                "documents": list(self.documents), "carried": list(self.carried),
                "notice": self.notice, "usage": dict(self.usage)}

    def state(self, cited_documents: Iterable[int]) -> TurnState:
        """The state the next turn starts from, once this one is answered."""
        cited = tuple(dict.fromkeys(int(d) for d in cited_documents))
        return TurnState(standalone=self.standalone, topic=self.topic, money=self.money,
                         documents=(cited or self.documents)[:MAX_DOCUMENTS])


# -- reading a follow-up ---------------------------------------------------------------------------
def _without_period(question: str, today: date) -> str:
    return find_period(question, today)[1]


def points_back(question: str, *, today: date) -> bool:
    """Does the question refer to what the previous turn found ("those", "that contract")?"""
    text = _without_period(question, today)
    if _POINTS_BACK.search(text):
        return True
    return bool(_POINTS_BACK_WEAK.search(text)) and len(re.findall(r"\w+", text)) <= (
        WEAK_POINTER_WORDS)


def is_followup(question: str, *, today: date) -> bool:
    """Does the question lean on the previous turn ("and in October?", "which of those ...")?"""
    words = re.findall(r"\w+", _without_period(question, today))
    return bool(_CONTINUES.search(question) or points_back(question, today=today)
                or len(words) <= SHORT_FOLLOWUP_WORDS)


@dataclass
class _Stated:
    """What a question says itself about money (None: not said)."""

    period: Period | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    intent: str | None = None


def _account(text: str) -> str | None:
    for m in _ACCOUNT.finditer(text):
        name = m.group("a") or m.group("b")
        if name and name.lower() not in _NOT_ACCOUNT:
            return name
    return None


def stated_money(question: str, *, today: date, categories: Iterable[str] = (),
                 merchants: Iterable[str] = ()) -> _Stated:
    """The money filters and intent the question states by itself (the parser's rules)."""
    from app.money.nlq import CATEGORY_WORDS

    out = _Stated()
    period, rest = find_period(question, today)
    out.period = period
    account = _account(rest)
    if account:
        out.fields["account"] = account
        rest = _ACCOUNT.sub(" ", rest)
    for pattern, key in ((_MIN, "min_amount"), (_MAX, "max_amount")):
        m = pattern.search(rest)
        if m and (value := _amount(m)) is not None:
            out.fields[key] = value
            if cur := _currency(m):
                out.fields["currency"] = cur
            rest = rest[:m.start()] + " " + rest[m.end():]
    categories = list(categories)
    category, word = _category(rest, categories)
    if category:
        out.fields["category"] = category
    skip = {w for ws in CATEGORY_WORDS.values() for w in ws} | set(categories)
    payee = _payee(rest, merchants, skip | ({word} if word else set()))
    about = _ABOUT.search(rest)
    if not payee and about and (name := _NAME.match(rest, about.end())):
        payee = name.group(0)
    if payee:
        out.fields["counterparty"] = payee
    if _IN.search(rest) and not _OUT.search(rest):
        out.fields["direction"] = "in"
    elif _OUT.search(rest):
        out.fields["direction"] = "out"
    for pattern, intent in ((_UNUSUAL, "unusual"), (_RECURRING, "recurring"), (_COUNT, "count"),
                            (_TOP, "top"), (_SUM, "sum"), (_LIST, "list")):
        if pattern.search(rest):
            out.intent = intent
            break
    return out


def _merge(prev: MoneyQuery, stated: _Stated) -> tuple[MoneyQuery, tuple[str, ...]]:
    """The previous query with what the follow-up states put over it, and what was kept."""
    f = replace(prev.filter, **stated.fields)
    period = prev.period
    if stated.period is not None:
        period = stated.period
        f = replace(f, date_from=period.start, date_to=period.end)
    intent = stated.intent or prev.intent
    group_by = prev.group_by if intent == "top" else None
    if intent == "top" and group_by is None:
        group_by = "merchant"
    carried = []
    if stated.period is None and prev.filter.date_from:
        carried.append(f"period {period.label if period else prev.filter.date_from}")
    for key, label in (("counterparty", "payee"), ("category", "category"),
                       ("account", "account"), ("min_amount", "at least"),
                       ("max_amount", "at most"), ("direction", "direction")):
        value = getattr(prev.filter, key)
        if value is not None and key not in stated.fields:
            carried.append(f"{label} {value}")
    if stated.intent is None:
        carried.append(f"question: {intent}")
    merged = MoneyQuery(intent=intent, filter=f, period=period,  # type: ignore[arg-type]
                        group_by=group_by)
    return merged, tuple(carried)


def _with_account(mq: MoneyQuery | None, question: str) -> MoneyQuery | None:
    """The parser's query with the account the question names ("on the ING account"), which it
    would otherwise take for a payee."""
    account = _account(question) if mq is not None else None
    if mq is None or account is None:
        return mq
    f = replace(mq.filter, account=account)
    if f.counterparty and f.counterparty.lower() == account.lower():
        f = replace(f, counterparty=None)
    return replace(mq, filter=f)


def describe_money(mq: MoneyQuery) -> str:
    """The standalone form of a money query: 'Which transactions: spending matching 'Rewe' ...'."""
    by = f" by {mq.group_by}" if mq.intent == "top" and mq.group_by else ""
    return f"{INTENT_WORDS.get(mq.intent, mq.intent)}{by}: {mq.filter.describe()}"


def first_turn(question: str) -> Rewrite:
    """A question that opens a conversation, as asked; its money query (for the follow-ups) is
    read when the turn is stored (`with_money`), off the path of the answer."""
    question = " ".join((question or "").split())
    return Rewrite(question=question, standalone=question, mode="first", topic=question)


def with_money(rewrite: Rewrite, *, today: date, categories: Iterable[str] = (),
               merchants: Iterable[str] = ()) -> Rewrite:
    """The first turn with the money query its question asks (None when not about money)."""
    own = parse_money_question(rewrite.question, today=today, categories=list(categories),
                               merchants=list(merchants))
    return replace(rewrite, money=_with_account(own, rewrite.question))


def carry_over(question: str, history: Sequence[TurnState], *, today: date,
               categories: Iterable[str] = (), merchants: Iterable[str] = ()) -> Rewrite:
    """Rewrite `question` using the previous turns' state, without a language model."""
    question = " ".join((question or "").split())
    categories, merchants = list(categories), list(merchants)
    own = _with_account(parse_money_question(question, today=today, categories=categories,
                                             merchants=merchants), question)
    prev = history[-1] if history else None
    if prev is None:
        return Rewrite(question=question, standalone=question, mode="first", topic=question,
                       money=own)
    follows = is_followup(question, today=today)
    if prev.money is not None and follows and (own is not None or not points_back_to_documents(
            question)):
        stated = stated_money(question, today=today, categories=categories, merchants=merchants)
        money, carried = _merge(prev.money, stated)
        return Rewrite(question=question, standalone=describe_money(money), mode="carry-over",
                       topic=prev.topic, money=money, carried=carried)
    if own is not None or not follows or prev.money is not None:
        # A money turn's topic would turn a question about documents into a money question.
        return Rewrite(question=question, standalone=question, mode="standalone",
                       topic=question, money=own)
    documents = prev.documents if points_back(question, today=today) else ()
    carried = (f"about: {prev.topic}",) + ((f"documents {', '.join(map(str, documents))}",)
                                          if documents else ())
    return Rewrite(question=question, standalone=f"{question} (about: {prev.topic})",
                   mode="carry-over", topic=prev.topic, documents=documents, carried=carried)


_DOCUMENT_WORDS = re.compile(
    r"\b(?:contract|agreement|letter|document|invoice|bill|policy|mail|email|notice|term|"
    r"vertrag\w*|brief\w*|dokument\w*|rechnung\w*|police|kündigung\w*|frist\w*)\b",
    re.IGNORECASE)


def points_back_to_documents(question: str) -> bool:
    """"when does that contract end?": a follow-up about documents, not about the figures."""
    return bool(_DOCUMENT_WORDS.search(question))


def answer_money_query(session: Any, mq: MoneyQuery, *, today: date) -> Any:
    """The cited answer of a carried-over money query (database reads; an `AnswerResult`)."""
    from sqlalchemy import func, select

    from app.core.models import Transaction
    from app.money.ask import answer_money_question, to_answer
    from app.money.facts import execute

    if not session.scalar(select(func.count()).select_from(Transaction)):
        return answer_money_question("How much money?", session, today=today)  # says: none yet
    return to_answer(execute(session, mq, today=today))
