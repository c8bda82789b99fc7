"""The bounds on every expansion a parser performs, in one place (pure).

A file is small on disk and large in memory when it unpacks: a zip-based document (DOCX, XLSX,
PPTX, ODF), a mail message with attachments or nested parts, deep HTML, a spreadsheet spanning
millions of cells, a huge image. Each parser takes a `Limits` and refuses, before it expands
anything, what would break one, with a one-line error naming the file, the limit and its setting
(e.g. "unpacks to more than 200 MB (limit HOMERAG_MAX_UNPACKED_MB)"). Header and metadata texts
are clipped with `clip` before they are copied anywhere (a 2 MB Subject must not reach chunks).

The values come in from outside: the sync service builds them from the HOMERAG_MAX_* settings
(`Limits.from_settings`) and passes them to `ingest.parsers.make_parsers`; a parser built
without limits uses the defaults below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MB = 1024 * 1024
ELLIPSIS = "…"
# A child item (an attachment) that a limit kept from being read carries its failure under
# this hint: {"code": ErrorCode value, "message": one line naming it}; `pick_parser` raises it.
REJECTED_HINT = "rejected"


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on expansion; the defaults suit a household's real files with a wide margin."""

    max_unpacked_bytes: int = 200 * MB  # zip members together; a message's attachments together
    max_compression_ratio: float = 100.0  # unpacked / packed, per zip member and overall
    ratio_grace_bytes: int = 1 * MB  # members smaller than this are not ratio-checked (POI style)
    max_parts: int = 10_000  # members of a zip, parts of a MIME message
    max_attachments: int = 100  # attachments of one message; beyond: one failure for the rest
    max_attachment_bytes: int = 50 * MB  # one attachment, decoded
    max_nesting: int = 50  # MIME multiparts and attached messages, one inside another
    max_html_depth: int = 200  # deeper HTML is flattened (its text kept) before the tree walk
    max_header_chars: int = 2000  # a header or metadata value (Subject, To, author ...)
    max_title_chars: int = 200  # a title or a heading (copied into every chunk)
    max_sheet_cells: int = 10_000_000  # cells a workbook's sheets span (rows x columns)
    max_image_pixels: int = 120_000_000  # a photo or scan, and a PDF page rendered for OCR

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        """The limits from a `Settings` object (HOMERAG_MAX_* variables), given by the service
        layer (ingest does not read settings itself)."""
        return cls(
            max_unpacked_bytes=int(settings.max_unpacked_mb * MB),
            max_compression_ratio=float(settings.max_compression_ratio),
            max_parts=int(settings.max_parts),
            max_attachments=int(settings.max_attachments),
            max_attachment_bytes=int(settings.max_attachment_mb * MB),
            max_nesting=int(settings.max_nesting),
            max_html_depth=int(settings.max_html_depth),
            max_header_chars=int(settings.max_header_chars),
            max_sheet_cells=int(settings.max_sheet_cells),
            max_image_pixels=int(settings.max_image_megapixels * 1_000_000),
        )


DEFAULT_LIMITS = Limits()


class WithLimits:
    """Mixin of the parsers: `limits` given to the constructor, else the defaults."""

    _limits: Limits | None = None

    @property
    def limits(self) -> Limits:
        return self._limits if self._limits is not None else DEFAULT_LIMITS


def megabytes(n: int) -> str:
    """`209715200` -> "200 MB" for messages (binary megabytes, as the settings count them)."""
    value = n / MB
    return f"{value:.0f} MB" if value >= 10 or value == int(value) else f"{value:.1f} MB"


def clip(text: str | None, max_chars: int) -> str:
    """`text` cut to at most `max_chars` characters (an ellipsis marks the cut); "" for None."""
    if not text:
        return ""
    if len(text) <= max_chars:
        return text
    return text[: max(0, max_chars - 1)].rstrip() + ELLIPSIS


def clip_metadata(metadata: Mapping[str, Any], limits: Limits, *,
                  max_items: int = 200) -> dict[str, Any]:
    """Metadata with every string clipped to `max_header_chars` and every list to `max_items`
    entries (nested dicts and lists too), so document properties stay small in the database."""
    return {str(k)[:100]: _clip_value(v, limits, max_items) for k, v in metadata.items()}


def _clip_value(value: Any, limits: Limits, max_items: int) -> Any:
    if isinstance(value, str):
        return clip(value, limits.max_header_chars)
    if isinstance(value, Mapping):
        return clip_metadata(value, limits, max_items=max_items)
    if isinstance(value, list | tuple):
        return [_clip_value(v, limits, max_items) for v in list(value)[:max_items]]
    return value
