"""Build SearchFilters from user input (CLI options, query parameters), with clear errors."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from app.core.errors import InvalidInputError
from app.core.types import DOCUMENT_KINDS
from app.retrieval.types import SearchFilters


def parse_date(value: str | None, field: str) -> date | None:
    if value is None or not str(value).strip():
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInputError(f"{field}: {value!r} is not a date (use YYYY-MM-DD)") from None


def make_filters(*, kinds: Iterable[str] = (), source_kinds: Iterable[str] = (),
                 sources: Iterable[str] = (), document_ids: Iterable[int] = (),
                 date_from: str | date | None = None, date_to: str | date | None = None,
                 sender: str | None = None, recipient: str | None = None,
                 folder: str | None = None, has_attachment: bool | None = None) -> SearchFilters:
    kinds = tuple(k.strip().lower() for k in kinds if k and k.strip())
    bad = [k for k in kinds if k not in DOCUMENT_KINDS]
    if bad:
        raise InvalidInputError(f"kind: unknown {', '.join(bad)} (known: "
                                f"{', '.join(DOCUMENT_KINDS)})")
    d_from = date_from if isinstance(date_from, date) else parse_date(date_from, "from")
    d_to = date_to if isinstance(date_to, date) else parse_date(date_to, "to")
    if d_from and d_to and d_from > d_to:
        raise InvalidInputError(f"from ({d_from}) is after to ({d_to})")
    metadata: dict[str, object] = {}
    if sender:
        metadata["from"] = sender
    if recipient:
        metadata["to"] = recipient
    if folder:
        metadata["folder"] = folder
    if has_attachment is not None:
        metadata["has_attachments"] = bool(has_attachment)
    return SearchFilters(
        kinds=kinds,
        source_kinds=tuple(s for s in source_kinds if s),
        sources=tuple(s for s in sources if s),
        document_ids=tuple(int(d) for d in document_ids),
        date_from=d_from,
        date_to=d_to,
        metadata=metadata,
    )
