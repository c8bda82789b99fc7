"""Papercuts of the web UI in headless Chromium on the sample household: every page of the
navigation (/stats included) reachable from it at 390 px with nothing overflowing or
overlapping; a streamed retrieval-only answer says the no-LLM notice once; /favicon.ico
answers the browser's own request."""

from __future__ import annotations

import pytest

from tests.http import test_browser_household as household_browser
from tests.http.test_browser_household import PHONE
from tests.support.browser import page_with_errors

pytestmark = pytest.mark.browser
serve = household_browser.serve  # the sample household under uvicorn
DESKTOP = {"width": 1280, "height": 800}


def nav_boxes(page) -> list[dict]:
    return page.evaluate("""() => [...document.querySelectorAll('nav[aria-label=main] a')]
        .map(a => { const r = a.getBoundingClientRect();
                    return {href: a.getAttribute('href'), left: r.left, right: r.right,
                            top: r.top, bottom: r.bottom}; })""")


def overlaps(a: dict, b: dict) -> bool:
    return (a["left"] < b["right"] - 0.5 and b["left"] < a["right"] - 0.5
            and a["top"] < b["bottom"] - 0.5 and b["top"] < a["bottom"] - 0.5)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_nav_page_including_stats_fits_and_the_nav_does_not_overlap(browser, serve,
                                                                         tmp_path, viewport):
    base = serve(category_rules_file=tmp_path / "categories.toml",
                 sources_file=tmp_path / "sources.toml")
    page, errors = page_with_errors(browser, viewport=viewport)
    page.goto(base + "/")
    hrefs = [b["href"] for b in nav_boxes(page)]
    assert "/stats" in hrefs and "/health" in hrefs
    for href in hrefs:
        page.goto(base + href)
        boxes = nav_boxes(page)
        for i, a in enumerate(boxes):
            assert a["right"] <= viewport["width"] + 1, (href, a)
            for b in boxes[i + 1:]:
                assert not overlaps(a, b), (href, a, b)
        current = page.locator("nav[aria-label=main] a[aria-current=page]")
        assert current.count() == 1 and current.get_attribute("href") == href
        width = page.evaluate("() => document.documentElement.scrollWidth")
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id + ' '
                             + e.textContent.slice(0, 60))""")
        assert width <= viewport["width"], (href, width, wide)
        # The nav ends above the page's first heading (a wrapped nav pushes it down).
        nav_bottom = max(b["bottom"] for b in boxes)
        heading = page.locator("main h1, main h2, main form").first.bounding_box()
        assert heading is None or heading["y"] >= nav_bottom, (href, heading, nav_bottom)
    page.goto(base + "/stats")
    assert page.locator("nav a[href='/stats']").get_attribute("aria-current") == "page"
    assert not errors, errors


def test_a_streamed_retrieval_only_answer_says_the_notice_once(browser, serve):
    base = serve()
    page, errors = page_with_errors(browser, viewport=PHONE)
    icon = []
    page.on("response", lambda r: icon.append(r.status) if r.url.endswith("/favicon.ico")
            else None)
    page.goto(base + "/")
    page.fill("#question", "What is the notice period of the gym membership?")
    page.click("#ask-button")
    page.wait_for_selector("#badge-retrieval-only", timeout=20_000)
    page.wait_for_selector("#citations li")
    text = page.inner_text("main").lower()
    assert text.count("no language model is configured") == 1, text
    assert page.inner_text("#answer-text").startswith("Read the most relevant passages: [1]")
    # A follow-up: the first answer moves into the transcript; still once per answer.
    page.fill("#question", "and when does it end?")
    page.click("#ask-button")
    page.wait_for_selector("#turns article.turn")
    page.wait_for_selector("#answer #citations li", timeout=20_000)
    text = page.inner_text("main").lower()
    assert text.count("no language model is configured") == 2, text
    assert page.request.get(base + "/favicon.ico").ok
    assert not errors, errors
    assert all(status == 200 for status in icon), icon


def test_pages_with_long_paths_fit_a_phone(browser, serve):
    """The transaction page (its statement's full path) and an upload whose broken file's
    message names the inbox path: both used to push the page past 390 px."""
    import time

    base = serve()
    page, errors = page_with_errors(browser, viewport=PHONE)
    api = page.request  # the browser's own requests: CSRF header from the page's token
    page.goto(base + "/upload")
    token = page.get_attribute("meta[name=csrf-token]", "content")
    headers = {"X-CSRF-Token": token, "Origin": base}
    batch = api.post(base + "/api/uploads", headers=headers).json()["batch"]
    assert api.put(f"{base}/api/uploads/{batch}/files", headers=headers,
                   params={"name": "scans/a-rather-long-folder-name/broken-scan.pdf"},
                   data=b"%PDF-1.7\nthis file was cut off\n").ok
    api.post(f"{base}/api/uploads/{batch}/ingest", headers=headers)
    deadline = time.monotonic() + 30
    while not api.get(f"{base}/api/uploads/{batch}").json().get("finished"):
        assert time.monotonic() < deadline, "the upload was not indexed"
        time.sleep(0.2)
    tx = api.get(base + "/api/transactions", params={"payee": "Stadtwerke", "limit": "1"}).json()
    tx_id = (tx["transactions"] if isinstance(tx, dict) else tx)[0]["id"]
    for path in (f"/reports/transactions/{tx_id}", f"/upload?batch={batch}",
                 "/reports?q=How+much+did+I+spend+on+groceries+in+October+2026%3F",
                 "/reports/period?month=2026-10", "/login"):
        page.goto(base + path)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (path, width)
        if path.startswith("/upload"):
            assert "not a readable PDF" in page.inner_text("#upload-status")
    assert not errors, errors
