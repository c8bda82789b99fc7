"""Never silent, through the real pipeline and ledger: a file that is recognisably a statement
imports exactly or is a FAILED ledger item with a one-line reason; ZIP archives unpack into
cited child documents within bounds; a CAMT.054 notification and the CAMT.053 statement that
repeats it are one transaction."""

from __future__ import annotations

import zipfile
from pathlib import Path

from sqlalchemy import func, select

from app.core.models import Document, IngestItem, Transaction
from app.core.models.money import TransactionOccurrence
from ingest.parsers.archive import ArchiveLimits, ArchiveParser
from tests.money.quirks import ofx_variants, zip_of
from tests.money.test_bank_qif_camt_mt940 import _camt, _txs
from tests.support.statements_synth import Acct, Tx, camt053

DATA = Path(__file__).resolve().parents[1] / "data" / "bank"


def _failed(db) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with db.session() as s:
        rows = s.execute(select(IngestItem.origin, IngestItem.message)
                         .where(IngestItem.status == "failed")).all()
    return {Path(o).name: m for o, m in rows}


def test_recognisable_statements_that_yield_nothing_are_failed_items(bank_run, folder,
                                                                     clean_db) -> None:
    for name in ("ofxparse_bank_small_empty.ofx", "bank2ynab_aib_ie_header_only.csv",
                 "bank2ynab_ocbc_sg_preamble_masked.csv", "csv2ofx_creditunion_cr_only.csv",
                 "bank2ynab_raiffeisen_at_IO_flag.csv"):
        (folder / name).write_bytes((DATA / name).read_bytes())
    (folder / "login.qfx").write_bytes(
        b"<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>15500<SEVERITY>ERROR<MESSAGE>Bad password"
        b"</STATUS></SONRS></SIGNONMSGSRSV1></OFX>")
    (folder / "empty.qif").write_bytes(b"!Type:Cat\nNFood\nE\n^\n")
    (folder / "notes.csv").write_bytes(b"name,colour\nalice,blue\nbob,green\n")  # no statement
    report = bank_run(folder)
    failed = _failed(clean_db)
    assert set(failed) == {"ofxparse_bank_small_empty.ofx", "bank2ynab_aib_ie_header_only.csv",
                           "bank2ynab_ocbc_sg_preamble_masked.csv", "login.qfx", "empty.qif",
                           "csv2ofx_creditunion_cr_only.csv",
                           "bank2ynab_raiffeisen_at_IO_flag.csv"}
    assert all("\n" not in m and n in m.split(":")[0] for n, m in failed.items())
    assert "error 15500 (Bad password)" in failed["login.qfx"]
    assert "X.XX" in failed["bank2ynab_ocbc_sg_preamble_masked.csv"]
    assert report.counts["indexed"] == 1  # notes.csv: not a statement, indexed as text
    with clean_db.session() as s:
        kinds = {Path(o).name: k for o, k in s.execute(select(Document.origin, Document.kind))}
    assert kinds == {"notes.csv": "other"} or kinds == {"notes.csv": "note"}


def test_zip_archive_members_are_cited_children_within_bounds(bank_run, folder,
                                                              clean_db) -> None:
    members = {"2024-03/statement.xml": camt053([Acct("DE89370400440532013000", _txs())]),
               "2024-03/notify.xml": _camt("054", _txs()[:1]),
               "README.txt": b"Exported by the bank's portal.\n"}
    (folder / "download.zip").write_bytes(zip_of(members))
    report = bank_run(folder)
    assert not report.problems, report.problems
    with clean_db.session() as s:
        origins = sorted(o[o.index("download.zip"):] for (o,) in s.execute(
            select(Document.origin)))
        assert origins == ["download.zip", "download.zip › 2024-03/notify.xml",
                           "download.zip › 2024-03/statement.xml", "download.zip › README.txt"]
        # the 054 notification and the 053 statement list the same booking: one transaction
        assert s.scalar(select(func.count()).select_from(Transaction)) == 3
        assert s.scalar(select(func.count()).select_from(TransactionOccurrence)) == 4


def test_camt054_then_camt053_are_one_transaction_in_any_order(bank_run, folder,
                                                               clean_db) -> None:
    (folder / "a-notification.xml").write_bytes(_camt("054", _txs()[:2]))
    bank_run(folder)
    (folder / "b-statement.xml").write_bytes(_camt("053", _txs()))
    bank_run(folder)
    with clean_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Transaction)) == 3


def test_pending_camt052_row_is_kept_marked_and_settled_by_the_statement(bank_run, folder,
                                                                         clean_db) -> None:
    txs = _txs()
    pending = [Tx(t.day, t.amount, t.payee, t.memo, ref=None, pending=True) for t in txs[:1]]
    (folder / "intraday.xml").write_bytes(_camt("052", pending))
    bank_run(folder)
    with clean_db.session() as s:
        assert s.scalars(select(Transaction.status)).all() == ["pending"]
    (folder / "statement.xml").write_bytes(_camt("053", txs))
    bank_run(folder)
    with clean_db.session() as s:
        assert sorted(s.scalars(select(Transaction.status)).all()) == ["booked"] * 3


def test_archive_bounds_each_fail_in_one_line(bank_run, folder, clean_db) -> None:
    import pytest

    from app.core.errors import IngestError
    from app.core.types import ParseInput, RawItem

    def parse(data: bytes, limits: ArchiveLimits, depth: int = 0):  # type: ignore[no-untyped-def]
        item = RawItem(origin="x.zip", name="x.zip", data=data, hints={"archive_depth": depth})
        return ArchiveParser(limits).parse(ParseInput.of(item, data, "application/zip"))

    ofx = ofx_variants()["full_header"]
    cases = [
        (zip_of({f"{i}.ofx": ofx for i in range(5)}), ArchiveLimits(max_members=3), 0,
         "holds 5 files, over the limit of 3"),
        (zip_of({"a.ofx": ofx * 40}), ArchiveLimits(max_total_bytes=10_000), 0,
         "unpacks to 0 MB, over the limit"),
        (zip_of({"bomb.csv": b"0" * 3_000_000}), ArchiveLimits(max_ratio=100), 0,
         "over the limit of 100:1"),
        (zip_of({"a.ofx": ofx}), ArchiveLimits(max_depth=2), 2, "nested deeper than 2"),
        (b"PK\x03\x04 this is not a zip", ArchiveLimits(), 0, "not a readable ZIP"),
    ]
    for data, limits, depth, message in cases:
        with pytest.raises(IngestError) as err:
            parse(data, limits, depth)
        assert message in str(err.value) and "\n" not in str(err.value)
    stored = zip_of({"a.ofx": ofx}, compression=zipfile.ZIP_STORED)
    assert [c.origin for c in parse(stored, ArchiveLimits()).children] == ["x.zip › a.ofx"]
