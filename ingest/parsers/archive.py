"""ZIP archives (a common bank download: a month of CAMT or MT940 files) as containers.

The archive becomes a small document listing its members; every member becomes a child item,
parsed by whichever parser claims it (a CAMT file by the statement parser ...) and stored as a
child document, cited as `archive.zip › member.xml`, exactly as mail attachments are. Office
files, ODF and EPUB are ZIPs too, but the media-type sniffer names them first, so only plain
archives come here.

Every expansion is bounded: member count, total unpacked size, compression ratio per member and
nesting depth (an archive inside an archive). A breach fails the whole archive with a one-line
reason, before anything of it is stored. Encrypted members fail the same way.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from app.core.errors import CorruptDocumentError, EncryptedDocumentError, TooLargeError
from app.core.types import ParsedDocument, ParseInput, RawItem, TextBlock
from ingest.mediatypes import ZIP
from ingest.parsers.common import display_name

SEPARATOR = " › "
_JUNK = ("__MACOSX/", ".DS_Store", "Thumbs.db", "desktop.ini")


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """Bounds on what one archive may expand to."""

    max_members: int = 2000
    max_total_bytes: int = 512 * 1024 * 1024
    max_ratio: int = 200  # unpacked / packed size of one member (zip bombs reach 1000s)
    max_depth: int = 2  # an archive inside an archive, not deeper


class ArchiveParser:
    """Plain ZIP archives -> a listing document with one child item per member."""

    name = "archive"
    version = "1"

    def __init__(self, limits: ArchiveLimits | None = None) -> None:
        self.limits = limits or ArchiveLimits()

    def score(self, inp: ParseInput) -> int | None:
        return 50 if inp.media_type == ZIP and inp.data[:2] == b"PK" else None

    def parse(self, inp: ParseInput) -> ParsedDocument:
        name = display_name(inp)
        depth = int(inp.item.hints.get("archive_depth", 0)) + 1
        if depth > self.limits.max_depth:
            raise TooLargeError(f"{name}: archive nested deeper than {self.limits.max_depth} "
                                "levels; not unpacked")
        members = read_members(inp.data, name=name, limits=self.limits)
        children = [
            RawItem(origin=f"{inp.item.origin}{SEPARATOR}{member}",
                    name=PurePosixPath(member).name, data=data, size=len(data),
                    hints={**{k: v for k, v in inp.item.hints.items() if k == "kind"},
                           "archive_depth": depth, "archive": name})
            for member, data in members
        ]
        listing = "\n".join(f"{name}{SEPARATOR}{member}  ({len(data)} bytes)"
                            for member, data in members)
        text = f"Archive {name} with {len(members)} file(s):\n{listing}" if members else \
            f"Archive {name} holds no files."
        return ParsedDocument(
            blocks=[TextBlock(text=text, heading=name, kind="list")],
            title=name, kind="other",
            metadata={"archive": {"members": [m for m, _ in members]}},
            children=children,
        )


def read_members(data: bytes, *, name: str,
                 limits: ArchiveLimits = ArchiveLimits()) -> list[tuple[str, bytes]]:
    """(member path, bytes) of every file in the archive, within the limits.

    Raises:
        CorruptDocumentError: not a readable ZIP.
        EncryptedDocumentError: a member is password-protected.
        TooLargeError: too many members, too large unpacked, or a suspicious ratio.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CorruptDocumentError(f"{name}: not a readable ZIP archive ({exc})") from exc
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()
                 and not any(j in i.filename for j in _JUNK)]
        if len(infos) > limits.max_members:
            raise TooLargeError(f"{name}: archive holds {len(infos)} files, over the limit of "
                                f"{limits.max_members}")
        declared = sum(i.file_size for i in infos)
        if declared > limits.max_total_bytes:
            raise TooLargeError(f"{name}: archive unpacks to {declared / 1e6:.0f} MB, over the "
                                f"limit of {limits.max_total_bytes / 1e6:.0f} MB")
        out: list[tuple[str, bytes]] = []
        total = 0
        for info in infos:
            where = f"{name}{SEPARATOR}{info.filename}"
            if info.flag_bits & 0x1:
                raise EncryptedDocumentError(f"{where}: archive member is password-protected")
            if info.file_size > limits.max_ratio * max(info.compress_size, 1) \
                    and info.file_size > 1_000_000:
                raise TooLargeError(f"{where}: compressed {info.file_size // max(info.compress_size, 1)}"
                                    f":1, over the limit of {limits.max_ratio}:1 (a zip bomb?)")
            try:
                with archive.open(info) as fh:
                    # Read one byte past the declared size: a lying header is caught here.
                    body = fh.read(info.file_size + 1)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
                raise CorruptDocumentError(f"{where}: cannot unpack ({exc})") from exc
            if len(body) > info.file_size:
                raise TooLargeError(f"{where}: unpacks to more than its declared size")
            total += len(body)
            if total > limits.max_total_bytes:  # pragma: no cover - declared sizes are checked
                raise TooLargeError(f"{name}: archive unpacks to more than "
                                    f"{limits.max_total_bytes / 1e6:.0f} MB")
            out.append((info.filename, body))
        return out
