"""Contracts on the sample household: a page per contract with its terms linked to the clauses
they were read from, its last day to cancel and the debits that pay it (matched in the bank
statement by name and amount); extracting terms says what it did; the deadlines as an iCalendar
feed that a strict parser (icalendar) reads, with an alarm a week before each."""

from __future__ import annotations

import html
from datetime import date, timedelta


def _contracts(client) -> dict:
    r = client.get("/api/contracts", params={"days": 3000})
    assert r.status_code == 200, r.text
    return {c["title"] or c["path"]: c for c in r.json()["contracts"]}


def _one(contracts: dict, word: str) -> dict:
    found = [c for title, c in contracts.items() if word in (title + c["path"]).lower()]
    assert len(found) == 1, list(contracts)
    return found[0]


def test_contract_page_with_clauses_deadline_and_the_debit_that_pays_it(hh_client):
    client = hh_client()
    gym = _one(_contracts(client), "gym")
    page = client.get(f"/contracts/{gym['contract_id']}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert f"Last day to cancel: <strong>{gym['cancel_by']}</strong>" in text
    notice = gym["citations"]["notice"]
    assert f'href="/documents/{gym["document_id"]}?chunk={notice["chunk_id"]}#passage"' in page.text
    api = client.get(f"/api/contracts/{gym['contract_id']}").json()
    pay = api["payments"]
    assert pay["label"] == "FitLife Gym" and pay["count"] == 4
    assert "amount" in pay["matched_by"] or not gym["amounts"]
    assert {t["amount"] for t in pay["transactions"]} == {"-39.90"}
    assert all(t["statement_url"].startswith(f"/documents/{t['source']['document_id']}?row=")
               for t in pay["transactions"])
    assert 'id="payments-table"' in page.text and "FitLife Gym" in page.text
    phone = _one(_contracts(client), "mobilfunk")
    phone_pay = client.get(f"/api/contracts/{phone['contract_id']}").json()["payments"]
    assert phone_pay is None or phone_pay["label"] == "Funknetz Beispiel"
    assert client.get("/contracts/999999").status_code == 404


def test_extracting_terms_says_what_happened(hh_client):
    client = hh_client()
    r = client.post("/contracts/refresh")
    assert r.status_code == 200
    assert "No new or changed contracts: every contract's terms are current." in \
        html.unescape(r.text)


def test_deadlines_calendar_parses_with_a_week_alarm(hh_client):
    import icalendar

    client = hh_client()
    contracts = _contracts(client)
    r = client.get("/contracts.ics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    raw = r.content
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    assert raw.endswith(b"END:VCALENDAR\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    cal = icalendar.Calendar.from_ical(raw)
    assert str(cal["VERSION"]) == "2.0" and cal["PRODID"]
    events = list(cal.walk("VEVENT"))
    cancel = {c["cancel_by"]: c for c in contracts.values() if c["cancel_by"]}
    assert {e.decoded("DTSTART").isoformat() for e in events if
            str(e["SUMMARY"]).startswith("Last day to cancel")} == set(cancel)
    for e in events:
        start = e.decoded("DTSTART")
        assert isinstance(start, date) and e.decoded("DTEND") == start + timedelta(days=1)
        alarms = list(e.walk("VALARM"))
        assert len(alarms) == 1 and alarms[0].decoded("TRIGGER") == -timedelta(days=7)
        assert str(alarms[0]["ACTION"]) == "DISPLAY"
        assert str(e["UID"]).endswith("@homerag")
    assert len({str(e["UID"]) for e in events}) == len(events)
    api = client.get("/api/contracts/calendar.ics")
    assert api.status_code == 200 and api.text.count("BEGIN:VEVENT") == len(events)
