"""OCR quality down-weights garbage text: a screenshot's noise, read by the real Tesseract, no
longer ranks first for searches that share a stray word with it (app/retrieval/quality.py,
ingest/ocr.py quality, chunk metadata `ocr_quality`)."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFilter
from sqlalchemy import select, text

from app.core.types import ParseInput, RawItem
from app.retrieval import hybrid_search, resolve_space, search
from app.retrieval.quality import FLOOR, ocr_weight, reweigh, weight_sql
from app.retrieval.types import Hit
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.ocr import ocr_quality, wordlike_share
from ingest.parsers.image import ImageParser
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources.folder import FolderSource
from tests.ocr.scans import GERMAN_LINES, font, render_page

EMB = LexicalHashEmbedder()
CLEAN = ("Mietvertrag zwischen Frau Erika Mustermann und Herrn Max Müller über die Wohnung in "
         "Köln. Die Kündigungsfrist beträgt drei Monate. REWE Markt GmbH Summe EUR 12,50 "
         "Rg-Nr. 2024-0042 Vielen Dank für Ihren Einkauf")
NOISE = ("brn uae 00: abs f er , Bit | xs art), 1% Pr n a Fr Key ua) insuranc& = #79) . TT || "
         "ere a 1zIy>} 9 | wis <iwiizr, AR “= *ZTd% yb.hsji{ m di. [| Rel#; x dr- @h\\=h@z% "
         "bated a premium, ,. Pen eng = ag “@>* Zi%~>H#|")


def screenshot(*, words: tuple[str, ...] = ("insurance", "premium") * 2, seed: int = 4,
               soup: int = 60) -> bytes:
    """A dark app screen: coloured UI blocks, tiny glyph soup, and a few real words (menu
    items, twice each). Tesseract 5.3 reads it as noise with both words in it."""
    rng = random.Random(seed)
    img = Image.new("RGB", (1280, 720), (38, 42, 48))
    draw = ImageDraw.Draw(img)
    for _ in range(60):
        x, y = rng.randrange(1280), rng.randrange(720)
        draw.rectangle((x, y, x + rng.randrange(8, 60), y + rng.randrange(8, 40)),
                       fill=tuple(rng.randrange(40, 255) for _ in range(3)))
    glyphs = "▒░|/\\_=+~^#@{}[]<>;:!ilI1lj;,.`'\"°§%&*abcdefghxyzQWRTZ"
    for _ in range(soup):
        bits = "".join(rng.choice(glyphs) for _ in range(rng.randrange(2, 9)))
        draw.text((rng.randrange(1240), rng.randrange(700)), bits,
                  fill=tuple(rng.randrange(120, 255) for _ in range(3)),
                  font=font(rng.randrange(9, 16)))
    for word in words:
        draw.text((rng.randrange(100, 900), rng.randrange(50, 650)), word, fill=(230, 230, 230),
                  font=font(22))
    buf = io.BytesIO()
    img.filter(ImageFilter.GaussianBlur(0.6)).save(buf, format="PNG")
    return buf.getvalue()


def test_quality_tells_noise_from_text():
    assert wordlike_share(CLEAN) > 0.85 and wordlike_share(NOISE) < 0.4
    assert ocr_quality(CLEAN, 91.0) > 0.85 and ocr_quality(NOISE, 43.0) < 0.4
    assert ocr_quality(CLEAN, None) == round(wordlike_share(CLEAN), 3)
    assert ocr_quality("| — ..", 80.0) == 0.0  # nothing legible at all


def test_weight_is_monotone_and_its_sql_twin_agrees(session):
    qualities = [0.0, 0.3, 0.45, 0.6, 0.75, 0.95]
    weights = [ocr_weight(q) for q in qualities]
    assert weights == sorted(weights) and weights[0] == FLOOR and weights[-1] == 1.0
    assert ocr_weight(None) == 1.0
    for q in [*qualities, None]:
        meta = "{}" if q is None else f'{{"ocr_quality": {q}}}'
        got = session.execute(text(f"SELECT {weight_sql('c.metadata')} FROM "
                                   "(SELECT CAST(:m AS jsonb) AS metadata) c"), {"m": meta})
        assert got.scalar_one() == pytest.approx(ocr_weight(q))


def test_reweigh_moves_badly_read_hits_down_whatever_the_score_sign():
    def hit(n: int, score: float, quality: float | None) -> Hit:
        return Hit(chunk_id=n, document_id=n, score=score, text="t", path=f"/{n}", title=None,
                   page=None, ocr_quality=quality)

    for scores in ([3.0, 2.5, 1.0], [-0.5, -1.0, -4.0], [3.0, 2.9, 2.8]):
        hits = [hit(1, scores[0], 0.2), hit(2, scores[1], None), hit(3, scores[2], 0.95)]
        # The noise loses 0.8 of the spread: its lead, not its place above much weaker hits.
        assert [h.chunk_id for h in reweigh(hits)] == [2, 1, 3]
    clean = [hit(1, 1.0, None), hit(2, 0.5, 0.9)]
    assert reweigh(clean) == clean


@pytest.fixture(scope="module")
def tesseract_reads() -> dict[str, float]:
    """Block qualities of a screenshot and a clean scan as the real Tesseract reads them."""
    parser = ImageParser()
    out = {}
    for name, data in (("screen.png", screenshot()),
                       ("scan.png", _png(render_page(GERMAN_LINES, angle=0.8)))):
        inp = ParseInput.of(RawItem(origin=f"/p/{name}", name=name, data=data), data, "image/png")
        doc = parser.parse(inp)
        (quality,) = {b.meta["ocr_quality"] for b in doc.blocks}
        out[name] = quality
        out[name + ":title"] = doc.title
    return out


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def test_tesseract_noise_reads_as_low_quality_and_a_scan_as_high(tesseract_reads):
    assert tesseract_reads["screen.png"] < 0.5 < 0.8 < tesseract_reads["scan.png"]
    assert tesseract_reads["screen.png:title"] is None  # noise gives no title either
    assert tesseract_reads["scan.png:title"] == "Mietvertrag zwischen Frau Erika Mustermann"


DOCS = {
    # Each typed note shares one word with the query; the screenshot's noise holds both.
    "insurance.txt": "Household insurance: renewal in May, the policy number is on page 2.",
    "gym.txt": "The gym charges a premium for the sauna: 40 euros a month.",
    "holiday.txt": "Holiday photos from the lake; we swam every morning.",
}


def test_a_garbage_screenshot_no_longer_ranks_first(clean_db, tmp_path: Path):
    root = tmp_path / "docs"
    root.mkdir()
    for name, body in DOCS.items():
        (root / name).write_text(body, encoding="utf-8")
    (root / "screenshot.png").write_bytes(screenshot())
    report = Pipeline(clean_db, embedder=EMB, options=IngestOptions()).run(
        FolderSource("docs", root))
    assert report.status == "completed" and not report.problems
    query = "insurance premium"
    with clean_db.session() as s:
        from app.core.models import Chunk, Document

        stored = s.scalars(select(Chunk.meta).join(Document)
                           .where(Document.origin.endswith("screenshot.png"))).all()
        assert stored and all(m["ocr_quality"] < 0.5 for m in stored)
        space = resolve_space(s, EMB)
        embedded = EMB.embed_query(query)
        before = hybrid_search(s, space, query, embedded, top_k=4, ocr_weighting=False)
        after = hybrid_search(s, space, query, embedded, top_k=4)
        ranked = search(s, EMB, query, top_k=4)
    names = [Path(h.path).name for h in before]
    assert names[0] == "screenshot.png", names  # the noise won: it holds both stray words
    assert Path(after[0].path).name != "screenshot.png"
    assert Path(after[-1].path).name == "screenshot.png" or len(after) < 4
    assert [h.chunk_id for h in ranked] == [h.chunk_id for h in after]
    assert after[-1].ocr_quality is not None and after[0].ocr_quality is None
