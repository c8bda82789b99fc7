"""Jinja2 rendering for the web pages: one environment (autoescape on), the nav links, filters.

Pages of other modules (reports, contracts) extend `base.html`, render with `render()` and add
their link to `NAV_LINKS`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context as jinja2_pass_context
from markupsafe import Markup, escape

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

# (path, label): the site navigation, in order. One line per page.
NAV_LINKS: tuple[tuple[str, str], ...] = (
    ("/", "Ask"),
    ("/search", "Search"),
    ("/library", "Library"),
    ("/upload", "Add"),
    ("/transactions", "Transactions"),
    ("/reports", "Reports"),
    ("/contracts", "Contracts"),
    ("/sources", "Sources"),
    ("/health", "Health"),
    ("/stats", "Stats"),
)

def cite_links(text: str | None, valid: Any = None) -> Markup:
    """Answer text, escaped, with each `[n]` marker (also `[1, 2]`, `[3-5]`) linking to its
    citations; numbers not in `valid` stay plain text."""
    from app.services.ask import MARKER_RE, marker_numbers

    valid_numbers = {int(n) for n in valid} if valid is not None else None
    out: list[str] = []
    pos = 0
    text = text or ""
    for m in MARKER_RE.finditer(text):
        out.append(str(escape(text[pos:m.start()])))
        parts = [f'<a class="cite" href="#cite-{n}">{n}</a>'
                 if valid_numbers is None or n in valid_numbers else str(n)
                 for n in marker_numbers(m.group(1))]
        out.append("[" + ", ".join(parts) + "]")
        pos = m.end()
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


def passage_url(document_id: int | None, chunk_id: int | None) -> str:
    if document_id is None:
        return "#"
    query = f"?{urlencode({'chunk': chunk_id})}" if chunk_id is not None else ""
    return f"/documents/{document_id}{query}#passage"


def file_url(document_id: int | None, page: int | None = None) -> str:
    if document_id is None:
        return "#"
    return f"/api/documents/{document_id}/file" + (f"#page={page}" if page else "")


def shorten(text: str | None, limit: int = 320) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rsplit(" ", 1)[0] + " …"


@jinja2_pass_context
def csrf_token(context: Any) -> str:
    """The CSRF token of the page being rendered (app/http/csrf.py)."""
    request = context.get("request")
    return str(request.scope.get("homerag.csrf", "")) if request is not None else ""


@jinja2_pass_context
def csrf_field(context: Any) -> Markup:
    """The hidden form field every POST form carries (first in the form: multipart reads it
    from the first 64 KiB)."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(
        csrf_token(context))


@functools.cache
def templates() -> Jinja2Templates:
    """The one template environment (built on first use, not at import)."""
    import jinja2

    # Document text is untrusted HTML: autoescape everything, always.
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True)
    t = Jinja2Templates(env=env)
    t.env.globals["nav_links"] = NAV_LINKS
    t.env.globals["passage_url"] = passage_url
    t.env.globals["file_url"] = file_url
    t.env.globals["csrf_token"] = csrf_token
    t.env.globals["csrf_field"] = csrf_field
    t.env.filters["cite_links"] = cite_links
    t.env.filters["shorten"] = shorten
    return t


def index_label(request: Request) -> str | None:
    """'lexical-hash (lexical, not semantic)' or 'bge-m3': which embedder built the index."""
    from app.services.health import index_label as label

    rt = getattr(request.app.state, "runtime", None)
    return None if rt is None else label(rt)


def render(request: Request, name: str, context: dict[str, Any] | None = None, *,
           status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    values = {"index_label": index_label(request), "path": request.url.path, **(context or {})}
    return templates().TemplateResponse(request, name, values, status_code=status_code,
                                        headers=headers)
