"""The demo's bundled contracts (app/sample/household/contracts: a gym membership PDF and a German
phone contract DOCX) are recognised as contracts and listed with their deadlines.

They use no formal phrase ("by and between", "Vertragsparteien"): a consumer contract names
itself in its first line and states a term or notice clause.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from app.cli import cli
from ingest.parsers.common import guess_kind

SAMPLES = Path(__file__).resolve().parents[2] / "app" / "sample" / "household" / "contracts"


def test_a_letter_about_a_contract_stays_a_letter() -> None:
    letter = ("Kündigung Mobilfunkvertrag\nSehr geehrte Damen und Herren,\nhiermit kündige ich "
              "meinen Vertrag zum Ende der Mindestvertragslaufzeit unter Einhaltung der "
              "Kündigungsfrist. Laufzeit\nMit freundlichen Grüßen\nAlex Example")
    assert guess_kind(letter) == "letter"
    # A first line naming a contract is not enough without a term clause.
    assert guess_kind("Contract negotiation notes\nparty on friday, agreement pending") == "other"


def test_bundled_contracts_are_listed_with_their_deadlines(rt, clean_db, settings) -> None:
    from sqlalchemy import select

    from app.core.models import Document
    from app.services.contracts import refresh_contracts
    from ingest.embedders.lexical import LexicalHashEmbedder
    from ingest.pipeline import IngestOptions, Pipeline
    from ingest.sources.folder import FolderSource

    report = Pipeline(clean_db, embedder=LexicalHashEmbedder(), options=IngestOptions()).run(
        FolderSource("contracts", SAMPLES))
    assert report.counts["indexed"] == 2, report.to_json()
    with clean_db.session() as s:
        kinds = {Path(d.origin).name: d.kind for d in s.scalars(select(Document))}
    assert kinds == {"fitlife-gym-membership.pdf": "contract",
                     "mobilfunkvertrag-smart20.docx": "contract"}

    assert refresh_contracts(rt, chat=None, today=date(2026, 9, 1)).to_json() == {
        "extracted": 2, "llm": 0, "rules": 2, "failed": []}
    result = CliRunner().invoke(cli, ["contracts", "--json", "--no-refresh", "--today",
                                      "2026-09-01", "--days", "200"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    by_file = {Path(c["path"]).name: c for c in out["contracts"]}
    gym, phone = by_file["fitlife-gym-membership.pdf"], by_file["mobilfunkvertrag-smart20.docx"]
    # 1 Feb 2025, 12 months, renews for 12 months, three months' notice before the term ends
    # (the "two months notice" of the later price-change clause is not the notice period).
    assert (gym["start_date"], gym["term_months"], gym["renewal_months"]) == (
        "2025-02-01", 12, 12)
    assert (gym["status"], gym["term_end"], gym["cancel_by"]) == (
        "renews", "2027-01-31", "2026-10-31")
    # 15 March 2025, 24 months minimum, then open-ended with one month's notice.
    assert phone["parties"] == ["Funknetz Beispiel GmbH", "Alex Example"]
    assert (phone["status"], phone["term_end"], phone["cancel_by"]) == (
        "continues", "2027-03-14", "2027-02-14")
    assert [(Path(d["path"]).name, d["kind"], d["date"]) for d in out["deadlines"]] == [
        ("fitlife-gym-membership.pdf", "cancel_by", "2026-10-31"),
        ("mobilfunkvertrag-smart20.docx", "cancel_by", "2027-02-14")]
    text = CliRunner().invoke(cli, ["contracts", "--no-refresh", "--today", "2026-09-01"],
                              catch_exceptions=False)
    assert "2026-10-31 (60 days)  cancel by: FitLife Gym membership agreement" in text.output
    # Every contract is listed with its next date, also when it is not within the window.
    assert ("Mobilfunkvertrag Tarif Smart 20  [rules]  status: continues; cancel by 2027-02-14"
            in text.output)
    assert phone["notice"] == "1 month" and gym["notice"] == "3 months"
