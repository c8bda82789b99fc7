"""Down-weighting passages whose text was read badly by OCR (pure, plus its SQL twin).

Parsers store a chunk's OCR reading quality (0..1: Tesseract's word confidence and the share of
word-like tokens, see ingest/ocr.py) as `chunks.metadata->'ocr_quality'`; typed text has none
and keeps its full weight. A screenshot's noise ("x dr- @h=h@z%  premium  Zi%~>H#|") is short,
matches stray query words and so ranked first for unrelated searches; its fused score is now
multiplied by `ocr_weight(quality)` in the SQL (`weight_sql`), and a re-scored shortlist is
re-ordered the same way (`reweigh`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from app.retrieval.types import Hit

# At or below LOW a reading is noise (weight FLOOR); from FULL up it counts fully; linear between.
LOW = 0.3
FULL = 0.75
FLOOR = 0.2


def ocr_weight(quality: float | None) -> float:
    """The factor a passage's score is multiplied by (1.0 without an OCR quality)."""
    if quality is None:
        return 1.0
    return min(1.0, max(FLOOR, (quality - LOW) / (FULL - LOW)))


def weight_sql(meta: str = "c.metadata") -> str:
    """`ocr_weight` of the chunk whose metadata column is `meta`, as a SQL expression."""
    q = f"({meta}->>'ocr_quality')::float8"
    return (f"CASE WHEN {meta} ? 'ocr_quality' THEN least(1.0, greatest({FLOOR}, "
            f"({q} - {LOW}) / {FULL - LOW})) ELSE 1.0 END")


def reweigh(hits: Sequence[Hit]) -> list[Hit]:
    """A re-scored shortlist with badly read passages moved down: each loses (1 - weight) of
    the shortlist's score spread (rescorers' scores may be negative, so no multiplication)."""
    if not hits or all(ocr_weight(h.ocr_quality) >= 1.0 for h in hits):
        return list(hits)
    scores = [h.score for h in hits]
    spread = (max(scores) - min(scores)) or 1.0
    moved = [replace(h, score=h.score - (1.0 - ocr_weight(h.ocr_quality)) * spread)
             for h in hits]
    return sorted(moved, key=lambda h: -h.score)
