"""The web page in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright):
ask, watch the answer stream in, follow a citation to the highlighted passage; the
retrieval-only badge when the LLM is down; the form without JavaScript.

The app runs under uvicorn on a free 127.0.0.1 port in a thread (tests/support/browser.py).
Chromium that cannot start fails these tests (it is installed by scripts/system-deps.sh); they
are never skipped.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.http.corpus import make_context, make_settings
from tests.openai_stub import Reply, offered_numbers
from tests.support.browser import live_servers, shot

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 760}


@pytest.fixture
def serve(corpus, pg_url: str) -> Iterator[Callable[..., str]]:
    """Start the app (settings overrides as keywords) under uvicorn; returns its base URL."""
    from app.http.app import create_app

    db, data_dir = corpus
    with live_servers() as start:
        yield lambda **overrides: start(create_app(
            runtime=make_context(db, make_settings(pg_url, data_dir, **overrides))))


def slow_cited_answer(request: dict[str, Any]) -> Reply:
    n = offered_numbers(request)[0]
    return Reply(f"<think>Source {n} has the gym terms.</think>The gym membership can be "
                 f"cancelled with a notice period of three months [{n}].",
                 chunk_size=6, chunk_delay=0.06)


def test_ask_streams_a_cited_answer_and_the_citation_opens_the_passage(browser, serve,
                                                                      openai_stub):
    openai_stub.reply_with(slow_cited_answer)
    base = serve(llm_base_url=openai_stub.base_url, llm_timeout=10.0)
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.goto(base + "/")
    assert "lexical, not semantic" in page.inner_text("#index-label")
    page.fill("#question", "What is the notice period of the gym membership?")
    page.click("#ask-button")

    # Text arrives before the final result (the citation list comes with `done`): streamed.
    page.wait_for_function(
        "() => { const t = document.getElementById('answer-text');"
        " return t && t.textContent.length > 0 && !document.getElementById('citations'); }",
        timeout=10_000)
    page.wait_for_selector("#citations li a.cite-link", timeout=15_000)
    shot(page, "answer")
    answer = page.inner_text("#answer-text")
    assert answer == ("The gym membership can be cancelled with a notice period of three "
                      "months [1].")
    assert page.get_attribute("#answer-text a.cite", "href") == "#cite-1"
    assert page.locator("#badge-retrieval-only").count() == 0
    assert page.locator("#badge-uncited").count() == 0
    assert page.locator("#reasoning").is_hidden() is False
    assert "gym terms" in page.locator("#reasoning-text").text_content()
    assert page.evaluate("window.__pwned") is None and not errors, errors

    page.click("#cite-1 a.cite-link")
    page.wait_for_selector("mark#passage")
    assert "/documents/" in page.url and "chunk=" in page.url
    assert "notice period of three months" in page.inner_text("mark#passage")
    assert page.title().startswith("Gym membership")
    shot(page, "document")
    page.close()


def test_pdf_citation_scrolls_to_the_passage_and_links_the_page(browser, serve, client):
    hit = client.get("/api/search", params={"q": "signatures general terms electricity supplier"}
                     ).json()[0]
    assert hit["path"].endswith("electricity.pdf") and hit["page"] >= 2
    base = serve()
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{base}/documents/{hit['document_id']}?chunk={hit['chunk_id']}#passage")
    page.wait_for_selector("mark#passage")
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollHeight") > 2 * PHONE["height"]
    # The page lands on the passage marked on the rendered PDF page (pdfview.js).
    page.wait_for_selector("#pdf-view[data-marked]", timeout=20_000)
    mark = page.wait_for_selector(".pdf-mark")
    box = mark.bounding_box()
    assert box is not None and box["y"] < PHONE["height"] and box["y"] + box["height"] > 0
    assert page.evaluate("window.scrollY") > 0  # scrolled down to it
    href = page.get_attribute("#original-link", "href")
    assert href == f"/api/documents/{hit['document_id']}/file#page={hit['page']}"
    shot(page, "document-phone", full_page=False)
    page.close()


def test_llm_down_shows_the_retrieval_only_badge(browser, serve):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    base = serve(llm_base_url=f"http://127.0.0.1:{port}/v1", llm_timeout=3.0)
    page = browser.new_page(viewport=PHONE)
    page.goto(base + "/")
    page.fill("#question", "How much is the rent from March?")
    page.click("#ask-button")
    page.wait_for_selector("#badge-retrieval-only", timeout=15_000)
    shot(page, "retrieval-only")
    assert page.inner_text("#badge-retrieval-only").lower() == "retrieval-only"
    assert "cannot reach the language model" in page.inner_text("#notice")
    first = page.locator("#citations li").first
    assert first.locator("a.cite-link").inner_text().startswith("The landlord raises the rent")
    first.locator("a.cite-link").click()
    page.wait_for_selector("mark#passage")
    assert "950 euros" in page.inner_text("mark#passage")
    page.close()


def test_without_javascript_the_form_posts_and_renders_the_answer(browser, serve):
    base = serve()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(base + "/")
    page.fill("#question", "When should the radiators be bled?")
    page.click("#ask-button")
    page.wait_for_url(base + "/ask")
    assert page.locator("#badge-retrieval-only").is_visible(), page.inner_text("main")
    assert "Boiler manual" in page.inner_text("#citations")
    assert page.input_value("#question") == "When should the radiators be bled?"
    context.close()

