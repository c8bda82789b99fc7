"""Backup and restore round trip on real PostgreSQL servers: the test database is backed up and
restored into a second, new embedded server; counts, searches, answers and money must match."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.core.config import load_settings
from app.services import backup as backup_service
from app.services.ask import ask
from app.services.backup import BackupError
from app.services.money import TransactionFilterInput, sum_transactions
from app.services.runtime import Runtime, open_runtime
from app.services.search import hit_json, search_passages
from app.services.sync import resolve_sources, sync
from ingest.embedders.lexical import LexicalHashEmbedder

# Tier `slow`: starts servers or processes (`make test-fast` leaves it out).
pytestmark = pytest.mark.slow

QUERIES = ("gym membership notice period", "electricity bill", "Miete Wohnung")

STATEMENT = """Buchung;Valuta;Auftraggeber/Empfänger;Buchungstext;Verwendungszweck;Betrag;Währung
01.10.2026;01.10.2026;Vermieter GmbH;Dauerauftrag;Miete Oktober;-950,00;EUR
05.10.2026;05.10.2026;Stadtwerke;Lastschrift;Strom Abschlag;-72,00;EUR
28.10.2026;28.10.2026;Arbeitgeber AG;Gutschrift;Gehalt;3450,00;EUR
"""


def _corpus(root: Path) -> Path:
    docs = root / "docs"
    docs.mkdir()
    (docs / "gym.txt").write_text("Gym membership: the notice period is three months before "
                                  "the end of the term.\n")
    (docs / "power.md").write_text("# Electricity bill\n\nThe electricity bill for 2026 is "
                                   "842.10 euros; the back-payment is 96.40 euros.\n")
    (docs / "lease.txt").write_text("Mietvertrag: die Miete für die Wohnung beträgt 950 Euro.\n")
    (docs / "konto.csv").write_text(STATEMENT, encoding="utf-8")
    (root / "data" / "categories.toml").parent.mkdir(parents=True, exist_ok=True)
    return docs


def _snapshot(rt: Runtime) -> dict[str, object]:
    searches = {q: [{k: v for k, v in hit_json(i, h).items() if k not in ("chunk_id",)}
                    for i, h in enumerate(search_passages(rt, q, top_k=3), 1)]
                for q in QUERIES}
    answer = ask(rt, "What is the notice period of the gym membership?", chat=None)
    money = sum_transactions(rt, TransactionFilterInput())
    return {"search": searches, "answer": answer.answer,
            "cited": [c.citable.path for c in answer.citations],
            "money": json.loads(json.dumps(money.to_json(), default=str))}


@pytest.fixture
def indexed(settings, clean_db, tmp_path: Path) -> Runtime:
    (settings.data_dir / "categories.toml").write_text(
        '[[rule]]\ncategory = "housing"\npayee = "Vermieter"\n')
    rt = Runtime(settings=settings, db=clean_db)
    rt.set_embedder(LexicalHashEmbedder())
    result = sync(rt, resolve_sources(settings, paths=[_corpus(tmp_path)]))
    assert result.completed and result.reports[0].counts["indexed"] == 4
    return rt


def test_backup_then_restore_into_a_new_server_gives_the_same_answers(indexed, tmp_path):
    before = _snapshot(indexed)
    made = backup_service.backup(indexed, tmp_path / "backups")
    assert made.path.name.startswith("homerag-") and (made.path / "database.dump").is_file()
    assert made.manifest["counts"]["documents"] == 4
    assert made.manifest["counts"]["transactions"] == 3
    assert (made.path / "config" / "categories.toml").is_file()
    assert any(name.startswith("originals/") for name in made.manifest["files"])

    target = load_settings(database_url=None, data_dir=tmp_path / "restored",
                           embedder="lexical-hash", _env_file=None)
    restored = backup_service.restore(target, tmp_path / "backups")  # the newest one inside
    assert restored.counts == made.manifest["counts"]
    assert (target.data_dir / "categories.toml").read_text().startswith("[[rule]]")
    with open_runtime(target) as rt:
        after = _snapshot(rt)
        # The originals came along: a cited document's file opens.
        from app.services.documents import original_file

        doc_id = search_passages(rt, "gym", top_k=1)[0].document_id
        assert original_file(rt, doc_id).path.read_text().startswith("Gym membership")
    assert after == before


def test_restore_refuses_a_data_directory_that_holds_data(indexed, tmp_path):
    made = backup_service.backup(indexed, tmp_path / "b")
    busy = load_settings(data_dir=indexed.settings.data_dir, _env_file=None)  # the live test DB
    with pytest.raises(BackupError, match="not empty"):
        backup_service.restore(busy, made.path)


def test_a_damaged_backup_is_refused_before_anything_is_restored(indexed, tmp_path):
    made = backup_service.backup(indexed, tmp_path / "b")
    blob = next(p for p in (made.path / "originals").rglob("*") if p.is_file())
    blob.write_bytes(blob.read_bytes() + b"x")
    target = load_settings(database_url=None, data_dir=tmp_path / "new", _env_file=None)
    with pytest.raises(BackupError, match="checksum differs"):
        backup_service.restore(target, made.path)
    assert not (tmp_path / "new").exists()  # nothing was created, no server was started


def test_retention_keeps_the_newest_and_never_leaves_a_partial_backup(indexed, tmp_path):
    from datetime import UTC, datetime

    dest = tmp_path / "b"
    for day in (1, 2, 3):
        result = backup_service.backup(indexed, dest, keep=2,
                                       now=datetime(2026, 12, day, 3, 30, tzinfo=UTC))
    assert sorted(p.name for p in dest.iterdir()) == ["homerag-20261202-033000",
                                                       "homerag-20261203-033000"]
    assert [p.name for p in result.removed] == ["homerag-20261201-033000"]


def test_backup_cli_writes_one_line_and_json(settings, indexed, tmp_path):
    runner = CliRunner()
    done = runner.invoke(__import__("app.cli", fromlist=["cli"]).cli,
                         ["backup", str(tmp_path / "cli"), "--json"])
    assert done.exit_code == 0, done.output
    summary = json.loads(done.output)
    assert summary["counts"]["documents"] == 4 and os.path.isdir(summary["path"])
    bad = runner.invoke(__import__("app.cli", fromlist=["cli"]).cli,
                        ["restore", str(tmp_path / "cli"), "--data-dir",
                         str(settings.data_dir)])
    assert bad.exit_code == 1 and "not empty" in bad.output
    assert len(bad.output.strip().splitlines()) == 1
