"""The household pages in a real headless Chromium (Debian's /usr/bin/chromium through
Playwright, the app under uvicorn on loopback): files added by the picker and by drag and drop
are uploaded with progress, indexed and found in the library; a category edited in the
transactions table with "always for this payee" re-categorises the payee's other rows; dark
mode follows prefers-color-scheme; no page overflows a 390 px wide phone screen."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.http.corpus import make_context, make_settings
from tests.support.browser import live_servers, page_with_errors

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 800}


@pytest.fixture
def serve(household, pg_url: str) -> Iterator[Callable[..., str]]:
    """Serve the household app (settings overrides as keywords) under uvicorn; its base URL."""
    from app.http.app import create_app

    db, data_dir = household
    with live_servers() as start:
        yield lambda **overrides: start(create_app(
            runtime=make_context(db, make_settings(pg_url, data_dir, **overrides))))


def test_upload_by_picker_and_by_drop_then_found_in_the_library(browser, serve, tmp_path):
    base = serve(category_rules_file=tmp_path / "categories.toml")
    page, errors = page_with_errors(browser, viewport={"width": 1280, "height": 900})
    page.goto(base + "/upload")
    note = tmp_path / "kayak-club.txt"
    note.write_text("Kayak club: the membership fee of 120 euros is due every March.\n")
    page.set_input_files("#pick-files", str(note))
    row = page.locator("#upload-files tr", has_text="kayak-club.txt")
    row.locator("td.state a", has_text="indexed").wait_for(timeout=30_000)
    assert page.locator("#upload-files progress").first.get_attribute("value") == "100"
    # Drag and drop (a File in a DataTransfer, dropped on the zone), plus a refused name.
    page.evaluate("""() => {
        const dt = new DataTransfer();
        dt.items.add(new File(["Sailing course booked for the first week of May."],
                              "sailing.txt", {type: "text/plain"}));
        dt.items.add(new File(["x"], "~$lock.txt", {type: "text/plain"}));
        const zone = document.getElementById("dropzone");
        zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: dt, bubbles: true, cancelable: true}));
        zone.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
    }""")
    page.locator("#upload-files tr", has_text="sailing.txt").locator(
        "td.state a", has_text="indexed").wait_for(timeout=30_000)
    refused = page.locator("#upload-files tr", has_text="~$lock.txt").locator("td.state")
    assert "hidden or temporary name" in refused.inner_text()
    page.wait_for_function("() => /Done:/.test(document.getElementById('upload-summary').textContent)",
                           timeout=30_000)
    # The indexed link opens the document; the library lists both, found by their words.
    page.click("#upload-files tr:has-text('kayak-club.txt') td.state a")
    page.wait_for_url("**/documents/*")
    assert "membership fee of 120 euros" in page.inner_text("#doc-text")
    page.goto(base + "/library?source=inbox")
    titles = page.locator("#library-list .cite-link").all_inner_texts()
    assert any("kayak" in t.lower() for t in titles) and any("sailing" in t.lower() for t in titles)
    page.fill("#lib-q", "sailing course")
    page.press("#lib-q", "Enter")
    page.wait_for_url("**/library?*")
    assert page.locator("#library-list li").count() == 1
    # The refused name's 400 is the one failed request the browser reports.
    assert errors == ["Failed to load resource: the server responded with a status of 400 "
                      "(Bad Request)"], errors


def test_category_edit_with_always_recategorises_the_payee(browser, serve, tmp_path):
    rules = tmp_path / "categories.toml"
    base = serve(category_rules_file=rules)
    page, errors = page_with_errors(browser, viewport={"width": 1280, "height": 900})
    page.goto(base + "/transactions?payee=Korn")
    rows = page.locator("#tx-table tbody tr")
    count = rows.count()
    assert count == 10
    assert all(v == "" for v in page.locator("#tx-table input.cat-input").evaluate_all(
        "els => els.map(e => e.value)"))
    first = rows.nth(0)
    first.locator("input.cat-input").fill("bakery")
    first.locator("input[name=always]").check()
    first.locator("button[type=submit]").click()
    page.wait_for_selector("#saved")
    assert "9 other transactions re-categorised" in page.inner_text("#saved") or \
        "other transaction" in page.inner_text("#saved")
    values = page.locator("#tx-table input.cat-input").evaluate_all("els => els.map(e => e.value)")
    assert values == ["bakery"] * count
    assert "bäckerei korn" in rules.read_text()
    # Enter in the category box saves it too (a plain edit of one row).
    second = page.locator("#tx-table tbody tr").nth(1).locator("input.cat-input")
    second.fill("treats")
    second.press("Enter")
    page.wait_for_selector("#saved")
    values = page.locator("#tx-table input.cat-input").evaluate_all("els => els.map(e => e.value)")
    assert values.count("treats") == 1 and values.count("bakery") == count - 1
    page.goto(base + "/rules")
    assert "bäckerei korn" in page.inner_text("#owner-rules")
    assert not errors, errors


def _luminance(rgb: str) -> float:
    parts = [float(x) for x in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]
    return sum(w * c / 255 for w, c in zip((0.2126, 0.7152, 0.0722), parts, strict=True))


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_dark_mode_follows_the_system(browser, serve, scheme):
    base = serve()
    page, errors = page_with_errors(browser, viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    for path in ("/transactions", "/library", "/reports/period?month=2026-10"):
        page.goto(base + path)
        colors = page.evaluate("""() => {
            const b = getComputedStyle(document.body), m = document.querySelector('main');
            const input = document.querySelector('main input[type=text], main input[type=search]');
            return {bg: b.backgroundColor, fg: getComputedStyle(m).color,
                    input: input ? getComputedStyle(input).backgroundColor : null};
        }""")
        bg, fg = _luminance(colors["bg"]), _luminance(colors["fg"])
        if scheme == "dark":
            assert bg < 0.15 and fg > 0.75, (path, colors)
        else:
            assert bg > 0.9 and fg < 0.25, (path, colors)
        if colors["input"]:
            assert abs(_luminance(colors["input"]) - bg) < 0.2, (path, colors)
    assert not errors, errors


def test_no_page_overflows_a_phone_screen(browser, serve, tmp_path):
    base = serve(category_rules_file=tmp_path / "categories.toml",
                 sources_file=tmp_path / "sources.toml")
    page, errors = page_with_errors(browser, viewport=PHONE)
    page.goto(base + "/contracts")
    contract = page.locator("a[href^='/contracts/']").first.get_attribute("href")
    paths = ["/", "/search?q=gym+membership", "/library", "/upload", "/sources", "/health",
             "/transactions", "/transactions?period=2026-10", "/rules", "/reports",
             "/reports/period?month=2026-10", "/reports/period?week=2026-W43", "/contracts",
             contract]
    library = page.request.get(base + "/api/library?limit=1").json()["documents"][0]
    paths.append(f"/library/{library['id']}")
    for path in paths:
        page.goto(base + path)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)""")
        assert width <= PHONE["width"], (path, width, wide)
    assert not errors, errors


def test_manifest_and_favicon_are_served(browser, serve):
    base = serve()
    page, _ = page_with_errors(browser)
    page.goto(base + "/library")
    manifest = page.get_attribute("link[rel=manifest]", "href")
    data = page.request.get(base + manifest).json()
    assert data["start_url"] == "/" and data["display"] == "standalone"
    sizes = {i["sizes"] for i in data["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in data["icons"]:
        r = page.request.get(base + icon["src"])
        assert r.ok and r.headers["content-type"].startswith(icon["type"].split("+")[0])
    for link in page.locator("link[rel=icon], link[rel=apple-touch-icon]").all():
        assert page.request.get(base + link.get_attribute("href")).ok
