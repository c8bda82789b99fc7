"""Damaged copies of every format the parsers read: seeded byte and XML mutations of generated
files (and of the real-world samples when present). A parser may refuse a file, always with an
IngestError of one line naming it; anything else would reach the pipeline as "parser crashed"
with a traceback in the log.
"""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest

from app.core.errors import IngestError
from app.core.types import ParseInput, RawItem
from ingest.limits import Limits
from ingest.mediatypes import detect_media_type
from ingest.parsers import make_parsers, pick_parser
from tests.hostile import badfiles
from tests.ingest.test_parsers_html import PAGE
from tests.ingest.test_parsers_odt import make_odt
from tests.ingest.test_parsers_office import _pptx, _xlsx
from tests.ingest.test_parsers_pdf import make_pdf

REALWORLD = Path("/work/shared/realworld")
ROUNDS = 25
_INSERTS = (b"<", b">", b"</w:p>", b"<w:tbl>", b"\x00", b"&#0;", b"=?utf-8?B?", b"--",
            b"\r\n\r\n", b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n",
            b'<text:s text:c="-5"/>', b'<text:h text:outline-level="99999999999">x</text:h>',
            b"9" * 25, b"\xff\xfe\xfd")


def _seeds() -> dict[str, bytes]:
    import docx

    document = docx.Document()
    document.add_heading("Mietvertrag", 1)
    document.add_paragraph("Die Miete beträgt 950 EUR.")
    buf = io.BytesIO()
    document.save(buf)
    seeds = {
        "a.docx": buf.getvalue(), "a.odt": make_odt(), "a.pptx": _pptx(), "a.xlsx": _xlsx(),
        "a.html": PAGE.encode(), "a.pdf": make_pdf(["Typed page one.", "Page two."]),
        "a.eml": badfiles.mail_with_attachments(
            "Rechnung", "m@example.org", [("r.txt", "text/plain", b"Summe 12 EUR")]),
        "a.md": b"# Title\n\nSome text.\n\n## Part\n\nMore text.\n",
    }
    for folder in ("emails", "contracts"):
        for path in sorted((REALWORLD / folder).glob("*"))[:6] if REALWORLD.is_dir() else []:
            if path.is_file() and path.suffix in (".eml", ".docx", ".pdf"):
                seeds[path.name] = path.read_bytes()
    return seeds


def _mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if not out:
            break
        at = rng.randrange(len(out))
        op = rng.randrange(5)
        if op == 0:
            out[at] = rng.randrange(256)
        elif op == 1:
            del out[at : at + rng.randint(1, 200)]
        elif op == 2:
            out[at:at] = rng.choice(_INSERTS)
        elif op == 3:
            del out[at:]
        else:
            src = rng.randrange(len(out))
            out[at:at] = out[src : src + rng.randint(1, 500)]
    return bytes(out)


def _mutate_zip(data: bytes, rng: random.Random) -> bytes:
    """The container rebuilt with some of its XML members damaged (the zip itself intact)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            member = source.read(info)
            if info.filename.endswith(".xml") and member and rng.random() < 0.5:
                member = _mutate(member, rng)
            target.writestr(info.filename, member)
    return buf.getvalue()


@pytest.mark.parametrize("name", sorted(_seeds()))
def test_damaged_files_fail_with_one_line(name):
    data = _seeds()[name]
    parsers = make_parsers(limits=Limits())
    rng = random.Random(name)
    for round_ in range(ROUNDS):
        zipped = name.endswith((".docx", ".odt", ".pptx", ".xlsx"))
        damaged = _mutate_zip(data, rng) if zipped and round_ % 2 else _mutate(data, rng)
        item = RawItem(origin=f"/fuzz/{name}", name=name, data=damaged)
        inp = ParseInput.of(item, damaged, detect_media_type(name, damaged[:4096], None))
        try:
            pick_parser(inp, parsers).parse(inp)
        except IngestError as exc:
            assert "\n" not in str(exc) and "/fuzz/" in str(exc), (round_, str(exc)[:300])
