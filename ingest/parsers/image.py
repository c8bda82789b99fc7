"""Photos and scans (JPEG, PNG, TIFF incl. multi-page, BMP, WebP, GIF) → OCR text per page.

Each frame of a TIFF is a page; every block carries its page number so a citation names it.
Pillow is imported inside `parse`; the OCR engine is the injected `PageOcr` (Tesseract by
default), so this module is cheap to import and tests can pass another engine.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

from app.core.errors import (
    CorruptDocumentError,
    EmptyDocumentError,
    ExpansionLimitError,
    HomeragError,
)
from app.core.types import ParsedDocument, ParseInput, TextBlock
from ingest.limits import Limits, WithLimits
from ingest.mediatypes import BMP, GIF, JPEG, PNG, TIFF, WEBP
from ingest.ocr import ocr_quality, read_scored
from ingest.parsers.common import display_name, guess_kind
from ingest.parsers.pdf import PageOcr, naming, page_blocks, with_quality
from ingest.titles import candidates, choose_title

IMAGE_TYPES = frozenset({JPEG, PNG, TIFF, BMP, WEBP, GIF})
MAX_PAGES = 200
# The pixel limit (a scan at 600 dpi of A3 is ~70 Mpx) is Limits.max_image_pixels.
TITLE_QUALITY = 0.6


class ImageParser(WithLimits):
    """OCR of photos and scans; kind guessed from the text (a photographed contract is one)."""

    name = "image"
    version = "2"  # 2: OCR quality per block (chunk metadata `ocr_quality`)

    def __init__(self, ocr: PageOcr | None = None, *, limits: Limits | None = None) -> None:
        self._ocr = ocr
        self._limits = limits

    @property
    def ocr(self) -> PageOcr:
        if self._ocr is None:
            from ingest.ocr import TesseractOcr

            self._ocr = TesseractOcr()
        return self._ocr

    def score(self, inp: ParseInput) -> int | None:
        return 10 if inp.media_type in IMAGE_TYPES else None

    def parse(self, inp: ParseInput) -> ParsedDocument:
        from PIL import Image, UnidentifiedImageError

        name = display_name(inp)
        limits = self.limits
        Image.MAX_IMAGE_PIXELS = limits.max_image_pixels  # Pillow's own check, at open
        try:
            with warnings.catch_warnings():
                # Pillow only warns (on stderr) between its limit and twice that: refuse instead.
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(io.BytesIO(inp.data))
                pixels = image.width * image.height
                if pixels > limits.max_image_pixels:  # checked before the pixels are decoded
                    raise ExpansionLimitError(
                        f"{name}: the image has {pixels / 1e6:,.0f} megapixels, more than "
                        f"{limits.max_image_pixels / 1e6:,.0f} (limit HOMERAG_MAX_IMAGE_MEGAPIXELS)")
                image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ExpansionLimitError(
                f"{name}: the image has more than {limits.max_image_pixels / 1e6:,.0f} "
                "megapixels (limit HOMERAG_MAX_IMAGE_MEGAPIXELS)") from exc
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
            raise CorruptDocumentError(f"{name}: not a readable image ({_reason(exc)})") from exc
        frames = getattr(image, "n_frames", 1) if inp.media_type == TIFF else 1
        if frames > MAX_PAGES:
            raise CorruptDocumentError(f"{name}: {frames} pages is more than {MAX_PAGES}")
        blocks: list[TextBlock] = []
        empty_pages: list[int] = []
        quality: dict[str, float] = {}
        printed: list[TextBlock] = []  # the lines as read (a title is a line of its own)
        for index in range(frames):
            if frames > 1:
                image.seek(index)
            try:
                read = read_scored(self.ocr, image.copy())
            except HomeragError as exc:  # the engine's errors do not know the file
                raise naming(exc, name) from exc
            text = read.text
            if not text.strip():
                empty_pages.append(index + 1)
                continue
            score = quality[str(index + 1)] = ocr_quality(text, read.confidence)
            printed.append(TextBlock(text=text))
            blocks.extend(with_quality(b, score) for b in page_blocks(text, page=index + 1))
        if not blocks:
            raise EmptyDocumentError(f"{name}: OCR found no legible text in the image")
        head = "\n".join(b.text for b in blocks[:30])
        metadata: dict[str, Any] = {
            "ocr": {"engine": self.ocr.name, "languages": list(self.ocr.languages),
                    "pages": [p for p in range(1, frames + 1) if p not in empty_pages],
                    "quality": quality},
            "image": {"width": image.width, "height": image.height, "format": image.format},
        }
        if empty_pages:
            metadata["pages_without_text"] = empty_pages
        # A title only from a reading good enough to trust (a screenshot's noise is no title).
        title = choose_title(lines=candidates(printed[:2])) \
            if max(quality.values()) >= TITLE_QUALITY else None
        return ParsedDocument(blocks=blocks, title=title, kind=guess_kind(head),
                              metadata=metadata, page_count=frames)


def _reason(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
