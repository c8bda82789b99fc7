"""Media-type detection from a file's first bytes, its name and a declared type (pure, no I/O).

Order: magic bytes and content sniffing first (a PDF named `.txt` is a PDF), then the extension,
then a specific declared type (a MIME part's Content-Type), then text/plain if the bytes decode.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import PurePath

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
EPUB = "application/epub+zip"
ZIP = "application/zip"
OLE = "application/x-ole-storage"
MSG = "application/vnd.ms-outlook"
DOC = "application/msword"
XLS = "application/vnd.ms-excel"
PPT = "application/vnd.ms-powerpoint"
RTF = "application/rtf"
EML = "message/rfc822"
MBOX = "application/mbox"
HTML = "text/html"
XML = "application/xml"
OFX = "application/x-ofx"
CAMT = "application/x-iso20022-camt+xml"  # ISO 20022 camt.052/053/054 bank statement
MT940 = "application/x-mt940"
TEXT = "text/plain"
MARKDOWN = "text/markdown"
CSV = "text/csv"
JSON = "application/json"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"
GIF = "image/gif"
WEBP = "image/webp"
BMP = "image/bmp"
HEIC = "image/heic"
SVG = "image/svg+xml"
GZIP = "application/gzip"
EMPTY = "application/x-empty"
BINARY = "application/octet-stream"

EXTENSIONS: dict[str, str] = {
    ".pdf": PDF,
    ".docx": DOCX,
    ".docm": DOCX,
    ".xlsx": XLSX,
    ".xlsm": XLSX,
    ".pptx": PPTX,
    ".odt": ODT,
    ".ods": ODS,
    ".odp": ODP,
    ".epub": EPUB,
    ".zip": ZIP,
    ".msg": MSG,
    ".doc": DOC,
    ".xls": XLS,
    ".ppt": PPT,
    ".rtf": RTF,
    ".eml": EML,
    ".mbox": MBOX,
    ".html": HTML,
    ".htm": HTML,
    ".xhtml": HTML,
    ".xml": XML,
    ".ofx": OFX,
    ".qfx": OFX,
    ".camt": CAMT,
    ".sta": MT940,
    ".mt940": MT940,
    ".940": MT940,
    ".txt": TEXT,
    ".text": TEXT,
    ".log": TEXT,
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".mdown": MARKDOWN,
    ".csv": CSV,
    ".tsv": "text/tab-separated-values",
    ".json": JSON,
    ".png": PNG,
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".tif": TIFF,
    ".tiff": TIFF,
    ".gif": GIF,
    ".webp": WEBP,
    ".bmp": BMP,
    ".heic": HEIC,
    ".svg": SVG,
    ".gz": GZIP,
}

# Declared types that say nothing about the content (mail clients label PDFs like this).
_GENERIC_DECLARED = frozenset(
    {BINARY, "application/x-download", "application/download", "binary/octet-stream",
     "application/unknown", "application/force-download"}
)

_MAIL_HEADERS = frozenset(
    {"received", "from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version",
     "return-path", "delivered-to", "reply-to", "sender", "content-type", "in-reply-to",
     "references", "x-mailer", "user-agent", "content-transfer-encoding", "x-original-to",
     "dkim-signature", "authentication-results", "thread-topic", "thread-index", "importance"}
)
# Headers a note written by hand would hardly start with; one of them tips the balance to mail.
_STRONG_MAIL_HEADERS = frozenset(
    {"received", "message-id", "mime-version", "return-path", "delivered-to", "dkim-signature",
     "content-transfer-encoding", "x-mailer", "authentication-results", "x-original-to"}
)
_HEADER_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9-]{0,60}):[ \t]")
_MBOX_FROM = re.compile(r"^From \S+ +\S")
_CAMT_NS = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.05[234]")
_MT940_TAGS = re.compile(r"^:(20|25|28C?|60[FM]):", re.MULTILINE)

_OOXML_BY_CONTENT_TYPE = (
    ("wordprocessingml", DOCX),
    ("spreadsheetml", XLSX),
    ("presentationml", PPTX),
)
_OOXML_BY_FOLDER = (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX))


def detect_media_type(name: str, head: bytes, declared: str | None = None) -> str:
    """Best guess at the media type of a file.

    Args:
        name: the file name (only its extension is used).
        head: the first bytes of the file (4 KiB is plenty; fewer may give a vaguer answer).
        declared: a type someone claimed (MIME Content-Type); used when sniffing is inconclusive.

    Returns:
        A lower-case media type such as "application/pdf"; "application/octet-stream" when
        nothing fits, "application/x-empty" for an empty file with no telling name.
    """
    by_ext = EXTENSIONS.get(PurePath(name).suffix.lower())
    declared_type = _normalise_declared(declared)
    if not head:
        return by_ext or declared_type or EMPTY
    sniffed = _sniff_binary(head, by_ext)
    if sniffed is not None:
        return sniffed
    text = _as_text(head)
    if text is not None:
        sniffed = _sniff_text(text)
        if sniffed is not None:
            return sniffed
    if by_ext is not None:
        return by_ext
    if declared_type is not None:
        return declared_type
    return TEXT if text is not None else BINARY


def _normalise_declared(declared: str | None) -> str | None:
    if not declared:
        return None
    value = declared.split(";", 1)[0].strip().lower()
    if not value or "/" not in value or value in _GENERIC_DECLARED:
        return None
    return value


def _sniff_binary(head: bytes, by_ext: str | None) -> str | None:
    # A PDF header may follow some junk bytes; readers accept it within the first 1 KiB.
    if head.startswith(b"%PDF-") or b"%PDF-" in head[:1024]:
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(head, by_ext)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        # OLE2 compound file: legacy Office, Outlook .msg, or an encrypted OOXML package.
        return by_ext if by_ext in (MSG, DOC, XLS, PPT, DOCX, XLSX, PPTX) else OLE
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"BM") and len(head) > 14 and head[6:10] == b"\x00\x00\x00\x00":
        return BMP
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return HEIC
    if head.startswith(b"{\\rtf"):
        return RTF
    if head.startswith(b"\x1f\x8b"):
        return GZIP
    return None


def _sniff_zip(head: bytes, by_ext: str | None) -> str:
    """Tell OOXML, ODF and EPUB apart by the member names (and [Content_Types].xml) in `head`."""
    names: list[str] = []
    pos = 0
    while pos + 30 <= len(head) and head[pos : pos + 4] == b"PK\x03\x04":
        flags, method = struct.unpack_from("<HH", head, pos + 6)
        csize = struct.unpack_from("<I", head, pos + 18)[0]
        name_len, extra_len = struct.unpack_from("<HH", head, pos + 26)
        data_at = pos + 30 + name_len + extra_len
        member = head[pos + 30 : pos + 30 + name_len].decode("utf-8", "replace")
        names.append(member)
        payload = head[data_at : data_at + csize]
        if member == "mimetype" and method == 0:
            # ODF and EPUB store their media type uncompressed as the first member.
            declared = payload.decode("ascii", "replace").strip()
            if declared in (ODT, ODS, ODP, EPUB) or declared.startswith("application/vnd.oasis."):
                return declared
        if member == "[Content_Types].xml" and len(payload) == csize:
            content_types = _inflate(payload, method)
            for marker, media_type in _OOXML_BY_CONTENT_TYPE:
                if marker in content_types:
                    return media_type
        if flags & 0x08:  # sizes follow the data (data descriptor): cannot skip ahead
            break
        pos = data_at + csize
    for prefix, media_type in _OOXML_BY_FOLDER:
        if any(n.startswith(prefix) for n in names):
            return media_type
    if by_ext in (DOCX, XLSX, PPTX, ODT, ODS, ODP, EPUB):
        return by_ext
    return ZIP


def _inflate(payload: bytes, method: int) -> str:
    try:
        if method == 0:
            raw = payload
        elif method == 8:
            raw = zlib.decompressobj(-15).decompress(payload, 65536)
        else:
            return ""
    except zlib.error:
        return ""
    return raw.decode("utf-8", "replace")


def looks_binary(head: bytes) -> bool:
    """True when bytes are clearly not text: NULs (outside UTF-16/32) or many control bytes."""
    if not head:
        return False
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")) or _utf16_without_bom(head):
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return controls > max(1, len(head) // 100)


def _utf16_without_bom(head: bytes) -> bool:
    """ASCII-heavy UTF-16 text: NULs on every other byte (Windows 'Unicode' exports)."""
    sample = head[:512]
    if len(sample) < 8:
        return False
    even_nuls = sample[0::2].count(0) / len(sample[0::2])
    odd_nuls = sample[1::2].count(0) / len(sample[1::2])
    return (odd_nuls > 0.6 and even_nuls < 0.05) or (even_nuls > 0.6 and odd_nuls < 0.05)


def _as_text(head: bytes) -> str | None:
    """Decode `head` for sniffing, or None when it is binary."""
    if looks_binary(head):
        return None
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"),
                       (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            return head[len(bom) :].decode(codec, "ignore")
    if _utf16_without_bom(head):
        codec = "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
        return head.decode(codec, "ignore")
    # `head` may end mid-character; cp1252-only bytes decode too, which is all sniffing needs.
    return head.decode("utf-8", "ignore") or head.decode("latin-1")


def _sniff_text(text: str) -> str | None:
    stripped = text.lstrip()
    lower = stripped[:2048].lower()
    if stripped.startswith("OFXHEADER:") or "<ofx>" in lower[:1024]:
        return OFX
    if _CAMT_NS.search(text):
        return CAMT
    if lower.startswith(("<!doctype html", "<html")) or _html_after_prolog(lower):
        return HTML
    if lower.startswith("<?xml"):
        return SVG if "<svg" in lower else XML
    if lower.startswith("<svg"):
        return SVG
    lines = text.splitlines()
    if lines and _MBOX_FROM.match(lines[0]) and _looks_like_mail(lines[1:]):
        return MBOX
    if _looks_like_mail(lines):
        return EML
    if len(_MT940_TAGS.findall(text[:4096])) >= 3:
        return MT940
    return None


def _html_after_prolog(lower: str) -> bool:
    """HTML behind an XML declaration, a comment or a bare <head>/<body> (fragments, XHTML)."""
    start = lower[:1024]
    if start.startswith(("<?xml", "<!--")):
        return "<!doctype html" in start or "<html" in start
    return start.startswith(("<head", "<body", "<meta ", "<title"))


def _looks_like_mail(lines: list[str]) -> bool:
    """RFC 822 headers: the first line is a header, and the block holds well-known names."""
    seen: set[str] = set()
    for i, line in enumerate(lines[:60]):
        if not line.strip():
            break
        if line[:1] in (" ", "\t") and i > 0:  # folded continuation line
            continue
        match = _HEADER_LINE.match(line) or (re.match(r"^([A-Za-z][A-Za-z0-9-]*):$", line))
        if match is None:
            return False
        seen.add(match.group(1).lower())
    known = seen & _MAIL_HEADERS
    return len(known) >= 3 or (len(known) >= 2 and bool(known & _STRONG_MAIL_HEADERS))
