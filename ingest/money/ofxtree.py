"""A tolerant reader of OFX 1.x (SGML) and 2.x (XML) bodies into a small element tree (pure).

Real downloads break the specification in ways a strict parser refuses: a body that starts
straight with <OFX>, an <?OFX ...?> line without <?xml?>, SGML headers missing OLDFILEUID or
NEWFILEUID, XML comments, empty elements (<MEMO></MEMO> or <MEMO> followed by the next tag),
closing tags on some SGML elements and not others. None of that changes what the file says, so
this reader accepts it. What it does not accept is what would need a guess: a body without
<OFX>, a truncated file (no </OFX>), a closing tag of an aggregate that was never opened, or
text where no element can hold it. Those raise CorruptDocumentError in plain words.

The rule that makes unclosed SGML elements unambiguous: an element closed implicitly (by the
closing tag of an enclosing aggregate) is a leaf, so whatever followed it belongs to its parent.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

from app.core.errors import CorruptDocumentError

_TOKEN = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9_.]*)[^>]*>([^<]*)")
_STRIP = re.compile(r"<!--.*?-->|<\?.*?\?>|<!\[CDATA\[|\]\]>|<!DOCTYPE[^>]*>", re.DOTALL)
_HEADER_FIELD = re.compile(r"^\s*([A-Z]+)\s*:\s*(.*?)\s*$", re.MULTILINE)
_PI_FIELD = re.compile(r'([A-Z]+)\s*=\s*"([^"]*)"')
_XML_ENCODING = re.compile(rb'<\?xml[^>]*encoding\s*=\s*["\']([A-Za-z0-9_.-]+)', re.IGNORECASE)


class Element:
    """An OFX element: a leaf with `text`, or an aggregate with `children`."""

    __slots__ = ("_index", "children", "closed", "line", "tag", "text")

    def __init__(self, tag: str, line: int, text: str | None = None,
                 children: list[Element] | tuple[()] | None = None) -> None:
        self.tag = tag
        self.text = text
        # Leaves share one empty tuple (most elements are leaves: a list each would cost).
        self.children: list[Element] = [] if children is None else children  # type: ignore[assignment]
        self.line = line
        self.closed = False  # closed by its own end tag (so an aggregate, or an empty leaf)
        self._index: dict[str, Element] | None = None  # first child by tag, built on first use

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<{self.tag} line {self.line}>"

    def child(self, tag: str) -> Element | None:
        index = self._index
        if index is None:  # the tree is complete when anyone asks: index it once
            index = {}
            for c in reversed(self.children):
                index[c.tag] = c
            self._index = index
        return index.get(tag)

    def find(self, path: str) -> Element | None:
        """The first element along a slash path of child tags."""
        el: Element | None = self
        for part in path.split("/"):
            if el is None:
                return None
            el = el.child(part)
        return el

    def findall(self, tag: str) -> list[Element]:
        return [c for c in self.children if c.tag == tag]

    def value(self, path: str) -> str | None:
        """Stripped text of the element at `path`; None when absent or empty."""
        el = self.find(path)
        if el is None or el.text is None:
            return None
        return el.text or None

    def iter(self, tag: str | None = None) -> Iterator[Element]:
        """This element and all below it, in document order."""
        stack = [self]
        while stack:
            el = stack.pop()
            if tag is None or el.tag == tag:
                yield el
            stack.extend(reversed(el.children))


def header_fields(text: str) -> dict[str, str]:
    """OFX 1 "KEY:VALUE" header lines and OFX 2 <?OFX KEY="VALUE"?> attributes, upper-cased keys."""
    start = text.upper().find("<OFX")
    head = text[:start] if start >= 0 else text[:2048]
    out = {k.upper(): v for k, v in _HEADER_FIELD.findall(head)}
    pi = re.search(r"<\?OFX(.*?)\?>", head, re.IGNORECASE | re.DOTALL)
    if pi:
        out.update({k.upper(): v for k, v in _PI_FIELD.findall(pi.group(1).upper())})
    return out


def decode_ofx(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding used: the XML declaration, else the OFX 1 header
    (ENCODING:UTF-8, CHARSET:1252 / 8859-1), else UTF-8 when it decodes, else cp1252."""
    m = _XML_ENCODING.search(data[:512])
    head = data[:2048].decode("latin-1").upper()
    candidates: list[str] = []
    if m:
        candidates.append(m.group(1).decode("ascii"))
    if re.search(r"ENCODING\s*:\s*UTF-?8", head):
        candidates.append("utf-8")
    charset = re.search(r"CHARSET\s*:\s*([A-Z0-9-]+)", head)
    if charset:
        cs = charset.group(1)
        if cs in ("1252", "WINDOWS-1252", "CP1252"):
            candidates.append("cp1252")
        elif cs in ("8859-1", "ISO-8859-1", "ISO8859-1", "LATIN1"):
            candidates.append("latin-1")
        elif cs in ("UTF-8", "UTF8"):
            candidates.append("utf-8")
    candidates += ["utf-8", "cp1252", "latin-1"]
    for enc in candidates:
        try:
            return data.decode(enc), enc
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1"), "latin-1"  # pragma: no cover - latin-1 always decodes


