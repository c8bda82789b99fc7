"""Extraction into the contracts table (rules and LLM over real HTTP), and upcoming deadlines."""

from __future__ import annotations

import json
import re
from datetime import date

from sqlalchemy import select

from app.contracts.store import documents_to_extract
from app.core.models import Chunk, Contract
from app.llm.client import make_chat_client
from app.services.contracts import list_contracts, refresh_contracts, upcoming_deadlines
from tests.openai_stub import Reply, chat_text

TODAY = date(2025, 12, 15)


def _chat(settings, stub):
    return make_chat_client(settings.model_copy(update={"extract_llm_base_url": stub.base_url,
                                                         "llm_timeout": 5.0}), task="extract")


def test_rules_extraction_stores_cited_terms(rt, clean_db, contract_docs) -> None:
    report = refresh_contracts(rt, chat=None, today=TODAY)
    assert report.to_json() == {"extracted": 2, "llm": 0, "rules": 2, "failed": []}
    with clean_db.session() as s:
        lease = s.scalars(select(Contract).where(
            Contract.document_id == contract_docs["mietvertrag"])).one()
        assert lease.method == "rules" and lease.parties == ["Erika Mustermann", "Max Müller"]
        assert (lease.start_date, lease.term_months, lease.renewal_months) == (
            date(2024, 3, 1), 24, 12)
        assert (lease.notice_value, lease.notice_unit, lease.after_term) == (3, "months", "renews")
        assert lease.amounts[0] == {"amount": "850.00", "currency": "EUR", "rhythm": "monthly",
                                    "citation": lease.amounts[0]["citation"]}
        cited = lease.terms["notice"]
        assert cited["value"] == "P3M" and "Frist von drei Monaten" in cited["quote"]
        chunk = s.get(Chunk, cited["chunk_id"])
        assert chunk.document_id == lease.document_id and "drei Monaten" in chunk.text
    # Nothing left to do on a second run.
    assert refresh_contracts(rt, chat=None, today=TODAY).to_json()["extracted"] == 0


def test_upcoming_deadlines_window(rt, contract_docs) -> None:
    refresh_contracts(rt, chat=None, today=TODAY)
    autumn = upcoming_deadlines(rt, today=date(2025, 10, 15), days=60)
    assert [(d.title, d.kind, d.date) for d in autumn] == [
        ("Mietvertrag", "cancel_by", date(2025, 11, 30))]
    assert autumn[0].days_left == 46 and autumn[0].next_renewal == date(2026, 3, 1)
    assert "drei Monaten" in autumn[0].citations["notice"]["quote"]
    winter = upcoming_deadlines(rt, today=TODAY, days=60)
    assert [(d.title, d.date) for d in winter] == [("SERVICE AGREEMENT", date(2026, 1, 29))]
    assert upcoming_deadlines(rt, today=TODAY, days=10) == []
    views = {v.contract.title: v.to_json() for v in list_contracts(rt, today=TODAY)}
    assert views["Mietvertrag"]["cancel_by"] == "2026-11-30"
    assert views["SERVICE AGREEMENT"]["status"] == "renews"


def _llm_answer(request: dict) -> str:
    """What a well-behaved model answers: values from the offered chunks, cited."""
    text = chat_text(request)
    chunk_id = int(re.search(r'<chunk id="(\d+)"', text).group(1))
    cite = lambda v, q: {"value": v, "chunk": chunk_id, "quote": q}  # noqa: E731
    if "Mietvertrag" in text:
        return json.dumps({
            "parties": cite(["Erika Mustermann", "Max Müller"], "Zwischen Erika Mustermann"),
            "start_date": cite("2024-03-01", "beginnt am 1. März 2024"),
            "term": cite({"count": 2, "unit": "years"}, "für zwei Jahre fest abgeschlossen"),
            "after_term": cite("renews", "verlängert sich jeweils um ein weiteres Jahr"),
            "renewal": cite({"count": 1, "unit": "years"}, "um ein weiteres Jahr"),
            "notice": cite({"count": 3, "unit": "months"}, "mit einer Frist von drei Monaten"),
            "notice_to_month_end": False,
            "end_date": cite("2024-02-30", "invented"),  # invalid: must be dropped
            "amounts": [{"amount": "850.00", "currency": "EUR", "rhythm": "monthly",
                         "chunk": 999999, "quote": "850,00 €"}],  # chunk never offered
            "payment_rhythm": "monthly",
        })
    return "not json at all"


