"""Use case: links into homerag's web UI for citations (the document page with the passage
marked, a transaction's statement rows), absolute when HOMERAG_PUBLIC_URL is set. The MCP tools,
/v1/chat/completions and conversation exports all link the same way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    from app.services.runtime import Runtime


def web_url(rt: Runtime | None, path: str) -> str:
    """`path` on the web UI: absolute under the configured public URL, else as given."""
    base = rt.settings.public_url if rt is not None else None
    return f"{base}{path}" if base and path.startswith("/") else path


def citation_path(c: Mapping[str, Any]) -> str | None:
    """Where a citation opens: its own `url` (the passage with its supporting sentences, or the
    statement row, marked on the document page), else the passage or the transaction's page."""
    if isinstance(c.get("url"), str) and c["url"]:
        return str(c["url"])
    location = c.get("location") or {}
    if c.get("kind") == "transaction" and location.get("transaction_id") is not None:
        return f"/reports/transactions/{int(location['transaction_id'])}"
    if c.get("document_id") is None:
        return None
    query = f"?{urlencode({'chunk': c['chunk_id']})}" if c.get("chunk_id") is not None else ""
    return f"/documents/{int(c['document_id'])}{query}" + ("#passage" if query else "")


def with_link(rt: Runtime | None, c: Mapping[str, Any]) -> dict[str, Any]:
    """The citation's JSON with `url` (None when it has no place to open)."""
    path = citation_path(c)
    return {**c, "url": web_url(rt, path) if path else None}


def citation_label(c: Mapping[str, Any]) -> str:
    """'Gym contract, p. 2' / 'statement.csv, row 14': how a source is named in text."""
    base = str(c.get("path") or "").rsplit("/", 1)[-1]
    # A transaction's title is its place in the statement ("row 14"): name the file instead.
    title = None if c.get("kind") == "transaction" else c.get("title")
    name = title or base or "source"
    location = c.get("location") or {}
    if c.get("page"):
        name += f", p. {c['page']}"
    elif location.get("row"):
        name += f", row {location['row']}"
    elif location.get("line"):
        name += f", line {location['line']}"
    return str(name)


def sources_markdown(rt: Runtime | None, citations: Sequence[Mapping[str, Any]]) -> str:
    """A markdown list '- **[n]** [label](url)' of the citations, one per line (bullets, not
    an ordered list: renderers renumber those, and [n] must match the markers in the text)."""
    lines = []
    for c in citations:
        path = citation_path(c)
        label = citation_label(c).replace("[", "(").replace("]", ")")
        link = f"[{label}]({web_url(rt, path)})" if path else label
        lines.append(f"- **[{c.get('n')}]** {link}")
    return "\n".join(lines)
