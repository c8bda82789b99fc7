"""Numbered context blocks `[1] … [k]` for the prompt, built from hits or other citables (pure).

Each block is rendered as

    <source id="3" title="Lease" path="/docs/lease.pdf" page="2" in="attachment of ...">
    ...document text...
    </source>

Document text is untrusted: anything in it that looks like a block boundary (`<source`, `</source`,
`<tool_result`, in any case or spacing) is neutralised to `&lt;source`, so a document cannot close
its block early and fake another one. Header values are escaped the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.answer.types import Citable, ContextBlock

if TYPE_CHECKING:
    from app.retrieval.types import Hit

# Roughly 4 characters per token for European text; budgets are in characters.
CHARS_PER_TOKEN = 4
DEFAULT_MAX_CHARS = 24_000
DEFAULT_MAX_BLOCK_CHARS = 4_000
ELLIPSIS = " […]"

_BOUNDARY_RE = re.compile(r"<(?=\s*/?\s*(?:source|tool_result)\b)", re.IGNORECASE)
# C0 controls except tab/newline/CR, and DEL: they confuse tokenizers and terminals.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Context:
    """The offered blocks and their rendering; `omitted` citables did not fit the budget."""

    blocks: tuple[ContextBlock, ...]
    text: str
    omitted: int = 0

    def by_number(self) -> dict[int, Citable]:
        return {b.n: b.citable for b in self.blocks}


def neutralise(text: str) -> str:
    """Untrusted text with block-boundary look-alikes and control characters defused."""
    return _BOUNDARY_RE.sub("&lt;", _CONTROL_RE.sub("", text))


def _attr(value: object) -> str:
    text = _CONTROL_RE.sub("", str(value)).replace("\n", " ").replace("\r", " ")
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def parent_label(metadata: Mapping[str, Any]) -> str | None:
    """'attachment of "<subject>" from <sender>, <date>' from a hit's metadata, if it has one.

    Accepts `parent_label` (used as is), a `parent` mapping with subject/title/from/date, or flat
    `parent_subject` / `parent_title` / `parent_from` / `parent_date` keys.
    """
    if not metadata:
        return None
    ready = metadata.get("parent_label")
    if isinstance(ready, str) and ready.strip():
        return ready.strip()
    parent = metadata.get("parent")
    info: Mapping[str, Any] = parent if isinstance(parent, Mapping) else {}

    def pick(*names: str) -> str | None:
        for name in names:
            value = info.get(name) or metadata.get(f"parent_{name}")
            if value:
                return str(value).strip()
        return None

    subject, sender, date = pick("subject", "title"), pick("from", "sender"), pick("date")
    if not (subject or sender):
        return None
    label = f'attachment of "{subject}"' if subject else "attachment of a message"
    if sender:
        label += f" from {sender}"
    if date:
        label += f", {date[:10]}"
    return label


def describe(c: Citable) -> str:
    """A short human label: title · path · page (used in retrieval-only answers and logs)."""
    parts = [c.title or c.path.rsplit("/", 1)[-1]]
    if c.title and c.path:
        parts.append(c.path)
    page_end = c.location.get("page_end") if c.location else None
    if c.page is not None:
        parts.append(f"pages {c.page}-{page_end}" if page_end else f"page {c.page}")
    if c.label:
        parts.append(c.label)
    return " · ".join(p for p in parts if p)


def render_block(n: int, c: Citable, shown: str) -> str:
    """One `<source id="n" ...>` block; header values escaped, text neutralised."""
    attrs: list[tuple[str, object]] = [("id", n)]
    if c.kind != "chunk":
        attrs.append(("kind", c.kind))
    if c.title:
        attrs.append(("title", c.title))
    attrs.append(("path", c.path))
    if c.page is not None:
        page_end = c.location.get("page_end")
        attrs.append(("page", f"{c.page}-{page_end}" if page_end else c.page))
    for key in ("heading", "date", "row", "line"):
        if c.location.get(key) not in (None, ""):
            attrs.append((key, c.location[key]))
    if c.label:
        attrs.append(("in", c.label))
    head = " ".join(f'{k}="{_attr(v)}"' for k, v in attrs)
    return f"<source {head}>\n{neutralise(shown).strip()}\n</source>"


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - len(ELLIPSIS))]
    # Prefer to cut at a word boundary when one is near.
    space = cut.rfind(" ", max(0, len(cut) - 80))
    if space > 0:
        cut = cut[:space]
    return cut + ELLIPSIS


def as_citables(items: Iterable[Hit | Citable]) -> list[Citable]:
    """Hits become Citables; Citables pass through."""
    return [i if isinstance(i, Citable) else Citable.from_hit(i) for i in items]


def build_context(
    items: Sequence[Hit | Citable],
    *,
    start: int = 1,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_block_chars: int = DEFAULT_MAX_BLOCK_CHARS,
) -> Context:
    """Number `items` from `start` in rank order and render them within a character budget.

    Duplicates (same chunk) are offered once. Blocks longer than `max_block_chars` are shortened;
    once the budget is used up the remaining items are omitted (the first one is always offered,
    shortened to the budget if need be).
    """
    blocks: list[ContextBlock] = []
    rendered: list[str] = []
    seen: set[str] = set()
    used = 0
    omitted = 0
    for c in as_citables(items):
        if c.key in seen:
            continue
        seen.add(c.key)
        n = start + len(blocks)
        shown = _shorten(c.text, max_block_chars)
        text = render_block(n, c, shown)
        overflow = used + len(text) - max_chars
        if overflow > 0:
            if blocks:
                omitted += 1
                continue
            shown = _shorten(shown, max(200, len(shown) - overflow))
            text = render_block(n, c, shown)
        blocks.append(ContextBlock(n=n, citable=c, shown=shown))
        rendered.append(text)
        used += len(text) + 2
    return Context(blocks=tuple(blocks), text="\n\n".join(rendered), omitted=omitted)


def approx_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN
