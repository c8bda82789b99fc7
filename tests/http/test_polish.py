"""Papercuts of the web UI (issue 15): the no-LLM notice said once, /favicon.ico, /stats in the
navigation, the document page's "open the original at page N" link following the cited span."""

from __future__ import annotations

import re

NO_LLM = "no language model is configured"


def ask_form(client, question: str, conversation_id: int | None = None):
    data = {"question": question}
    if conversation_id is not None:
        data["conversation_id"] = str(conversation_id)
    return client.post("/ask", data=data)


def test_the_no_llm_notice_is_said_once_per_answer(client):
    first = ask_form(client, "When should the radiators be bled?")
    assert first.status_code == 200
    assert first.text.count(NO_LLM) == 1, first.text
    # The answer still says which passages to read, with its markers linked.
    answer = re.search(r'<div class="answer-text retrieval-only" id="answer-text">(.*?)</div>',
                       first.text, re.S)
    assert answer and answer.group(1).startswith("Read the most relevant passages: ")
    assert '<a class="cite" href="#cite-1">1</a>' in answer.group(1)
    conv = int(re.search(r'id="conversation-id" value="(\d+)"', first.text).group(1))

    second = ask_form(client, "and the gym contract?", conv)
    assert second.status_code == 200
    # Two turns on the page (the first as a stored turn): the notice once each.
    assert second.text.count(NO_LLM) == 2, second.text
    reopened = client.get("/", params={"c": conv}).text
    assert reopened.count('<article class="turn"') == 2
    assert reopened.count(NO_LLM) == 2
    # The JSON answer keeps its full text (API, MCP and CLI clients read it alone).
    body = client.post("/api/ask", json={"question": "When should the radiators be bled?"}).json()
    assert body["answer"].startswith(f"Retrieval-only answer: {NO_LLM}")


def test_favicon_ico_is_served_to_everyone_and_nothing_else_opens(client):
    import io

    from PIL import Image
    from sqlalchemy import text

    from app.services import users as users_service

    for_all = client.get("/favicon.ico")
    assert for_all.status_code == 200
    assert for_all.headers["content-type"] == "image/vnd.microsoft.icon"
    assert for_all.content[:4] == b"\x00\x00\x01\x00"  # an ICO header, not a PNG renamed
    assert {(16, 16), (32, 32)} <= set(Image.open(io.BytesIO(for_all.content)).info["sizes"])
    rt = client.app.state.runtime
    users_service.add_user(rt, "alice", "correct horse battery")
    try:
        # Asked for before anyone logs in (the login page's own tab icon), so public ...
        assert client.get("/favicon.ico").status_code == 200
        # ... and only that exact path: its neighbours stay behind the login.
        for path in ("/favicon.ico/", "/favicon.icon", "/favicon.ico.png"):
            r = client.get(path, headers={"Accept": "text/html"}, follow_redirects=False)
            assert r.status_code in (303, 401), (path, r.status_code)
        assert client.get("/", headers={"Accept": "text/html"},
                          follow_redirects=False).status_code == 303
    finally:
        with rt.db.engine.begin() as conn:
            conn.execute(text("DELETE FROM users"))


def test_open_the_original_at_the_page_of_the_cited_sentences(client):
    # The passage starts on page 1 of the electricity contract and runs onto page 2, where
    # the sentence that answers is (tests/http/corpus.py write_pdf).
    hit = client.get("/api/search", params={"q": "How high is the base fee per month?"}
                     ).json()[0]
    assert hit["path"].endswith("electricity.pdf") and hit["page"] == 1
    assert "span=" in hit["url"]
    doc = hit["document_id"]
    html = client.get(hit["url"]).text
    link = re.search(r'<a id="original-link" href="([^"]+)"[^>]*>([^<]+)</a>', html)
    assert link.groups() == (f"/api/documents/{doc}/file#page=2",
                             "open the original at page 2"), link.groups()
    assert 'data-page="1"' in html and 'data-page-end="2"' in html  # the viewer's range
    # The passage alone (no sentences cited): its first page.
    plain = client.get(f"/documents/{doc}?chunk={hit['chunk_id']}").text
    assert f'href="/api/documents/{doc}/file#page=1"' in plain
    assert "open the original at page 1" in plain
    # Cited sentences on the passage's first page stay there.
    head = client.get(f"/api/chunks/{hit['chunk_id']}").json()["char_start"]
    html = client.get(f"/documents/{doc}", params={
        "chunk": hit["chunk_id"], "span": f"{head}-{head + 40}"}).text
    assert 'id="span"' in html and "open the original at page 1" in html


def test_page_holding_reads_the_pages_and_bounds_the_search(tmp_path):
    from app.services.pdfpages import page_holding, reduce_text
    from tests.http.corpus import write_pdf

    pdf = tmp_path / "electricity.pdf"
    write_pdf(pdf)
    assert reduce_text("The base-\nfee is 12 € per ﬁxed month.") == "thebasefeeis12perfixedmonth"
    assert page_holding(pdf, "The base fee is 12 euros per month.", 1, 3) == 2
    assert page_holding(pdf, "Signatures and general terms", 1, 3) == 3
    assert page_holding(pdf, "Signatures and general terms", 1, 2) is None
    assert page_holding(pdf, "no such sentence anywhere", 1, 3) is None
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 not really")
    assert page_holding(broken, "anything", 1, 2) is None
