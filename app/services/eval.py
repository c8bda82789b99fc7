"""Runs a QUESTIONS.jsonl against retrieval modes (and optionally `ask`) and aggregates metrics.

Modes switch retrieval stages per query:
    dense | sparse | fts      one retriever alone
    hybrid                    dense + sparse + full text fused by RRF
    hybrid+colbert            hybrid, shortlist re-scored by BGE-M3 dense+sparse+ColBERT
    rerank                    hybrid+colbert (when BGE-M3) then the cross-encoder
The retriever is a seam (`Retriever`); `RuntimeRetriever` is the real one over an Runtime.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from app.core.errors import HomeragError, InvalidInputError
from app.eval.metrics import (
    Passage,
    aggregate,
    citation_precision,
    exact_answer,
    retrieval_metrics,
)

if TYPE_CHECKING:
    from app.services.runtime import Runtime

MODES = ("dense", "sparse", "fts", "hybrid", "hybrid+colbert", "rerank")
DEFAULT_KS = (1, 5, 10)


class ModeUnavailableError(HomeragError):
    """A mode cannot run here (no BGE-M3 for ColBERT, no cross-encoder weights)."""


@dataclass(frozen=True, slots=True)
class EvalQuestion:
    question: str
    expected: list[str]
    answer: str | None = None


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read QUESTIONS.jsonl; a bad line is an InvalidInputError naming file and line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read questions ({exc.strerror})") from exc
    out = []
    for n, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{path}:{n}: not a JSON object ({exc.msg})") from exc
        q, expected, answer = obj.get("question"), obj.get("expected"), obj.get("answer")
        if not isinstance(q, str) or not q.strip():
            raise InvalidInputError(f'{path}:{n}: "question" must be a non-empty string')
        if (
            not isinstance(expected, list)
            or not expected
            or not all(isinstance(e, str) and e.strip() for e in expected)
        ):
            raise InvalidInputError(f'{path}:{n}: "expected" must be a non-empty list of strings')
        if answer is not None and not isinstance(answer, str):
            raise InvalidInputError(f'{path}:{n}: "answer" must be a string')
        out.append(EvalQuestion(q.strip(), [e.strip() for e in expected], answer))
    if not out:
        raise InvalidInputError(f"{path}: no questions")
    return out


class Retriever(Protocol):
    def search(self, question: str, mode: str, top_k: int) -> list[Passage]:
        """Ranked passages; raises ModeUnavailableError when the mode cannot run here."""
        ...


@dataclass(frozen=True, slots=True)
class AskOutcome:
    answer: str
    cited: list[Passage]
    mode: str  # "llm" | "retrieval-only"


AskFn = Callable[[str], AskOutcome]


@dataclass
class ModeResult:
    mode: str
    questions: int = 0
    metrics: dict[str, float | None] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    per_question: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self, *, details: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mode": self.mode,
            "questions": self.questions,
            "metrics": self.metrics,
            "latency_ms": self.latency_ms,
            "error": self.error,
        }
        if details:
            out["per_question"] = self.per_question
        return out


def _percentile(values: Sequence[float], q: float) -> float:
    xs = sorted(values)
    if not xs:
        return 0.0
    pos = (len(xs) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _latency(samples: Sequence[float]) -> dict[str, float]:
    return {"p50": round(_percentile(samples, 0.5), 2), "p95": round(_percentile(samples, 0.95), 2)}


def evaluate_mode(
    questions: Sequence[EvalQuestion],
    retriever: Retriever,
    mode: str,
    *,
    ks: Sequence[int] = DEFAULT_KS,
) -> ModeResult:
    result = ModeResult(mode)
    depth = max(10, *ks)
    rows, times = [], []
    for q in questions:
        t0 = time.perf_counter()
        try:
            passages = retriever.search(q.question, mode, depth)
        except ModeUnavailableError as exc:
            result.error = str(exc)
            return result
        times.append((time.perf_counter() - t0) * 1e3)
        m = retrieval_metrics(passages, q.expected, ks)
        rows.append(m)
        result.per_question.append(
            {"question": q.question, **m, "top": [p.path for p in passages[:3]]}
        )
    result.questions = len(rows)
    result.metrics = aggregate(rows)
    result.latency_ms = _latency(times)
    return result


def evaluate_ask(questions: Sequence[EvalQuestion], ask: AskFn) -> ModeResult:
    """Citation precision and exact-answer accuracy of `ask` (LLM answers only count for both)."""
    result = ModeResult("ask")
    rows, times = [], []
    for q in questions:
        t0 = time.perf_counter()
        out = ask(q.question)
        times.append((time.perf_counter() - t0) * 1e3)
        row: dict[str, float | None] = {
            "citation_precision": citation_precision(out.cited, q.expected),
            "exact_answer": (
                float(exact_answer(out.answer, q.answer))
                if q.answer and out.mode == "llm"
                else None
            ),
            "llm_answered": 1.0 if out.mode == "llm" else 0.0,
        }
        rows.append(row)
        result.per_question.append({"question": q.question, **row, "answer": out.answer[:500]})
    result.questions = len(rows)
    result.metrics = aggregate(rows)
    result.latency_ms = _latency(times)
    return result


def run_eval(
    questions: Sequence[EvalQuestion],
    retriever: Retriever,
    *,
    modes: Sequence[str] = MODES,
    ks: Sequence[int] = DEFAULT_KS,
    ask: AskFn | None = None,
) -> list[ModeResult]:
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise InvalidInputError(
            f"unknown eval mode(s) {', '.join(unknown)}; choose from {', '.join(MODES)}"
        )
    results = [evaluate_mode(questions, retriever, m, ks=ks) for m in modes]
    if ask is not None:
        results.append(evaluate_ask(questions, ask))
    return results


# -- the real retriever and ask over an Runtime ------------------------------------------------
class RuntimeRetriever:
    """Runs `app.retrieval.search_detailed` with the stages and rescorers of each mode."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._rescorers: dict[str, Any] = {}

    def _rescorer(self, mode: str) -> Any:
        from app.retrieval.rerank import M3Encoder, make_rescorer

        if mode not in ("hybrid+colbert", "rerank"):
            return None
        if mode not in self._rescorers:
            embedder = self.rt.embedder()
            m3 = isinstance(embedder, M3Encoder)
            if mode == "hybrid+colbert" and not m3:
                raise ModeUnavailableError(
                    f"ColBERT re-scoring needs the bge-m3 embedder (this index uses {embedder.name})"
                )
            try:
                self._rescorers[mode] = make_rescorer(
                    self.rt.settings, embedder, m3=m3, rerank=mode == "rerank"
                )
            except HomeragError as exc:
                raise ModeUnavailableError(f"{mode}: {exc}") from exc
        return self._rescorers[mode]

    def search(self, question: str, mode: str, top_k: int) -> list[Passage]:
        from app.retrieval import search_detailed
        from app.retrieval.queries import STAGES
        from app.retrieval.rerank import passage_text

        stages = (mode,) if mode in STAGES else STAGES
        rescorer = self._rescorer(mode)
        s = self.rt.settings
        with self.rt.db.session() as session:
            res = search_detailed(
                session,
                self.rt.embedder(),
                question,
                top_k=top_k,
                candidates=max(s.candidates, top_k),
                rrf_k=s.rrf_k,
                stages=stages,
                rescorer=rescorer,
            )
        return [Passage(h.path, passage_text(h)) for h in res.hits]


def runtime_ask(rt: Runtime) -> AskFn:
    from app.services.ask import ask

    def run(question: str) -> AskOutcome:
        result = ask(rt, question)
        cited = [Passage(c.citable.path, c.citable.text) for c in result.citations]
        return AskOutcome(result.answer, cited, result.mode)

    return run