def parse_tree(text: str, *, name: str,
               collect: dict[str, list[Element]] | None = None) -> Element:
    """The <OFX> element of a decoded OFX file; aggregates whose tag is a key of `collect`
    are appended to its lists as they are read (no second walk over the tree).

    Raises CorruptDocumentError (no <OFX>, truncated, a stray closing tag, stray text).
    """
    collect = collect if collect is not None else {}
    upper = text.upper()
    start = upper.find("<OFX>")
    if start < 0:
        raise CorruptDocumentError(f"{name}: not an OFX file (no <OFX> element)")
    if upper.rfind("</OFX>") < 0:
        raise CorruptDocumentError(f"{name}: OFX file is truncated (no closing </OFX> tag)")
    line = text.count("\n", 0, start) + 1
    body = _STRIP.sub(_blank_keeping_lines, text[start:])
    root = Element("#root", line)
    stack = [root]
    pos = 0
    count = body.count
    for m in _TOKEN.finditer(body):
        closing, tag, tail = m.groups()
        tag = tag.upper()
        parent = stack[-1]
        if closing:
            last = parent.children[-1] if parent.children else None
            if parent.tag == tag:
                stack.pop().closed = True
            elif last is not None and last.tag == tag and last.text:
                pass  # </NAME> after a leaf <NAME>value, already complete
            elif any(el.tag == tag for el in stack):
                while stack[-1].tag != tag:  # implicitly closed: leaves, whose followers move up
                    _close_implicitly(stack)
                stack.pop().closed = True
            elif any(c.tag == tag and c.text for c in parent.children):
                pass  # tidy-style files close leaves late, nested: </CODE> after </SEVERITY>
            else:
                line += count("\n", pos, m.start())
                raise CorruptDocumentError(
                    f"{name} line {line}: closing tag </{tag}> without an opening <{tag}>")
            if tag == "OFX":
                break
            if tail.strip():
                line += count("\n", pos, m.start())
                raise CorruptDocumentError(
                    f"{name} line {line}: unexpected text {tail.strip()[:40]!r} after </{tag}>")
            continue
        value = tail.strip()
        if value:  # a leaf: no line number needed (citations point at aggregates)
            el = Element(tag, 0, html.unescape(value) if "&" in value else value, ())
        else:
            line += count("\n", pos, m.start())
            pos = m.start()
            el = Element(tag, line)
            stack.append(el)
            if tag in collect:
                collect[tag].append(el)
        parent.children.append(el)
    ofx = root.find("OFX")
    if ofx is None:  # pragma: no cover - start guarantees an <OFX> token
        raise CorruptDocumentError(f"{name}: not an OFX file (no <OFX> element)")
    while len(stack) > 1 and stack[-1] is not ofx:
        _close_implicitly(stack)
    return ofx


def _close_implicitly(stack: list[Element]) -> None:
    """Pop an element that was never closed. When nothing inside it was an aggregate closed by
    its own end tag, it was an empty leaf (<MEMO> with no value) and the elements read after it
    are its parent's; otherwise it is an aggregate whose end tag is missing (a BANKTRANLIST
    left open before LEDGERBAL) and keeps its children."""
    el = stack.pop()
    parent = stack[-1]
    if el.children and not any(c.closed and c.children for c in el.children):
        parent.children.extend(el.children)
        el.children = []
        el.text = el.text or ""


def _blank_keeping_lines(m: re.Match[str]) -> str:
    return "\n" * m.group(0).count("\n")
