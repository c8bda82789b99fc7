"""HtmlParser: visible text, headings, tables, charsets, bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.core.errors import DecodeError, EmptyDocumentError
from app.core.types import ParseInput, RawItem
from ingest.mediatypes import detect_media_type
from ingest.parsers import pick_parser
from ingest.parsers.html import HtmlParser

PAGE = """<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>Nebenkosten 2023</title>
<meta name="author" content="Hausverwaltung Muster">
<meta property="article:published_time" content="2024-02-01T08:00:00+01:00">
<style>body { color: red }</style><script>var tracking = "do not index";</script></head>
<body>
<nav><a href="/">Home</a> | <a href="/impressum">Impressum</a></nav>
<h1>Abrechnung</h1>
<p>Die <b>Heizkosten</b> betragen <em>812,40&nbsp;EUR</em>.</p>
<div hidden>secret hidden text</div><span style="display: none">also hidden</span>
<h2>Aufteilung</h2>
<table><tr><th>Posten</th><th>Betrag</th></tr>
<tr><td>Wasser</td><td>120,00</td></tr>
<tr><td>Müll <table><tr><td>Rest</td><td>40</td></tr></table></td><td>60,00</td></tr></table>
<ul><li>Erstes</li><li>Zweites<br>mit Umbruch</li></ul>
<h3>Hinweis</h3><p>Zahlbar bis 31.03.</p>
<h2>Kontakt</h2><pre>Zeile 1
  eingerückt</pre>
</body></html>"""


def _inp(data: bytes, name: str = "seite.html") -> ParseInput:
    return ParseInput.of(RawItem(origin=f"/docs/{name}", name=name, data=data), data,
                         detect_media_type(name, data[:4096]))


def test_visible_text_headings_tables_and_metadata():
    doc = HtmlParser().parse(_inp(PAGE.encode()))
    got = [(b.kind, b.heading, b.text) for b in doc.blocks]
    assert got == [
        ("heading", "Abrechnung", "Abrechnung"),
        ("text", "Abrechnung", "Die Heizkosten betragen 812,40 EUR."),
        ("heading", "Abrechnung > Aufteilung", "Aufteilung"),
        ("table", "Abrechnung > Aufteilung",
         "Posten | Betrag\nWasser | 120,00\nMüll Rest 40 | 60,00"),
        ("text", "Abrechnung > Aufteilung", "Erstes\nZweites\nmit Umbruch"),
        ("heading", "Abrechnung > Aufteilung > Hinweis", "Hinweis"),
        ("text", "Abrechnung > Aufteilung > Hinweis", "Zahlbar bis 31.03."),
        ("heading", "Abrechnung > Kontakt", "Kontakt"),
        ("text", "Abrechnung > Kontakt", "Zeile 1\n  eingerückt"),
    ]
    assert doc.title == "Nebenkosten 2023"
    assert doc.metadata == {"author": "Hausverwaltung Muster", "language": "de"}
    assert doc.occurred_at == datetime(2024, 2, 1, 7, 0, tzinfo=UTC)
    text = "\n".join(b.text for b in doc.blocks)
    for gone in ("tracking", "Impressum", "secret hidden", "also hidden", "color: red"):
        assert gone not in text


def test_legacy_charset_from_meta_tag():
    html = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
    data = html.encode() + "<body><p>Grüße – 5 €</p></body></html>".encode("cp1252")
    doc = HtmlParser().parse(_inp(data))
    assert doc.blocks[0].text == "Grüße – 5 €"


def test_xhtml_with_xml_declaration():
    data = ('<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
            "<body><h1>Rechnung</h1><p>Straße</p></body></html>").encode()
    doc = HtmlParser().parse(_inp(data, "a.xhtml"))
    assert [b.text for b in doc.blocks] == ["Rechnung", "Straße"]
    assert doc.title == "Rechnung"


def test_fragment_without_body_tag():
    doc = HtmlParser().parse(_inp(b"<p>Just a fragment</p> and tail text", "frag.html"))
    assert [b.text for b in doc.blocks] == ["Just a fragment", "and tail text"]


def test_registry_picks_html_parser():
    assert isinstance(pick_parser(_inp(PAGE.encode(), "page")), HtmlParser)


def test_page_with_only_scripts_is_empty():
    data = b"<html><head><script>x=1</script></head><body><nav>menu</nav></body></html>"
    with pytest.raises(EmptyDocumentError, match=r"^/docs/seite\.html: the HTML page holds no text"):
        HtmlParser().parse(_inp(data))


def test_whitespace_only_html_is_empty():
    with pytest.raises(EmptyDocumentError):
        HtmlParser().parse(_inp(b"   \n  ", "blank.html"))


def test_binary_disguised_as_html():
    data = bytes(range(256)) * 8
    inp = ParseInput.of(RawItem(origin="/docs/x.html", name="x.html"), data, "text/html")
    with pytest.raises(DecodeError, match=r"^/docs/x\.html: looks like binary"):
        HtmlParser().parse(inp)


# -- bounded depth (ingest/parsers/markup.py) ----------------------------------------------------
def test_deep_html_is_flattened_not_dropped():
    from ingest.parsers.markup import parse_html, tree_depth

    for depth in (300, 5000):
        markup = ("<html><body><p>top</p>" + "<div><b>x</b>" * depth
                  + "<script>hidden()</script><span hidden>secret</span>DEEP" + "</div>" * depth
                  + "<p>after</p></body></html>")
        root = parse_html(markup, max_depth=100)
        assert tree_depth(root) <= 100
        text = root.text_content()
        assert "DEEP" in text and "after" in text and "top" in text
        assert "hidden()" not in text and "secret" not in text


def test_shallow_html_is_left_as_lxml_parses_it():
    from ingest.parsers.markup import flatten_html, parse_html

    markup = PAGE
    root = parse_html(markup, max_depth=200)
    import lxml.html

    assert lxml.html.tostring(root) == lxml.html.tostring(lxml.html.document_fromstring(PAGE))
    flat = flatten_html("<p>a &amp; b</p><div><p>c", max_depth=50)
    assert flat == "<p>a &amp; b</p><div><p>c</p></div>"


def test_long_heading_is_clipped_in_the_heading_path():
    big = "Chapter " + "x" * 5000
    doc = HtmlParser().parse(_inp(f"<h1>{big}</h1><p>body text here</p>".encode()))
    assert len(doc.title) <= 200
    assert all(len(b.heading or "") <= 200 for b in doc.blocks)
