"""The server-rendered pages without JavaScript: form, full answer by POST, search, document view."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest

from tests.http.corpus import EVIL, doc_id
from tests.openai_stub import Reply, offered_numbers


def cite_first(text: str):
    def handler(request: dict[str, Any]) -> Reply:
        return Reply(text.format(n=offered_numbers(request)[0]))
    return handler


def main_of(html: str) -> str:
    return html.split("<main>", 1)[1].split("</main>", 1)[0]


def test_index_has_the_form_nav_and_the_index_label(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<form id="ask-form" class="ask" method="post" action="/ask">' in html
    assert 'name="question"' in html and 'name="kind"' in html and 'name="from"' in html
    assert '<a href="/search"' in html and '<a href="/"' in html
    assert "Index: lexical-hash (lexical, not semantic)" in html
    assert '<script src="/static/ask.js" defer></script>' in html
    assert client.get("/static/ask.js").status_code == 200
    assert client.get("/static/style.css").status_code == 200


def test_post_without_js_renders_the_retrieval_only_answer(client):
    r = client.post("/ask", data={"question": "gym membership notice period"})
    assert r.status_code == 200
    html = main_of(r.text)
    assert 'id="badge-retrieval-only"' in html
    assert "HOMERAG_LLM_BASE_URL" in html
    assert "gym membership notice period</textarea>" in html  # the question stays in the box
    first = re.search(r'<li class="citation" id="cite-1" value="1">.*?href="([^"]+)"', html, re.S)
    gym = doc_id(client.app.state.runtime.db, "gym.md")
    assert first and first.group(1).startswith(f"/documents/{gym}?chunk=")


def test_post_with_llm_renders_answer_with_citation_links_and_folded_reasoning(make_client,
                                                                              openai_stub):
    client = make_client(llm_base_url=openai_stub.base_url, llm_timeout=3.0)
    openai_stub.reply_with(cite_first("<think>check source {n}</think>Three months [{n}]."))
    html = main_of(client.post("/ask", data={"question": "gym membership notice period"}).text)
    assert 'id="badge-retrieval-only"' not in html and 'id="badge-uncited"' not in html
    assert 'Three months [<a class="cite" href="#cite-1">1</a>].' in html
    assert re.search(r'<details class="reasoning" id="reasoning"><summary>Reasoning</summary>'
                     r'<pre id="reasoning-text">check source 1</pre></details>', html)
    assert 'id="cite-1"' in html and "notice period of three months" in html


def test_uncited_answer_shows_the_warning(make_client, openai_stub):
    client = make_client(llm_base_url=openai_stub.base_url, llm_timeout=3.0)
    openai_stub.reply_with("Probably three months [42].")
    html = main_of(client.post("/ask", data={"question": "gym notice period"}).text)
    assert 'id="badge-uncited"' in html and 'id="uncited-warning"' in html
    assert "Probably three months." in html
    assert "cite-42" not in html
    assert 'id="offered"' in html  # what the model was given is still listed


def test_filters_reach_retrieval_and_bad_dates_are_an_error_page(client):
    html = main_of(client.post("/ask", data={"question": "euros invoice", "kind": "email"}).text)
    paths = re.findall(r'<div class="path">([^<]+)</div>', html)
    assert paths and all("sweep.eml" in p for p in paths)
    r = client.post("/ask", data={"question": "rent", "from": "31.12.2024"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    html = main_of(r.text)
    assert ('<p class="notice warn" id="form-error" role="alert">from: &#39;31.12.2024&#39; is '
            "not a date (use YYYY-MM-DD)</p>") in html
    assert 'value="31.12.2024"' in html and ">rent</textarea>" in html  # kept for fixing
    r = client.get("/search", params={"q": "rent", "kind": "spaceship"})
    assert r.status_code == 400 and "kind: unknown spaceship" in r.text
    assert "Traceback" not in r.text


@pytest.mark.parametrize("path", ["/search?q=boiler+service+visit", "/ask"])
def test_document_text_is_escaped_everywhere(client, path):
    r = client.post("/ask", data={"question": "boiler service visit"}) if path == "/ask" \
        else client.get(path)
    assert r.status_code == 200
    html = main_of(r.text)
    assert "<script>window" not in html and "<img src=x" not in html
    assert "&lt;script&gt;window.__pwned = 1;" in html
    assert EVIL.split("<img")[0] in unescape(html)


def test_search_page_lists_results_with_passage_links(client):
    html = main_of(client.get("/search", params={"q": "landlord rent"}).text)
    assert '<ol class="citations results" id="results">' in html
    rent = doc_id(client.app.state.runtime.db, "rent.txt")
    assert f'href="/documents/{rent}?chunk=' in html
    empty = main_of(client.get("/search", params={"q": "rent", "to": "2001-01-01"}).text)
    assert "No matching passages." in empty


def test_document_page_highlights_the_cited_passage(client):
    hit = client.get("/api/search", params={"q": "electricity price per kWh 31 cents"}).json()[0]
    assert hit["path"].endswith("electricity.pdf") and hit["page"]
    r = client.get(f"/documents/{hit['document_id']}", params={"chunk": hit["chunk_id"]})
    assert r.status_code == 200
    html = main_of(r.text)
    marked = re.search(r'<mark id="passage" class="passage">(.*?)</mark>', html, re.S)
    assert marked and unescape(marked.group(1)) == hit["text"]
    assert (f'href="/api/documents/{hit["document_id"]}/file#page={hit["page"]}"') in html
    assert f"at page {hit['page']}" in html


def test_document_page_escapes_and_links_the_message_of_an_attachment(client):
    db = client.app.state.runtime.db
    evil = doc_id(db, "evil.txt")
    html = main_of(client.get(f"/documents/{evil}").text)
    assert "<script>" not in html and "&lt;script&gt;" in html
    att = doc_id(db, "sweep-invoice.txt")
    html = main_of(client.get(f"/documents/{att}").text)
    assert "Attached to" in html and "Invoice for the chimney sweep" in html


def test_document_page_errors(client):
    r = client.get("/documents/999999")
    assert r.status_code == 404 and "document 999999 does not exist" in r.text
    gym = doc_id(client.app.state.runtime.db, "gym.md")
    rent_hit = client.get("/api/search", params={"q": "landlord rent"}).json()[0]
    r = client.get(f"/documents/{gym}", params={"chunk": rent_hit["chunk_id"]})
    assert r.status_code == 404 and "is not part of document" in r.text
