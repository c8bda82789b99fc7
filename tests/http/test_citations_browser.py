"""Citations that land, in a real headless Chromium under a strict CSP (no inline scripts):
ingest -> ask -> follow a citation -> the supporting sentence is marked and scrolled into view;
a statement-row citation lands on its row; a PDF citation is marked on the page pdf.js renders.

Browser and server: tests/support/browser.py. Chromium that cannot start fails these
tests; they are never skipped.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import truncate_all
from tests.http.corpus import EMB, make_context, make_settings, write_corpus
from tests.openai_stub import Reply, chat_text
from tests.support.browser import live_servers, shot
from tests.support.statements_synth import Tx, csv_signed

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1100, "height": 800}
PHONE = {"width": 390, "height": 760}
# The app's policy (app/http/security.py) spelled out here, so these tests hold the pages to it
# whether or not the app sends it itself.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")

CLAUSE = "From 1 May 2026 the rent for the flat rises to 980 euros per month."
LEASE = (
    "Residential lease for the flat at Gartenweg 3\n\n"
    + "".join(f"General provision {i}: the parties keep the house order, quiet hours and the "
              f"cleaning plan of staircase number {i}; refuse goes into the marked bins.\n\n"
              for i in range(1, 60))
    + "Rent. The tenancy starts on 1 March 2025 and runs for an indefinite period. The monthly "
      "rent is 950 euros plus 180 euros for heating. " + CLAUSE + " The deposit is three "
      "monthly rents and is held in a savings account. Pets are allowed with written consent.\n"
)


def statement_rows() -> list[Tx]:
    """Sixty October rows; the electricity bill is row 48 (far down the statement's text)."""
    txs = [Tx(date(2026, 10, 1 + i % 28), Decimal(f"-{10 + i}.50"), f"Bakery Sonne {i}", "Brot")
           for i in range(60)]
    txs[46] = Tx(date(2026, 10, 20), Decimal("-85.00"), "Stadtwerke Strom", "Abschlag Oktober")
    return txs


@pytest.fixture(scope="module")
def corpus(db, pg_url: str) -> Iterator[tuple[Any, Path]]:
    """The shared web corpus plus a long lease and a bank statement in CSV, ingested through
    the real pipeline (statement rows become transactions)."""
    from ingest.pipeline import IngestOptions, Pipeline
    from ingest.sources.folder import FolderSource

    truncate_all(db)
    with tempfile.TemporaryDirectory(prefix="hr-cite-") as tmp:
        root = Path(tmp)
        data_dir = root / "data"
        data_dir.mkdir()
        docs = write_corpus(root)
        (docs / "lease.txt").write_text(LEASE, encoding="utf-8")
        (docs / "giro-2026-10.csv").write_bytes(csv_signed(statement_rows(), german=True,
                                                           balance_from=Decimal("2000")))
        settings = make_settings(pg_url, data_dir)
        report = Pipeline(db, embedder=EMB, options=IngestOptions.from_settings(settings)).run(
            FolderSource("home", docs))
        assert report.status == "completed" and not report.problems, report.error
        yield db, data_dir
    truncate_all(db)


class WithCsp:
    """ASGI wrapper: every response carries CSP (as the app's security edge sends it)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def send_with(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() != b"content-security-policy"]
                message = {**message, "headers": [*headers, (b"content-security-policy",
                                                             CSP.encode())]}
            await send(message)

        await self.app(scope, receive, send_with if scope["type"] == "http" else send)


@pytest.fixture
def serve(corpus, pg_url: str) -> Iterator[Callable[..., str]]:
    """Serve the app under CSP (settings overrides as keywords) under uvicorn; its base URL."""
    from app.http.app import create_app

    db, data_dir = corpus
    with live_servers() as start:
        yield lambda **overrides: start(WithCsp(create_app(
            runtime=make_context(db, make_settings(pg_url, data_dir, **overrides)))))


def watched_page(browser: Any, viewport: dict[str, int]) -> tuple[Any, list[str]]:
    """A page that records script errors and CSP violations."""
    page = browser.new_page(viewport=viewport)
    problems: list[str] = []
    page.add_init_script("window.__csp = []; document.addEventListener("
                         "'securitypolicyviolation', e => window.__csp.push("
                         "e.violatedDirective + ' ' + e.blockedURI));")
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    # The favicon is another page's concern; every other failed request is a problem here.
    page.on("response", lambda r: problems.append(f"HTTP {r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.on("console", lambda msg: problems.append(f"console: {msg.text}")
            if msg.type == "error" and "Failed to load resource" not in msg.text else None)
    return page, problems


def csp_violations(page: Any) -> list[str]:
    return list(page.evaluate("window.__csp || []"))


def in_view(page: Any, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 40) <= height


def source_number(request: dict[str, Any], name: str) -> int:
    """The number the request offered the passage of file `name` under."""
    m = re.search(rf'<source id="(\d+)"[^>]*path="[^"]*{re.escape(name)}"', chat_text(request))
    assert m, f"{name} was not offered"
    return int(m.group(1))


def test_an_answer_citation_lands_on_the_supporting_sentence(browser, serve, openai_stub):
    def reply(request: dict[str, Any]) -> Reply:
        lease, rent = source_number(request, "lease.txt"), source_number(request, "rent.txt")
        # Cited out of the offered order on purpose: the list is renumbered by first citation.
        return Reply(f"The landlord first raised the rent to 950 euros [{rent}]. From May 2026 "
                     f"the rent for the flat rises to 980 euros per month [{lease}].",
                     chunk_size=12, chunk_delay=0.01)

    openai_stub.reply_with(reply)
    base = serve(llm_base_url=openai_stub.base_url, llm_timeout=10.0)
    page, problems = watched_page(browser, DESKTOP)
    page.goto(base + "/")
    page.fill("#question", "How much will the rent for the flat be from May 2026?")
    page.click("#ask-button")
    page.wait_for_selector("#citations li a.cite-link", timeout=15_000)
    assert page.inner_text("#answer-text") == (
        "The landlord first raised the rent to 950 euros [1]. From May 2026 the rent for the "
        "flat rises to 980 euros per month [2].")
    items = page.locator("#citations li")
    assert items.nth(0).locator(".path").inner_text().endswith("rent.txt")
    assert items.nth(1).locator(".path").inner_text().endswith("lease.txt")
    # The snippet is the supporting sentence, not the passage's first 320 characters.
    assert CLAUSE in items.nth(1).locator("blockquote").inner_text()

    items.nth(1).locator("a.cite-link").click()
    page.wait_for_selector("mark#span")
    assert "span=" in page.url and "chunk=" in page.url
    assert page.inner_text("mark#span") == CLAUSE
    shot(page, "answer-citation", full_page=False)
    assert len(page.inner_text("mark#passage")) > len(CLAUSE)  # the passage, marked lightly
    page.wait_for_load_state("load")
    assert page.evaluate("window.scrollY") > 0 and in_view(page, "mark#span")
    assert not problems and not csp_violations(page), (problems, csp_violations(page))
    page.close()


def test_a_statement_row_citation_lands_on_its_row(browser, serve):
    base = serve()  # no language model: money questions are answered from the transactions
    page, problems = watched_page(browser, PHONE)
    page.goto(base + "/")
    page.fill("#question", "How much did I spend at Stadtwerke in October 2026?")
    page.click("#ask-button")
    page.wait_for_selector("#citations li a.cite-link", timeout=15_000)
    assert "85.00" in page.inner_text("#answer-text")
    link = page.locator("#citations li a.cite-link").first
    href = link.get_attribute("href")
    m = re.fullmatch(r"/documents/\d+\?row=(\d+)#passage", href or "")
    assert m, href
    row = int(m.group(1))
    assert row == 48  # the header is row 1; the electricity bill is the 47th transaction
    link.click()
    page.wait_for_selector("mark#span")
    marked = page.inner_text("mark#span")
    assert marked.startswith(f"[row {row}] 2026-10-20") and "Stadtwerke Strom" in marked
    shot(page, "row-citation", full_page=False)
    page.wait_for_load_state("load")
    assert page.evaluate("window.scrollY") > 0 and in_view(page, "mark#span")
    assert not problems and not csp_violations(page), (problems, csp_violations(page))
    page.close()


def test_a_pdf_citation_is_marked_on_the_rendered_page(browser, serve, client):
    hit = client.get("/api/search", params={"q": "How high is the base fee per month?"}
                     ).json()[0]
    # The passage starts on page 1 and runs onto page 2, where the cited sentence is.
    assert hit["path"].endswith("electricity.pdf") and hit["page"] == 1
    assert hit["snippet"].startswith("… The base fee is 12 euros per month.")
    base = serve()
    page, problems = watched_page(browser, PHONE)
    page.goto(base + hit["url"])
    page.wait_for_selector("#pdf-view[data-marked]", timeout=20_000)
    marks = int(page.get_attribute("#pdf-view", "data-marked") or "0")
    assert marks >= 1, page.inner_text("#pdf-status")
    assert "Page 2 of 3" in page.inner_text("#pdf-status")
    assert page.locator(".pdf-page canvas").count() == 1
    assert in_view(page, ".pdf-mark")
    # The marks cover the cited sentence and not the rest of its line: they sit where the
    # text layer's glyphs of that sentence are (a text item holds the whole printed line).
    geometry = page.evaluate("""() => {
      const sentence = 'The base fee is 12 euros per';  // the sentence's part on its first line
      const node = [...document.querySelectorAll('.textLayer span')].map(s => s.firstChild)
        .find(t => t && t.nodeValue.includes(sentence));
      if (!node) return null;
      const range = document.createRange();
      const at = node.nodeValue.indexOf(sentence);
      range.setStart(node, at);
      range.setEnd(node, at + sentence.length);
      const want = [...range.getClientRects()];
      const got = [...document.querySelectorAll('.pdf-mark')].map(m => m.getBoundingClientRect());
      const width = rs => rs.reduce((sum, r) => sum + r.width, 0);
      return {wantLeft: want[0].left, gotLeft: got[0].left, wantTop: want[0].top,
              gotTop: got[0].top, wantWidth: width(want), gotWidth: got[0].width,
              marks: got.length, lineLeft: node.parentElement.getBoundingClientRect().left};
    }""")
    shot(page, "pdf-citation", full_page=False)
    assert geometry is not None, page.evaluate(
        "[...document.querySelectorAll('.textLayer span')].slice(0, 6).map(s => s.textContent)")
    assert abs(geometry["gotLeft"] - geometry["wantLeft"]) < 3, geometry
    assert abs(geometry["gotTop"] - geometry["wantTop"]) < 3, geometry
    assert abs(geometry["gotWidth"] - geometry["wantWidth"]) < 0.1 * geometry["wantWidth"]
    assert geometry["gotLeft"] > geometry["lineLeft"] + 50  # "Tariff: …" before it is not marked
    assert geometry["marks"] == 2  # and "month." on the next line
    assert not problems and not csp_violations(page), (problems, csp_violations(page))
    page.close()
