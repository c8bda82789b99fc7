"""Zip containers checked before any library unpacks them (ingest/parsers/safezip.py)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from app.core.errors import CorruptDocumentError, EncryptedDocumentError, ExpansionLimitError
from ingest.limits import MB, Limits
from ingest.parsers.safezip import check_zip, entry_count
from tests.hostile import badfiles

DATA = Path(__file__).resolve().parent.parent / "data"
REALWORLD = Path("/work/shared/realworld")


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_real_office_files_pass():
    files = sorted(p for ext in ("docx", "xlsx", "pptx", "odt") for p in DATA.rglob(f"*.{ext}"))
    if (REALWORLD / "contracts").is_dir():
        files += sorted((REALWORLD / "contracts").glob("*.docx"))
    assert files
    for path in files:
        archive = check_zip(path.read_bytes(), name=str(path), limits=Limits(), label="file")
        assert archive.namelist()


def test_sizes_of_every_kind_are_counted_exactly():
    members = {"empty": b"", "one": b"x", "piece": b"y" * 65536, "odd": b"z" * (3 * MB + 7),
               "noise": bytes(range(256)) * 4000}
    for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        data = _zip(members, method)
        assert entry_count(data) == len(members)
        check_zip(data, name="t.zip", limits=Limits(max_compression_ratio=1e9), label="zip")


def test_bomb_refused_from_its_directory():
    bomb = badfiles.docx_bomb(210)
    with pytest.raises(ExpansionLimitError, match=r"^b\.docx: unpacks to more than 200 MB "
                       r"\(limit HOMERAG_MAX_UNPACKED_MB\)$") as caught:
        check_zip(bomb, name="b.docx", limits=Limits(), label=".docx")
    assert caught.value.code == "unpack_limit"
    with pytest.raises(ExpansionLimitError, match=r"'word/document.xml' expands [\d,]+-fold, "
                       r"more than 100 \(limit HOMERAG_MAX_COMPRESSION_RATIO\)"):
        check_zip(bomb, name="b.docx", limits=Limits(max_unpacked_bytes=500 * MB), label=".docx")


def test_lying_directory_is_caught_while_inflating():
    liar = badfiles.lying_zip(badfiles.docx_bomb(20), "word/document.xml")
    with pytest.raises(CorruptDocumentError, match="another size than its zip directory says"):
        check_zip(liar, name="l.docx", limits=Limits(), label=".docx")
    # Claiming the true size but more than the budget: refused by the inflation count too.
    honest = badfiles.docx_bomb(20)
    with pytest.raises(ExpansionLimitError, match="unpacks to more than 10 MB"):
        check_zip(honest, name="h.docx", label=".docx",
                  limits=Limits(max_unpacked_bytes=10 * MB, max_compression_ratio=1e9))


def test_member_count_read_before_the_directory_is_listed():
    data = badfiles.docx_with_members(300)
    assert entry_count(data) == 303
    with pytest.raises(ExpansionLimitError, match=r"holds 303 files, more than 100 "
                       r"\(limit HOMERAG_MAX_PARTS\)") as caught:
        check_zip(data, name="m.docx", limits=Limits(max_parts=100), label=".docx")
    assert caught.value.code == "too_many_parts"


def test_unusual_methods_encryption_and_garbage():
    bz = _zip({"word/document.xml": b"<x/>" * 1000}, zipfile.ZIP_BZIP2)
    with pytest.raises(CorruptDocumentError, match="compression method 12"):
        check_zip(bz, name="z.docx", limits=Limits(), label=".docx")
    locked = bytearray(_zip({"a.xml": b"<a/>"}, zipfile.ZIP_STORED))
    locked[6] |= 1  # the encryption flag in the local header ...
    central = locked.find(b"PK\x01\x02")
    locked[central + 8] |= 1  # ... and in the directory
    with pytest.raises(EncryptedDocumentError):
        check_zip(bytes(locked), name="e.docx", limits=Limits(), label=".docx")
    for junk in (b"", b"PK\x03\x04 not really", b"\x00" * 100):
        with pytest.raises(CorruptDocumentError, match=r"not a readable \.docx"):
            check_zip(junk, name="j.docx", limits=Limits(), label=".docx")
