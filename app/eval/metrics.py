"""Retrieval and answer quality metrics (pure): recall@k, MRR@10, nDCG@10, citation precision,
exact-answer accuracy.

A question's `expected` list holds evidence items. An item with a file extension or a "/" is a
path suffix (matched against the end of a hit's path, so "x.pdf" also matches the attachment
"mail.eml#attachment=1/x.pdf"); any other item is a text snippet (matched case- and
whitespace-insensitively inside the passage text, because PDF extraction breaks lines).

- relevant hit: it matches at least one expected item;
- recall@k: the share of expected items matched by some hit in the top k;
- MRR@10: 1 / rank of the first relevant hit within 10 (0 if none);
- nDCG@10: binary gains; the ideal ranks the relevant hits found within 10 first (there are no
  judgements beyond the expected items, so unseen relevant passages cannot be counted);
- citation precision: the share of cited passages that contain the evidence (the snippets when
  the question has any, else the files);
- exact answer: the expected answer, normalised (case, spaces, number formats), occurs in the
  answer text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

_EXTENSIONS = (
    ".pdf",
    ".docx",
    ".doc",
    ".html",
    ".htm",
    ".txt",
    ".md",
    ".eml",
    ".csv",
    ".xml",
    ".ofx",
    ".sta",
    ".mbox",
    ".json",
    ".odt",
    ".rtf",
)
_SPACE = re.compile(r"\s+")
# Digits with inner "." or "," (1.234,56 | 1,234.56 | 850,00 | 12.03.2024): canonicalised alike
# on both sides of a comparison, so German and English number formats compare equal.
_NUMBER = re.compile(r"\d(?:[\d.,]*\d)?")


@dataclass(frozen=True, slots=True)
class Passage:
    """What a metric needs of a retrieved or cited passage."""

    path: str
    text: str


def is_path_item(item: str) -> bool:
    return "/" in item or item.lower().endswith(_EXTENSIONS)


def normalise_text(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


def item_matches(item: str, passage: Passage) -> bool:
    if is_path_item(item):
        return passage.path.replace("\\", "/").endswith(item.replace("\\", "/"))
    return normalise_text(item) in normalise_text(passage.text)


def relevance(passages: Sequence[Passage], expected: Sequence[str]) -> list[bool]:
    return [any(item_matches(i, p) for i in expected) for p in passages]


def recall_at_k(passages: Sequence[Passage], expected: Sequence[str], k: int) -> float:
    if not expected:
        raise ValueError("a question needs at least one expected item")
    top = passages[:k]
    found = sum(1 for i in expected if any(item_matches(i, p) for p in top))
    return found / len(expected)


def mrr_at_k(passages: Sequence[Passage], expected: Sequence[str], k: int = 10) -> float:
    for rank, rel in enumerate(relevance(passages[:k], expected), start=1):
        if rel:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(passages: Sequence[Passage], expected: Sequence[str], k: int = 10) -> float:
    rels = relevance(passages[:k], expected)
    dcg = sum(1.0 / math.log2(r + 1) for r, rel in enumerate(rels, start=1) if rel)
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, sum(rels) + 1))
    return dcg / ideal if ideal else 0.0


def contains_evidence(passage: Passage, expected: Sequence[str]) -> bool:
    snippets = [i for i in expected if not is_path_item(i)]
    items = snippets or list(expected)
    return any(item_matches(i, passage) for i in items)


def citation_precision(cited: Sequence[Passage], expected: Sequence[str]) -> float | None:
    """None when nothing was cited (reported apart: an uncited answer has no precision)."""
    if not cited:
        return None
    return sum(contains_evidence(p, expected) for p in cited) / len(cited)


def canonical_numbers(text: str) -> str:
    """Numbers rewritten to one form: "1.234,50" / "1,234.50" / "1234,5" -> "1234.5"."""

    def fix(m: re.Match[str]) -> str:
        s = m.group(0)
        last_sep = max(s.rfind(","), s.rfind("."))
        # A final separator followed by exactly three digits is a thousands separator.
        if last_sep >= 0 and len(s) - last_sep - 1 != 3:
            whole, frac = s[:last_sep], s[last_sep + 1 :]
        else:
            whole, frac = s, ""
        whole = re.sub(r"[.,' ]", "", whole)
        frac = frac.rstrip("0")
        return f"{int(whole)}.{frac}" if frac else str(int(whole))

    return _NUMBER.sub(fix, text)


def normalise_answer(text: str) -> str:
    text = canonical_numbers(normalise_text(text))
    text = text.replace("€", " eur ").replace("euro", "eur")
    text = re.sub(r"[^\w.% ]", " ", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)  # full stops, not decimal points
    return _SPACE.sub(" ", text).strip()


def exact_answer(answer: str, expected_answer: str) -> bool:
    want = normalise_answer(expected_answer)
    return bool(want) and f" {want} " in f" {normalise_answer(answer)} "


def mean(values: Iterable[float | None]) -> float | None:
    xs = [v for v in values if v is not None]
    return sum(xs) / len(xs) if xs else None


def retrieval_metrics(
    passages: Sequence[Passage], expected: Sequence[str], ks: Sequence[int] = (1, 5, 10)
) -> dict[str, float]:
    """All retrieval metrics of one question: recall@k for each k, mrr@10, ndcg@10."""
    out = {f"recall@{k}": recall_at_k(passages, expected, k) for k in ks}
    out["mrr@10"] = mrr_at_k(passages, expected, 10)
    out["ndcg@10"] = ndcg_at_k(passages, expected, 10)
    return out


def aggregate(rows: Sequence[Mapping[str, float | None]]) -> dict[str, float | None]:
    """Mean of each metric over questions (None values skipped)."""
    keys: list[str] = []
    for r in rows:
        keys.extend(k for k in r if k not in keys)
    return {k: mean(r.get(k) for r in rows) for k in keys}
