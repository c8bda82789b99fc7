"""The document page marks what a citation rests on: the passage lightly, its supporting span
strongly (`?chunk=C&span=S-E`), or a statement's row (`?row=N`); bad requests say why.
Server side only (the browser landing is tests/http/test_citations_browser.py)."""

from __future__ import annotations

import re
from html import unescape

from app.services.documents import highlight, parse_span, row_highlight
from tests.http.corpus import doc_id


def main_of(html: str) -> str:
    return html.split("<main>", 1)[1].split("</main>", 1)[0]


def test_highlight_marks_the_span_inside_the_passage_even_with_stale_offsets():
    content = "Intro.\nThe rent is 950 euros. It rises in May.\nEnd."
    passage = "The rent is 950 euros. It rises in May."
    start = content.index(passage)
    span = (content.index("It rises"), content.index("It rises") + len("It rises in May."))
    parts = highlight(content, start, start + len(passage), passage, span=span)
    assert (parts.lead, parts.strong, parts.tail) == ("The rent is 950 euros. ",
                                                      "It rises in May.", "")
    # Offsets from before three characters were prepended: found by text, span moved along.
    moved = highlight("abc" + content, start, start + len(passage), passage, span=span)
    assert moved.strong == "It rises in May." and moved.note is None
    outside = highlight(content, start, start + len(passage), passage, span=(0, 6))
    assert outside.span is None and "not inside this passage" in (outside.note or "")


def test_parse_span_and_row_lines():
    assert parse_span("120-245") == (120, 245) and parse_span(None) is None
    for bad in ("245-120", "12", "a-b", "-3-4"):
        try:
            parse_span(bad)
        except Exception as exc:
            assert "span:" in str(exc)
        else:
            raise AssertionError(bad)
    text = "Bank statement\n[row 2] 2026-10-01  -10.50 EUR  A\n[row 12] 2026-10-02  -1.00 EUR  B"
    assert row_highlight(text, "row", 12).strong == "[row 12] 2026-10-02  -1.00 EUR  B"
    assert row_highlight(text, "row", 2).strong.startswith("[row 2] ")
    missing = row_highlight(text, "row", 3)
    assert not missing.located and missing.note == "row 3 is not in this document's text"


def test_document_page_marks_the_span_strongly_inside_the_passage(client):
    hit = client.get("/api/search", params={"q": "How high is the base fee per month?"}).json()[0]
    r = client.get(hit["url"].split("#")[0])
    assert r.status_code == 200
    html = main_of(r.text)
    strong = re.search(r'<mark id="span" class="span">(.*?)</mark>', html, re.S)
    assert strong and unescape(strong.group(1)) == "The base fee is 12 euros per month."
    assert 'id="pdf-view"' in html and 'data-find="The base fee is 12 euros per month."' in html
    assert '<script type="module" src="/static/pdfview.js">' in r.text


def test_document_page_rejects_a_malformed_span_and_notes_a_stale_one(client):
    hit = client.get("/api/search", params={"q": "landlord rent"}).json()[0]
    r = client.get(f"/documents/{hit['document_id']}",
                   params={"chunk": hit["chunk_id"], "span": "nonsense"})
    assert r.status_code == 400 and "span: &#39;nonsense&#39; is not START-END" in r.text
    r = client.get(f"/documents/{hit['document_id']}",
                   params={"chunk": hit["chunk_id"], "span": "900000-900010"})
    assert r.status_code == 200 and 'id="mark-note"' in r.text and 'id="span"' not in r.text


def test_a_row_that_is_not_in_the_text_is_said_not_hidden(client):
    gym = doc_id(client.app.state.runtime.db, "gym.md")
    r = client.get(f"/documents/{gym}", params={"row": 7})
    assert r.status_code == 200 and "row 7 is not in this document&#39;s text" in r.text
