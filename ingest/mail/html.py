"""HTML mail bodies to clean text (pure, lxml): blocks on their own lines, tables as rows,
scripts, styles and hidden preheaders dropped, quoted replies prefixed with "> " and signature
blocks introduced by "-- " so that the plain-text quote detector treats both kinds of mail alike.
"""

from __future__ import annotations

import re

from ingest.limits import DEFAULT_LIMITS

_BLOCK = frozenset(
    ["address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul"]
)
_DROP = frozenset(["script", "style", "head", "title", "meta", "link", "noscript", "template", "svg", "object", "iframe", "button", "select"])
_INVISIBLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|max-height\s*:\s*0", re.I)
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u034f\u00ad]")
_WS = re.compile(r"[ \t\r\n\f\v\xa0]+")
# Markers mail clients put on the signature block (quoted parts are <blockquote>s).
_SIGNATURE_CLASSES = ("gmail_signature", "moz-signature", "signature")


class _Writer:
    """Accumulates text with at most one blank line between blocks."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def text(self, value: str) -> None:
        if not value:
            return
        self.parts.append(value)

    def inline(self, value: str) -> None:
        value = _WS.sub(" ", _ZERO_WIDTH.sub("", value))
        if not value:
            return
        if value.startswith(" ") and (not self.parts or self.parts[-1].endswith((" ", "\n"))):
            value = value.lstrip(" ")
        self.parts.append(value)

    def newline(self, blank: bool = False) -> None:
        tail = "".join(self.parts[-2:])
        if not self.parts or tail.endswith("\n\n"):
            return
        if tail.endswith("\n"):
            if blank:
                self.parts.append("\n")
            return
        self.parts.append("\n\n" if blank else "\n")

    def value(self) -> str:
        return "".join(self.parts)


def _classes(el: object) -> str:
    get = getattr(el, "get", None)
    if get is None:
        return ""
    return f"{get('class') or ''} {get('id') or ''}".lower()


def _walk(el: object, out: _Writer, *, pre: bool = False) -> None:
    tag = el.tag if isinstance(el.tag, str) else ""  # type: ignore[attr-defined]
    tag = tag.lower().rsplit("}", 1)[-1]
    if not tag:  # comments, processing instructions
        if el.tail:  # type: ignore[attr-defined]
            out.text(el.tail) if pre else out.inline(el.tail)  # type: ignore[attr-defined]
        return
    if tag in _DROP or _INVISIBLE.search(el.get("style") or ""):  # type: ignore[attr-defined]
        _tail(el, out, pre=pre)
        return
    marks = _classes(el)
    if tag == "blockquote":
        inner = _Writer()
        _children(el, inner, pre=pre)
        quoted = tidy_lines(inner.value())
        out.newline()
        for line in quoted.splitlines():
            out.text(f"> {line}".rstrip() + "\n")
        out.newline()
        _tail(el, out, pre=pre)
        return
    if tag == "div" and any(c in marks.split() for c in _SIGNATURE_CLASSES):
        out.newline()
        out.text("-- \n")
    if tag == "br":
        out.text("\n")
        _tail(el, out, pre=pre)
        return
    if tag == "hr":
        out.newline()
        out.text("________________________________\n")
        _tail(el, out, pre=pre)
        return
    block = tag in _BLOCK
    if block:
        out.newline(blank=tag in ("p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "pre"))
    if tag == "li":
        out.text("- ")
    elif tag in ("td", "th") and out.parts and not out.parts[-1].endswith("\n"):
        out.text(" | ")
    elif tag == "img":
        alt = (el.get("alt") or "").strip()  # type: ignore[attr-defined]
        if alt and len(alt) > 2:
            out.inline(f" {alt} ")
    _children(el, out, pre=pre or tag == "pre")
    if block:
        out.newline(blank=tag in ("p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "pre"))
    _tail(el, out, pre=pre)


def _children(el: object, out: _Writer, *, pre: bool) -> None:
    if el.text:  # type: ignore[attr-defined]
        out.text(el.text) if pre else out.inline(el.text)  # type: ignore[attr-defined]
    for child in el:  # type: ignore[attr-defined]
        _walk(child, out, pre=pre)


def _tail(el: object, out: _Writer, *, pre: bool) -> None:
    if el.tail:  # type: ignore[attr-defined]
        out.text(el.tail) if pre else out.inline(el.tail)  # type: ignore[attr-defined]


def tidy_lines(text: str) -> str:
    """Strip line ends, drop runs of blank lines, trim the ends."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if not line.strip() and (not out or not out[-1].strip()):
            continue
        out.append(line if line.strip() else "")
    return "\n".join(out).strip()


def html_to_text(markup: str, *, max_depth: int = DEFAULT_LIMITS.max_html_depth) -> str:
    """Readable text of an HTML body; "" for markup with no text. Deeper than `max_depth`,
    the markup is flattened first (text kept; see ingest/parsers/markup.py)."""
    from ingest.parsers.markup import parse_html  # lazy: the parsers package imports ingest.mail

    root = parse_html(markup, max_depth=max_depth)
    if root is None:  # no element lxml accepts: whatever text is between the tags
        return tidy_lines(_WS.sub(" ", re.sub(r"<[^>]+>", " ", markup.replace("\x00", ""))))
    out = _Writer()
    _walk(root, out)
    return tidy_lines(out.value().replace("\xa0", " "))
