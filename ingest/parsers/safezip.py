"""Zip containers checked against `Limits` before any library unpacks them (DOCX, XLSX, PPTX, ODF).

Two steps. First the zip directory alone, without decompressing anything: the number of members
(read from the end record, before `zipfile` builds a ZipInfo per entry), the unpacked size the
directory declares, and the compression ratio of each member and of the whole file. Then every
member is inflated in small pieces and counted, because the directory's sizes can lie and
`zipfile.read()` inflates a member in one call of up to 2 GiB before cutting it to the declared
size. Only a container that passes both goes to python-docx, openpyxl or python-pptx, which then
read members whose sizes are known to be true. Compression other than stored/deflate (never used
by office formats; bzip2 and lzma inflate without a bound per call) is refused.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from app.core.errors import (
    CorruptDocumentError,
    EncryptedDocumentError,
    ErrorCode,
    ExpansionLimitError,
)
from ingest.limits import Limits, megabytes

_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"
_LOCAL = b"PK\x03\x04"
_PIECE = 64 * 1024


def entry_count(data: bytes) -> int | None:
    """Members the zip's end record announces (zip64 aware); None when there is no end record."""
    start = max(0, len(data) - (65535 + 22))
    at = data.rfind(_EOCD, start)
    if at < 0 or at + 22 > len(data):
        return None
    (total,) = struct.unpack_from("<H", data, at + 10)
    if total != 0xFFFF or at < 20 or data[at - 20 : at - 16] != _ZIP64_LOCATOR:
        return int(total)
    (offset,) = struct.unpack_from("<Q", data, at - 20 + 8)
    if offset + 40 > len(data) or data[offset : offset + 4] != _ZIP64_EOCD:
        return None
    (total64,) = struct.unpack_from("<Q", data, offset + 32)
    return int(total64)


def open_zip(data: bytes, *, name: str, limits: Limits, label: str) -> zipfile.ZipFile:
    """The container, after the directory checks (nothing decompressed yet).

    Raises:
        CorruptDocumentError: not a zip, or a compression method office formats never use.
        ExpansionLimitError: too many members, too large unpacked, or too high a ratio.
    """
    count = entry_count(data)
    if count is None:
        raise CorruptDocumentError(f"{name}: not a readable {label} (no zip directory)")
    if count > limits.max_parts:
        raise ExpansionLimitError(
            f"{name}: the {label} holds {count:,} files, more than {limits.max_parts:,} "
            "(limit HOMERAG_MAX_PARTS)", code=ErrorCode.too_many_parts)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError,
            struct.error) as exc:
        raise CorruptDocumentError(f"{name}: not a readable {label} ({type(exc).__name__})") from exc
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_unpacked_bytes:
        raise _too_large(name, limits)
    for info in infos:
        if info.flag_bits & 0x1:
            raise EncryptedDocumentError(f"{name}: the {label} is protected by a password")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise CorruptDocumentError(
                f"{name}: the {label} uses zip compression method {info.compress_type}, which "
                "office formats never use")
        _check_ratio(name, info.filename, info.file_size, info.compress_size, limits)
    _check_ratio(name, None, declared, len(data), limits)
    return archive


def verify_members(archive: zipfile.ZipFile, data: bytes, *, name: str, limits: Limits,
                   label: str) -> None:
    """Inflate every member in pieces, counting what comes out against its declared size and
    against the limits; nothing is kept.

    Raises:
        ExpansionLimitError: the members really unpack past the limits.
        CorruptDocumentError: a member's data does not match its directory entry.
    """
    budget = limits.max_unpacked_bytes
    for info in archive.infolist():
        produced = _inflate(data, info, cap=min(budget, info.file_size) + 1, name=name,
                            label=label)
        if produced > budget:
            raise _too_large(name, limits)
        if produced != info.file_size:
            raise CorruptDocumentError(
                f"{name}: {info.filename!r} in the {label} unpacks to another size than its "
                "zip directory says")
        _check_ratio(name, info.filename, produced, info.compress_size, limits)
        budget -= produced


def check_zip(data: bytes, *, name: str, limits: Limits, label: str) -> zipfile.ZipFile:
    """`open_zip` then `verify_members`: a container safe to hand to any zip library."""
    archive = open_zip(data, name=name, limits=limits, label=label)
    verify_members(archive, data, name=name, limits=limits, label=label)
    return archive


def _inflate(data: bytes, info: zipfile.ZipInfo, *, cap: int, name: str, label: str) -> int:
    """Bytes the member's data unpacks to, counted up to `cap` (bounded memory per step)."""
    at = info.header_offset
    if data[at : at + 4] != _LOCAL:
        raise CorruptDocumentError(f"{name}: {info.filename!r} in the {label} has no local header")
    name_len, extra_len = struct.unpack_from("<HH", data, at + 26)
    start = at + 30 + name_len + extra_len
    packed = memoryview(data)[start : start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        return len(packed)
    inflater = zlib.decompressobj(-15)
    produced = 0
    try:
        for offset in range(0, len(packed), _PIECE):
            piece: bytes | memoryview = packed[offset : offset + _PIECE]
            while piece:
                produced += len(inflater.decompress(piece, _PIECE))
                if produced >= cap or inflater.eof:
                    return produced
                piece = inflater.unconsumed_tail
        while not inflater.eof and produced < cap:  # output zlib still holds back
            out = inflater.decompress(b"", _PIECE)
            if not out:
                break
            produced += len(out)
    except zlib.error as exc:
        raise CorruptDocumentError(
            f"{name}: {info.filename!r} in the {label} is damaged ({exc})") from exc
    return produced


def _check_ratio(name: str, member: str | None, unpacked: int, packed: int,
                 limits: Limits) -> None:
    if unpacked <= limits.ratio_grace_bytes:
        return
    ratio = unpacked / max(packed, 1)
    if ratio > limits.max_compression_ratio:
        what = f"{member!r} expands" if member else "expands"
        raise ExpansionLimitError(
            f"{name}: {what} {ratio:,.0f}-fold, more than {limits.max_compression_ratio:,.0f} "
            "(limit HOMERAG_MAX_COMPRESSION_RATIO)")


def _too_large(name: str, limits: Limits) -> ExpansionLimitError:
    return ExpansionLimitError(
        f"{name}: unpacks to more than {megabytes(limits.max_unpacked_bytes)} "
        "(limit HOMERAG_MAX_UNPACKED_MB)")
