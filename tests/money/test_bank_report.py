"""Spending reports from the database: content, charts, rendering, narrative, storing and e-mail."""

from __future__ import annotations

import email
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core.models import Report
from app.money.narrative import write_narrative
from app.money.periods import month_period, week_period
from app.money.render import to_html, to_markdown
from app.money.report import build_spending_report
from app.services.report import build_and_store_report, run_weekly_report
from app.services.runtime import Runtime
from ingest.money.mt940 import parse_mt940
from tests.support.statements_seed import store_file
from tests.support.statements_synth import Acct, Tx, mt940, random_history

D = Decimal
W05 = week_period(2026, 5)  # 2026-01-26 .. 2026-02-01


def history() -> list[Tx]:
    txs = random_history(start=date(2025, 1, 1), days=425, seed=3)
    txs = [t if not (t.payee == "Netflix" and t.day >= date(2026, 2, 1))
           else Tx(t.day, D("-15.99"), "Netflix", "Abo") for t in txs]
    txs += [
        Tx(date(2026, 1, 27), D("-899.00"), "Luxus <Uhren> Berlin", "Uhr"),
        Tx(date(2026, 1, 29), D("-249.00"), "IKEA", "Regal"),
        Tx(date(2026, 1, 30), D("-249.00"), "IKEA", "Regal"),
    ]
    return sorted(txs, key=lambda t: t.day)


@pytest.fixture
def seeded(clean_db):
    usd = [Tx(date(2026, 1, 28), D("-42.00"), "Corner Deli NYC", "lunch")]
    with clean_db.session() as s:
        store_file(s, parse_mt940(mt940([Acct("DE89370400440532013000", history())]),
                                  name="giro.sta"), origin="/home/me/bank/giro.sta")
        store_file(s, parse_mt940(mt940([Acct("US1234", usd, currency="USD")]),
                                  name="usd.sta"), origin="/home/me/bank/usd.sta")
    return clean_db


def test_weekly_report_content_cites_every_flagged_row(seeded) -> None:
    with seeded.session() as s:
        content = build_spending_report(s, W05, kind="week",
                                        now=datetime(2026, 2, 2, 7, tzinfo=UTC))
    kinds = {f["kind"] for f in content["flags"]}
    assert {"double_charge", "new_merchant"} <= kinds
    for f in content["flags"]:
        for tid in f["transaction_ids"]:
            tx = content["transactions"][str(tid)]
            assert tx["source"]["path"].endswith(".sta") and tx["source"]["line"] > 0
    # two currencies: two totals, never added together
    assert sorted(t["currency"] for t in content["totals"]) == ["EUR", "USD"]
    usd = next(t for t in content["totals"] if t["currency"] == "USD")
    assert usd["spent"] == "42.00"
    groceries = next(c for c in content["categories"]
                     if c["category"] == "groceries" and c["currency"] == "EUR")
    assert Decimal(groceries["trailing_median"]) > 0
    assert len(content["trend"]) == 13 and content["trend"][-1]["start"] == "2026-01-26"
    assert "Luxus <Uhren> Berlin" in [m["label"] for m in content["merchants"][:3]]
    assert any("[F1]" in line for line in content["summary"])
    assert any(s["kind"] == "double_charge" for s in content["suggestions"])


def test_monthly_report_flags_the_subscription_price_rise(seeded) -> None:
    with seeded.session() as s:
        content = build_spending_report(s, month_period(2026, 2), kind="month")
    rises = [f for f in content["flags"] if f["kind"] == "recurring_changed"]
    assert [f["merchant"] for f in rises] == ["netflix"]
    assert "12.99 EUR to 15.99 EUR" in rises[0]["reason"]
    assert any("Netflix" in s["text"] and "15.99" in s["text"] for s in content["suggestions"])


def test_markdown_and_html_render_with_three_charts_and_escaped_payees(seeded) -> None:
    with seeded.session() as s:
        content = build_spending_report(s, W05, kind="week")
    md = to_markdown(content, link_base="http://127.0.0.1:8000")
    assert "## Flagged items" in md and "giro.sta line" in md
    assert "http://127.0.0.1:8000/reports/transactions/" in md
    html = to_html(content)
    assert html.count('src="data:image/png;base64,') == 3
    assert "Luxus &lt;Uhren&gt; Berlin" in html and "<Uhren>" not in html
    assert "What you could do" in html