def test_llm_extraction_with_schema_validation_and_fallback(rt, clean_db, contract_docs, settings,
                                                            openai_stub) -> None:
    openai_stub.reply_with(_llm_answer)
    chat = _chat(settings, openai_stub)
    report = refresh_contracts(rt, chat=chat, today=TODAY)
    assert (report.by_llm, report.by_rules) == (1, 1), report.to_json()
    request = openai_stub.chat_requests[0]
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["strict"] is True
    assert "UNTRUSTED DATA" in request["messages"][0]["content"]
    with clean_db.session() as s:
        lease = s.scalars(select(Contract).where(
            Contract.document_id == contract_docs["mietvertrag"])).one()
        assert lease.method == "llm" and lease.model == settings.llm_model
        assert (lease.term_months, lease.renewal_months, lease.notice_value) == (24, 12, 3)
        assert lease.end_date is None and "end_date" not in lease.terms
        assert lease.amounts == [{"amount": "850.00", "currency": "EUR", "rhythm": "monthly"}]
        assert any("chunk 999999" in w for w in lease.warnings)
        assert any("not a valid date" in w for w in lease.warnings)
        assert lease.terms["notice"]["quote"] == "mit einer Frist von drei Monaten"
        service = s.scalars(select(Contract).where(
            Contract.document_id == contract_docs["storage"])).one()
        assert service.method == "rules" and service.term_months == 12
        assert any("LLM extraction failed" in w for w in service.warnings)
        # With an LLM configured, rule-based rows are tried again on the next refresh.
        assert documents_to_extract(s, llm=True) == [contract_docs["storage"]]
        assert documents_to_extract(s, llm=False) == []


def test_llm_down_falls_back_to_rules(rt, contract_docs, settings, openai_stub) -> None:
    openai_stub.reply_with(Reply(status=503))
    report = refresh_contracts(rt, chat=_chat(settings, openai_stub), today=TODAY)
    assert (report.by_llm, report.by_rules) == (0, 2)


def test_scanned_contract_photo_gets_terms_cited_to_its_page(rt, clean_db, tmp_path) -> None:
    """A phone photo of a lease: OCR (Tesseract, German) -> contract -> rule-based terms."""
    import textwrap

    from ingest.embedders.lexical import LexicalHashEmbedder
    from ingest.pipeline import IngestOptions, Pipeline
    from ingest.sources.folder import FolderSource
    from tests.contracts.samples import GERMAN_LEASE
    from tests.ocr.scans import render_page

    lines = [w for para in GERMAN_LEASE.strip().split("\n\n")
             for w in [*textwrap.wrap(para, 62), ""]]
    folder = tmp_path / "scans"
    folder.mkdir()
    render_page(lines, size=(2000, 1900), font_px=34, angle=0.7).convert("RGB").save(
        folder / "mietvertrag-scan.jpg", quality=90)
    report = Pipeline(clean_db, embedder=LexicalHashEmbedder(), options=IngestOptions()).run(
        FolderSource("scans", folder))
    assert report.counts["indexed"] == 1, report.to_json()
    assert refresh_contracts(rt, chat=None, today=TODAY).by_rules == 1
    with clean_db.session() as s:
        lease = s.scalars(select(Contract)).one()
        assert (lease.start_date, lease.term_months, lease.renewal_months) == (
            date(2024, 3, 1), 24, 12)
        assert (lease.notice_value, lease.notice_unit) == (3, "months")
        assert lease.terms["notice"]["page"] == 1


def test_weekly_report_lists_contract_deadlines_of_the_next_60_days(rt, clean_db, contract_docs):
    from datetime import UTC, datetime

    from app.money.periods import week_period
    from app.money.render import to_html, to_markdown
    from app.money.report import build_spending_report

    refresh_contracts(rt, chat=None, today=TODAY)
    with clean_db.session() as s:
        content = build_spending_report(s, week_period(2025, 41), kind="week",
                                        now=datetime(2025, 10, 15, 7, tzinfo=UTC))
    assert [(d["title"], d["kind"], d["date"]) for d in content["deadlines"]] == [
        ("Mietvertrag", "cancel_by", "2025-11-30")]
    assert any("Last day to cancel Mietvertrag: 2025-11-30" in line
               for line in content["summary"])
    assert "## Contract deadlines in the next 60 days" in to_markdown(content)
    assert "Contract deadlines in the next 60 days" in to_html(content, charts={})
