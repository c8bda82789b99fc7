"""Reports on the sample household (statement 2026-08-01 .. 2026-11-19): the "usual" baseline
counts only periods the data covers (never the months before it began as zero), a period
without data says so instead of showing zero rows, the trend chart has its own heading, the
period picker and previous/next links, and the Money page's example questions find something."""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal

from app.money.detectors import DetTx, covered_periods, trailing


def _tx(i: int, day: date, amount: str, category: str = "groceries") -> DetTx:
    return DetTx(i, day, Decimal(amount), "EUR", "shop", category, "Shop")


def test_the_baseline_ignores_periods_before_the_data_began():
    history = [_tx(1, date(2026, 8, 5), "-100"), _tx(2, date(2026, 9, 5), "-120"),
               _tx(3, date(2026, 10, 5), "-80"), _tx(4, date(2026, 11, 5), "-90")]
    start, end = date(2026, 11, 1), date(2026, 11, 30)
    assert covered_periods(history, start, end) == [
        (date(2026, 10, 1), date(2026, 10, 31)), (date(2026, 9, 1), date(2026, 9, 30)),
        (date(2026, 8, 1), date(2026, 8, 31))]
    assert trailing(history, start, end, key="category") == {
        ("groceries", "EUR"): [Decimal(80), Decimal(120), Decimal(100)]}
    # Data that begins late in a month: that month is not a full period of spending.
    late = [_tx(1, date(2026, 8, 25), "-10"), *history[1:]]
    assert len(covered_periods(late, start, end)) == 2
    # The first period of data has nothing to compare with.
    assert covered_periods(history, date(2026, 8, 1), date(2026, 8, 31)) == []


def test_monthly_report_usual_values_come_from_covered_months(hh_client):
    client = hh_client()
    r = client.post("/api/reports/spending", params={"month": "2026-11"})
    assert r.status_code == 200, r.text
    content = r.json().get("content", r.json())
    assert content["baseline_periods"] == 3
    cats = {c["category"]: c for c in content["categories"]}
    assert Decimal(cats["groceries"]["trailing_median"]) > 0
    assert Decimal(cats["rent"]["trailing_median"]) == Decimal("1090.00")
    first = client.post("/api/reports/spending", params={"month": "2026-08"}).json()
    first = first.get("content", first)
    assert first["baseline_periods"] == 0
    assert all(c["trailing_median"] is None for c in first["categories"])


def test_period_page_no_data_trend_heading_and_neighbours(hh_client):
    client = hh_client()
    page = client.get("/reports/period", params={"month": "2026-10"})
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "Usual: the median of the 2 earlier periods your statements cover." in text
    trend = text.index("<h2>Spending over time</h2>")
    assert trend < text.index("<h2>Flagged items</h2>")
    assert re.search(r'<section class="report-flags">\s*<h2>Flagged items</h2>\s*(<p>|<ol)', text)
    assert 'href="/reports/period?period=2026-09"' in page.text
    assert 'href="/reports/period?period=2026-11"' in page.text
    assert 'action="/reports/build"' in page.text  # not stored yet: "keep this report"
    empty = client.get("/reports/period", params={"week": "2025-W03"})
    text = html.unescape(empty.text)
    assert empty.status_code == 200
    assert "No data for this period: there are no transactions from 2025-01-13 to 2025-01-19." \
        in text
    assert "Your statements cover 2026-08-01 to 2026-11-19." in text
    assert "Nothing unusual" not in text and "0.00" not in text
    assert 'href="/reports/period?period=2025-W02"' in empty.text
    r = client.post("/reports/build", data={"period": "2026-10"}, follow_redirects=False)
    assert r.status_code == 303
    stored = client.get(r.headers["location"])
    assert 'href="/reports/period?period=2026-09"' in stored.text
    again = client.get("/reports/period", params={"month": "2026-10"})
    assert "Keep this report" not in again.text
    bad = client.get("/reports/period", params={"period": "soon"})
    assert bad.status_code == 400


def test_the_money_page_examples_find_something(hh_client):
    client = hh_client()
    page = client.get("/reports")
    assert page.status_code == 200
    examples = re.findall(r'<a href="/reports\?q=([^"]+)">', page.text)
    assert examples and "groceries" in html.unescape(examples[0]).replace("+", " ")
    assert 'type="month"' in page.text and 'type="week"' in page.text
    total = client.get("/api/transactions/sum", params={
        "period": "2026-10", "category": "groceries", "direction": "out"}).json()["totals"][0]
    assert total["count"] == 4
    answer = client.get("/reports", params={"q": "How much did I spend on groceries in "
                                                 "October 2026?"})
    text = html.unescape(answer.text)
    assert f"Spent {total['total'].lstrip('-')} EUR in 4 transactions" in text
    assert answer.text.count('class="citation"') == 4  # the grocery rows it adds up
    for example in examples:
        q = html.unescape(example).replace("+", " ")
        from urllib.parse import unquote

        r = client.get("/reports", params={"q": unquote(q)})
        assert 'id="money-answer"' in r.text, q
        assert "does not look like a money question" not in r.text, q
