"""Evidence links in the API and on the pages (app/http/api/evidence.py, app/http/pages/evidence.py,
app/services/evidence.py) on the sample household, whose electricity bill (a mail and its PDF)
documents the 86.40 EUR Stadtwerke charge of 15 November 2026:

- GET /api/transactions/{id}/evidence lists the links with their status;
- POST .../evidence/{id}/confirm|reject: the owner's verdict, CSRF-protected for browsers;
  a rejected link stays rejected through a refresh and is not cited in answers;
- the buttons on the transaction page and the document page (plain forms), clicked in Chromium.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.http import test_browser_household as household_browser
from tests.support.browser import page_with_errors

serve = household_browser.serve  # the sample household under uvicorn
ORIGIN = "http://localhost"


@pytest.fixture
def link(household) -> Iterator[dict[str, Any]]:
    """The bill's mail linked to the Stadtwerke charge, as the matcher left it (any verdict of
    a test is undone afterwards)."""
    from app.core.models import Document, Evidence, Transaction

    db, _ = household
    with db.session() as s:
        row = s.execute(
            select(Evidence.id, Evidence.transaction_id, Evidence.document_id)
            .join(Document, Document.id == Evidence.document_id)
            .join(Transaction, Transaction.id == Evidence.transaction_id)
            .where(Document.origin.endswith("stadtwerke-bill.eml"),
                   Transaction.amount == -86.40)).one()
    yield {"id": row[0], "tx": row[1], "doc": row[2]}
    with db.engine.begin() as conn:
        conn.execute(update(Evidence).values(confirmed=False, rejected=False))


def csrf_token(client) -> str:
    page = client.get("/reports")
    return re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)


def test_the_api_lists_a_transactions_evidence(hh_client, link):
    client = hh_client()
    body = client.get(f"/api/transactions/{link['tx']}/evidence").json()
    assert body["transaction_id"] == link["tx"]
    mine = [e for e in body["evidence"] if e["id"] == link["id"]]
    assert len(mine) == 1, body
    e = mine[0]
    assert e["status"] == "matched" and e["document_id"] == link["doc"]
    assert e["url"] == f"/documents/{link['doc']}"
    assert e["reason"].startswith("amount 86.40 EUR")
    assert client.get("/api/transactions/999999999/evidence").status_code == 404
    # The route is in the OpenAPI schema with the others.
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/transactions/{tx_id}/evidence/{evidence_id}/reject" in paths


def test_a_browser_needs_the_csrf_token_to_judge_a_link(hh_client, link):
    client = hh_client()
    url = f"/api/transactions/{link['tx']}/evidence/{link['id']}/confirm"
    token = csrf_token(client)  # also sets the double-submit cookie
    refused = client.post(url, headers={"Origin": ORIGIN})
    assert refused.status_code == 403, refused.text
    assert client.get(f"/api/transactions/{link['tx']}/evidence").json()["evidence"][0][
        "status"] == "matched"
    forged = client.post(url, headers={"Origin": ORIGIN, "X-CSRF-Token": "x" * 43})
    assert forged.status_code == 403
    other_site = client.post(url, headers={"Origin": "http://evil.example", "X-CSRF-Token": token})
    assert other_site.status_code == 403
    done = client.post(url, headers={"Origin": ORIGIN, "X-CSRF-Token": token})
    assert done.status_code == 200, done.text
    assert done.json() == {"id": link["id"], "transaction_id": link["tx"],
                           "document_id": link["doc"], "confirmed": True, "status": "confirmed"}


def test_a_rejected_link_stays_rejected_and_is_not_cited(hh_client, link, household):
    from app.services.ask import ask
    from app.services.evidence import refresh_evidence

    client = hh_client()
    base = f"/api/transactions/{link['tx']}/evidence"
    # A link of another transaction is not found under this one.
    assert client.post(f"/api/transactions/{link['tx'] + 1}/evidence/{link['id']}/reject"
                       ).status_code == 404
    assert client.post(f"{base}/999999999/reject").status_code == 404

    rt = client.app.state.runtime
    question = "Show me the invoice for the Stadtwerke charge in November 2026"
    before = ask(rt, question, chat=None)
    assert link["doc"] in {c.citable.document_id for c in before.citations}, before.answer

    r = client.post(f"{base}/{link['id']}/reject")
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    listed = client.get(base).json()["evidence"]
    assert listed[-1]["id"] == link["id"] and listed[-1]["status"] == "rejected"
    refresh_evidence(rt)  # everything matched again: the owner's verdict holds
    listed = {e["id"]: e["status"] for e in client.get(base).json()["evidence"]}
    assert listed[link["id"]] == "rejected"
    after = ask(rt, question, chat=None)
    assert link["doc"] not in {c.citable.document_id for c in after.citations}, after.answer

    # Confirming restores it (and a confirmed link is cited first).
    r = client.post(f"{base}/{link['id']}/confirm")
    assert r.json()["status"] == "confirmed"
    assert client.get(base).json()["evidence"][0]["id"] == link["id"]


def test_the_page_forms_judge_and_return_to_the_page(hh_client, link):
    client = hh_client()
    tx_page = client.get(f"/reports/transactions/{link['tx']}").text
    assert f'action="/evidence/{link["id"]}/confirm"' in tx_page
    assert f'action="/evidence/{link["id"]}/reject"' in tx_page
    assert 'name="csrf_token"' in tx_page
    r = client.post(f"/evidence/{link['id']}/reject", follow_redirects=False,
                    data={"next": f"/reports/transactions/{link['tx']}#evidence",
                          "transaction_id": str(link["tx"])})
    assert r.status_code == 303
    assert r.headers["location"] == f"/reports/transactions/{link['tx']}#evidence"
    tx_page = client.get(f"/reports/transactions/{link['tx']}").text
    assert f'id="evidence-status-{link["id"]}">rejected by you' in tx_page
    assert f'id="evidence-reject-{link["id"]}"' not in tx_page  # nothing left to reject
    # From the document's side; a link of another document is refused; `next` stays local.
    assert client.post(f"/evidence/{link['id']}/confirm", follow_redirects=False,
                       data={"next": "/", "document_id": str(link["doc"] + 1)}
                       ).status_code == 404
    r = client.post(f"/evidence/{link['id']}/confirm", follow_redirects=False,
                    data={"next": "//evil.example/", "document_id": str(link["doc"])})
    assert r.status_code == 303 and r.headers["location"] == "/"
    doc_page = client.get(f"/documents/{link['doc']}").text
    assert f'id="evidence-status-{link["id"]}">confirmed by you' in doc_page
    assert client.post(f"/evidence/{link['id']}/maybe", data={"next": "/"}).status_code == 400


@pytest.mark.browser
def test_clicking_the_buttons_on_both_pages(browser, serve, link):
    base = serve()
    page, errors = page_with_errors(browser, viewport=household_browser.PHONE)
    page.goto(f"{base}/reports/transactions/{link['tx']}")
    page.click(f"#evidence-reject-{link['id']}")
    page.wait_for_url(f"{base}/reports/transactions/{link['tx']}#evidence")
    assert page.inner_text(f"#evidence-status-{link['id']}") == "rejected by you"
    assert page.locator(f"#evidence-{link['id']}.rejected").count() == 1
    # The document page shows the same link, rejected; confirm it there.
    page.goto(f"{base}/documents/{link['doc']}")
    assert page.inner_text(f"#evidence-status-{link['id']}") == "rejected by you"
    page.click(f"#evidence-confirm-{link['id']}")
    page.wait_for_url(f"{base}/documents/{link['doc']}#evidence")
    assert page.inner_text(f"#evidence-status-{link['id']}") == "confirmed by you"
    assert page.locator(f"#evidence-confirm-{link['id']}").count() == 0
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= household_browser.PHONE["width"]
    assert not errors, errors
