"""Pure rendering helpers: citation markers become links, everything else is escaped."""

from __future__ import annotations

from app.http.rendering import NAV_LINKS, cite_links, file_url, passage_url, shorten


def test_cite_links_links_valid_numbers_and_escapes_the_rest():
    html = str(cite_links("Rent <b>950</b> [1], see [2-3] and [9; 1].", valid=[1, 2, 3]))
    assert html == ('Rent &lt;b&gt;950&lt;/b&gt; [<a class="cite" href="#cite-1">1</a>], see '
                    '[<a class="cite" href="#cite-2">2</a>, <a class="cite" href="#cite-3">3</a>]'
                    ' and [9, <a class="cite" href="#cite-1">1</a>].')


def test_cite_links_leaves_non_markers_alone():
    assert str(cite_links("a [x] [12345] b", valid=[1])) == "a [x] [12345] b"
    assert str(cite_links(None)) == ""


def test_urls_and_shorten():
    assert passage_url(4, 17) == "/documents/4?chunk=17#passage"
    assert passage_url(None, 17) == "#"
    assert file_url(4, 2) == "/api/documents/4/file#page=2"
    assert file_url(4) == "/api/documents/4/file"
    assert shorten("a  b\n c", 10) == "a b c"
    assert shorten("word " * 100, 20).endswith(" …") and len(shorten("word " * 100, 20)) <= 21


def test_nav_has_the_core_pages_first():
    assert NAV_LINKS[:2] == (("/", "Ask"), ("/search", "Search"))
