"""The web form as a conversation in headless Chromium (Debian's chromium via Playwright), on the
sample household without an LLM: a question, a follow-up and a follow-up of the follow-up; the
rewritten query shown on request; the conversation reopened, listed, exported and deleted; and
the same follow-up without JavaScript (the form posts to /ask)."""

# ruff: noqa: F811
from __future__ import annotations

from typing import Any

import pytest

from tests.mcp.household import household, make_runtime, serve_app  # noqa: F401
from tests.support.browser import shot

pytestmark = pytest.mark.browser

TURNS = ("How much did I spend at Rewe in September 2026?", "and in August 2026?",
         "which of those were over 70 euros?")


def ask(page: Any, question: str, turn: int) -> None:
    page.fill("#question", question)
    page.click("#ask-button")
    page.wait_for_function(
        "([q, n]) => { const h = document.getElementById('current-question');"
        " return h && h.textContent === q && document.getElementById('citations')"
        " && document.querySelectorAll('#turns article.turn').length === n; }",
        arg=[question, turn - 1], timeout=20_000)


def citation_texts(page: Any, selector: str = "#citations li blockquote") -> list[str]:
    return [t.strip() for t in page.locator(selector).all_text_contents()]


def test_follow_ups_in_the_web_form_keep_the_conversation(browser, make_runtime, serve_app):
    base = serve_app(make_runtime())
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(base + "/")
    ask(page, TURNS[0], 1)
    september = citation_texts(page)
    assert september and all("Rewe" in t and "2026-09-" in t for t in september)
    assert "?c=" in page.url
    conv_id = page.url.rsplit("?c=", 1)[1]
    assert page.input_value("#question") == ""  # ready for the follow-up
    assert page.locator("#rewrite").is_hidden()  # the first question needed no rewrite

    ask(page, TURNS[1], 2)
    august = citation_texts(page)
    assert len(august) == 3 and all("Rewe" in t and "2026-08-" in t for t in august)
    assert page.locator("#rewrite").is_visible()
    assert page.locator("#rewrite-standalone").is_hidden()  # shown on request
    page.click("#rewrite summary")
    standalone = page.inner_text("#rewrite-standalone")
    assert "rewe" in standalone and "2026-08-01" in standalone
    # The first answer moved into the transcript with its own ids.
    assert page.locator("#turns #t1-citations li").count() == len(september)

    ask(page, TURNS[2], 3)
    over = citation_texts(page)
    assert len(over) == 2 and all("Rewe" in t and "2026-08-" in t for t in over)
    amounts = [float(t.split()[1]) for t in over]
    assert all(a <= -70 for a in amounts)
    shot(page, "conversation")
    assert not errors, errors

    # Reopened: every stored turn, and the next question continues it.
    page.goto(f"{base}/?c={conv_id}")
    assert page.locator("#turns article.turn").count() == 3
    assert page.input_value("#conversation-id") == conv_id
    assert "2026-08-01" in page.text_content("#turn-3 details.rewrite")
    page.goto(base + "/conversations")
    row = page.locator(f"#conversation-{conv_id}")
    assert TURNS[0] in row.inner_text() and "3 turns" in row.inner_text()
    assert row.locator("a.conv-export").get_attribute("href") == (
        f"/api/conversations/{conv_id}/markdown?download=1")
    row.locator("button").click()
    page.wait_for_url(base + "/conversations")
    assert page.locator(f"#conversation-{conv_id}").count() == 0
    page.close()


def test_follow_up_without_javascript(browser, make_runtime, serve_app):
    base = serve_app(make_runtime())
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(base + "/")
    page.fill("#question", TURNS[0])
    page.click("#ask-button")
    page.wait_for_url(base + "/ask")
    conv_id = page.input_value("#conversation-id")
    assert conv_id.isdigit()
    page.fill("#question", TURNS[1])
    page.click("#ask-button")
    page.wait_for_url(base + "/ask")
    assert page.input_value("#conversation-id") == conv_id
    assert page.locator("#turns article.turn").count() == 1
    assert page.inner_text("#current-question") == TURNS[1]
    texts = citation_texts(page)
    assert len(texts) == 3 and all("2026-08-" in t for t in texts)
    context.close()
