"""Bounded HTML parsing shared by the HTML parser, office tables and mail bodies (pure, lxml).

libxml2 stops building the tree 256 elements deep and silently drops everything after that point
(the rest of the page included), and the tree walkers recurse once per level. So a tree deeper
than `max_depth` is parsed a second time from a flattened copy of the markup: elements below that
depth lose their tags (a block becomes a line break) but keep their text, so nothing the sender
wrote is dropped and the walkers' recursion stays bounded. Script, style and hidden elements are
left out of the flattened copy, as the walkers would leave them out of the text.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

from ingest.limits import DEFAULT_LIMITS

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                   "param", "source", "track", "wbr"})
# Elements whose content is never text the reader sees (both walkers drop them too).
_SKIP = frozenset({"script", "style", "noscript", "template", "svg", "iframe", "object",
                   "canvas", "select", "button", "math"})
_BLOCKISH = frozenset({"p", "div", "section", "article", "main", "header", "footer", "aside",
                       "ul", "ol", "li", "dl", "dt", "dd", "blockquote", "pre", "address",
                       "table", "tbody", "thead", "tfoot", "tr", "td", "th", "h1", "h2", "h3",
                       "h4", "h5", "h6", "center", "form", "fieldset", "figure", "figcaption"})
# A start tag of these closes an open element of the same group (HTML's implied end tags).
_IMPLIED = {"p": {"p"}, "li": {"li"}, "dt": {"dt", "dd"}, "dd": {"dt", "dd"},
            "tr": {"tr", "td", "th"}, "td": {"td", "th"}, "th": {"td", "th"},
            "option": {"option"}}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none", re.I)
# Room for the html/body elements lxml adds around a fragment.
_MARGIN = 4


def parse_html(text: str, *, max_depth: int = DEFAULT_LIMITS.max_html_depth) -> Any:
    """An lxml element tree for `text`, at most about `max_depth` deep; None when empty."""
    import lxml.html
    from lxml.etree import ParserError

    text = _XML_DECL.sub("", text.replace("\x00", ""), count=1)  # lxml refuses str + encoding
    if not text.strip():
        return None
    parser = lxml.html.HTMLParser()
    try:
        root = lxml.html.document_fromstring(text, parser=parser)
    except ParserError:
        return None
    truncated = any("depth" in entry.message.lower() for entry in parser.error_log)
    if not truncated and tree_depth(root) <= max_depth:
        return root
    flat = flatten_html(text, max_depth=max(8, max_depth - _MARGIN))
    try:
        root = lxml.html.document_fromstring(flat)
    except ParserError:
        return None
    if tree_depth(root) > max_depth:  # cannot happen by construction; keep the text regardless
        root = lxml.html.document_fromstring(f"<pre>{html.escape(root.text_content())}</pre>")
    return root


def tree_depth(root: Any) -> int:
    """Elements on the longest path from `root` down (iterative: no recursion limit)."""
    from lxml import etree

    deepest = depth = 0
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        if event == "start":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def flatten_html(text: str, *, max_depth: int) -> str:
    """`text` re-serialised with no element deeper than `max_depth`: deeper tags are dropped
    (block tags become <br>), their text kept; script, style and hidden subtrees left out."""
    flattener = _Flattener(max_depth)
    flattener.feed(text)
    flattener.close()
    flattener.finish()
    return "".join(flattener.out)


class _Flattener(HTMLParser):
    def __init__(self, max_depth: int) -> None:
        super().__init__(convert_charrefs=True)
        self.max_depth = max_depth
        self.out: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, written out)
        self.emitted = 0  # written-out elements currently open
        self.skip_at: int | None = None  # stack size where a skipped subtree began

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            if self.skip_at is None:
                self.out.append(_start(tag, attrs))
            return
        implied = _IMPLIED.get(tag)
        if implied and self.stack and self.stack[-1][0] in implied:
            self._pop_to(len(self.stack) - 1)
        hidden = tag in _SKIP or any(k == "hidden" for k, _ in attrs) or any(
            k == "style" and v and _HIDDEN_STYLE.search(v) for k, v in attrs)
        if self.skip_at is None and hidden:
            self.skip_at = len(self.stack)
        write = self.skip_at is None and self.emitted < self.max_depth
        if write:
            self.out.append(_start(tag, attrs))
            self.emitted += 1
        elif self.skip_at is None:
            self.out.append("<br>" if tag in _BLOCKISH else " ")
        self.stack.append((tag, write))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                self._pop_to(index)
                return  # an end tag without its start is ignored, as browsers do

    def handle_data(self, data: str) -> None:
        if self.skip_at is None:
            self.out.append(html.escape(data, quote=False))

    def _pop_to(self, index: int) -> None:
        while len(self.stack) > index:
            tag, written = self.stack.pop()
            if written:
                self.out.append(f"</{tag}>")
                self.emitted -= 1
            elif self.skip_at is None:
                self.out.append("<br>" if tag in _BLOCKISH else " ")
            if self.skip_at is not None and len(self.stack) <= self.skip_at:
                self.skip_at = None

    def finish(self) -> None:
        self._pop_to(0)


def _start(tag: str, attrs: list[tuple[str, str | None]]) -> str:
    parts = [tag]
    for key, value in attrs:
        if not re.fullmatch(r"[A-Za-z_:][-A-Za-z0-9_:.]*", key):
            continue  # attribute names a serialiser could not write back
        parts.append(key if value is None else f'{key}="{html.escape(value)}"')
    return "<" + " ".join(parts) + ">"