def test_narrative_only_restates_cited_facts(seeded, openai_stub) -> None:
    from app.core.config import LLMEndpoint
    from app.llm.client import OpenAIChatClient
    from tests.openai_stub import Reply

    client = OpenAIChatClient(LLMEndpoint(base_url=openai_stub.base_url, model="m", api_key=None,
                                          timeout=10))
    with seeded.session() as s:
        content = build_spending_report(s, W05, kind="week")
    eur = next(t for t in content["totals"] if t["currency"] == "EUR")
    good = f"You spent {eur['spent']} EUR this week [1]. IKEA charged 249.00 EUR twice [3]."
    openai_stub.queue(Reply(good), Reply("You spent 2,000.00 EUR [1]."),
                      Reply("A quiet week without citations."), Reply("Odd [99]."))
    narrative = write_narrative(content, client)
    assert narrative is not None and narrative["text"] == good
    assert narrative["cited"] == [1, 3]
    sent = openai_stub.chat_requests[0]["messages"]
    assert "UNTRUSTED DATA" in sent[0]["content"] and "[1] Total: spent" in sent[1]["content"]
    assert write_narrative(content, client) is None  # invented figure
    assert write_narrative(content, client) is None  # no citation
    assert write_narrative(content, client) is None  # cites a fact never offered


def test_weekly_job_stores_and_mails_the_report(seeded, settings, smtp_stub) -> None:
    cfg = settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": smtp_stub.port, "smtp_security": "none",
        "smtp_user": "me", "smtp_password": None, "smtp_from": "homerag@example.org",
        "smtp_to": "owner@example.org, partner@example.org", "timezone": "Europe/Berlin"})
    ctx = Runtime(settings=cfg, db=seeded)
    monday = datetime(2026, 2, 2, 6, 0, tzinfo=UTC)  # 07:00 in Berlin
    result = run_weekly_report(ctx, now=monday, chat=None)
    assert result["period"] == "2026-W05" and result["emailed"] is True
    assert result["flags"] >= 2
    [mail] = smtp_stub.messages
    assert len(mail["rcpt"]) == 2
    msg = email.message_from_bytes(mail["data"])
    assert "2026-W05" in msg["Subject"]
    types = [p.get_content_type() for p in msg.walk()]
    assert "text/plain" in types and "text/html" in types and types.count("image/png") == 3
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html").get_payload(
        decode=True).decode()
    assert "cid:" in html and "data:image/png" not in html
    with seeded.session() as s:
        row = s.scalar(select(Report).where(Report.period == "2026-W05"))
        assert row.emailed_at is not None and row.content["flags"]
        first_id = row.id
    # Rebuilding the same week replaces the stored report.
    with seeded.session() as s:
        again, *_ = build_and_store_report(s, W05, kind="week")
    assert again == first_id


def test_weekly_job_without_smtp_only_stores(seeded, settings) -> None:
    ctx = Runtime(settings=settings, db=seeded)
    result = run_weekly_report(ctx, now=datetime(2026, 2, 3, 12, tzinfo=UTC))
    assert result == {"report_id": result["report_id"], "period": "2026-W05",
                      "flags": result["flags"], "emailed": False, "narrative": False}


def test_report_services_build_list_show_render(seeded, settings) -> None:
    import json

    from app.core.errors import InvalidInputError, NotFoundError
    from app.services.report import (
        build_report,
        get_report,
        list_reports,
        report_period,
        report_view,
    )

    rt = Runtime(settings=settings, db=seeded)
    draft = build_report(rt, week="2026-W05", store=False)
    assert draft.id is None and list_reports(rt) == []
    assert draft.render("markdown").startswith("# Weekly spending report 2026-W05")
    assert "/reports/transactions/" in draft.render("markdown")  # links to the local server
    assert draft.render("html").count('src="data:image/png;base64,') == 3
    assert json.loads(draft.render("json"))["period"] == "2026-W05"
    kept = build_report(rt, period="2026-01")
    assert kept.id is not None
    assert [r["period"] for r in list_reports(rt)] == ["2026-01"]
    assert get_report(rt, kept.id)["content"]["kind"] == "spending-month"
    view = report_view(rt, kept.id)
    assert view.period == "2026-01" and view.body_html.count("data:image/png") == 3
    with pytest.raises(NotFoundError):
        get_report(rt, 999999)
    monday = date(2026, 2, 4)
    assert report_period(today=monday) == (W05, "week")
    assert report_period(period=" 2026-02 ", today=monday) == (month_period(2026, 2), "month")
    with pytest.raises(InvalidInputError, match="not both"):
        report_period(week="2026-W05", month="2026-01", today=monday)
    with pytest.raises(InvalidInputError, match="2026-W47 or 2026-10"):
        report_period(period="soon", today=monday)
