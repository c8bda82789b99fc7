"""Helpers shared by the document parsers: text decoding, titles, dates, document kind (pure)."""

from __future__ import annotations

import codecs
import re
from datetime import UTC, datetime, timedelta, timezone

from app.core.errors import CorruptDocumentError, DecodeError, EncryptedDocumentError
from app.core.types import ParseInput
from ingest.mediatypes import looks_binary

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def display_name(inp: ParseInput) -> str:
    """What error messages call the item: its origin (the path or URI the owner recognises)."""
    return inp.item.origin or inp.item.name


def decode_text(data: bytes, *, name: str, declared_charset: str | None = None) -> str:
    """Decode text bytes: BOM, a declared charset, UTF-8, UTF-16 without BOM, then cp1252/latin-1.

    Raises:
        DecodeError: when the bytes are clearly binary (NULs, control characters).
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return _normalise_newlines(data[len(bom) :].decode(codec))
            except UnicodeDecodeError as exc:
                raise DecodeError(f"{name}: bytes do not match their {codec} byte-order mark") from exc
    if declared_charset:
        try:
            return _normalise_newlines(data.decode(declared_charset))
        except (LookupError, UnicodeDecodeError):
            pass  # labels lie often enough (cp1252 labelled iso-8859-1); fall through
    if b"\x00" in data:
        utf16 = _utf16_guess(data)
        if utf16 is None:
            raise DecodeError(f"{name}: looks like binary data, not text")
        try:
            return _normalise_newlines(data.decode(utf16))
        except UnicodeDecodeError as exc:
            raise DecodeError(f"{name}: looks like binary data, not text") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        if looks_binary(data[:8192]):
            raise DecodeError(f"{name}: looks like binary data, not text") from None
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined
            text = data.decode("latin-1")
    if _control_ratio(text) > 0.01:
        raise DecodeError(f"{name}: looks like binary data, not text")
    return _normalise_newlines(text)


def _utf16_guess(data: bytes) -> str | None:
    sample = data[:1024]
    if len(sample) < 8 or len(data) % 2:
        return None
    even, odd = sample[0::2].count(0) / len(sample[0::2]), sample[1::2].count(0) / len(sample[1::2])
    if odd > 0.6 and even < 0.05:
        return "utf-16-le"
    if even > 0.6 and odd < 0.05:
        return "utf-16-be"
    return None


# Control characters other than \t \n \f \r and ESC. A regex, not a per-character loop: that
# loop was the slowest step of parsing a text file (speed; see bench/README.md).
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")


def _control_ratio(text: str) -> float:
    sample = text[:20000]
    if not sample:
        return 0.0
    return len(_CONTROL.findall(sample)) / len(sample)


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def first_line_title(text: str, *, max_len: int = 150) -> str | None:
    """The first line with a few letters in it (not a page number), when short enough."""
    for line in text.splitlines():
        line = " ".join(line.split())
        if sum(ch.isalpha() for ch in line) >= 3:
            return line if len(line) <= max_len else None
    return None


_PDF_DATE = re.compile(
    r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?\s*(Z|[+-]\d{2}'?\d{2}'?|[+-]\d{2})?"
)


def parse_pdf_date(value: str | None) -> datetime | None:
    """`D:20230620101500+02'00'` -> aware UTC datetime; None when absent or nonsense."""
    if not value:
        return None
    match = _PDF_DATE.match(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, tz = match.groups()
    try:
        moment = datetime(
            int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
            int(second or 0),
        )
    except ValueError:
        return None
    offset = timedelta(0)
    if tz and tz != "Z":
        digits = tz.replace("'", "")
        sign = -1 if digits[0] == "-" else 1
        hours = int(digits[1:3])
        minutes = int(digits[3:5] or 0)
        offset = sign * timedelta(hours=hours, minutes=minutes)
    if not 1900 <= moment.year <= 2200:
        return None
    return moment.replace(tzinfo=timezone(offset)).astimezone(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """Naive datetimes from document metadata are taken as UTC (they carry no zone)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# Kind heuristic: conservative on purpose. "other" is always a safe answer; a wrong "contract"
# would send a letter through contract-term extraction later.
_CONTRACT_STRONG = re.compile(
    r"\b(this (?:\w+ ){0,4}agreement|the parties (?:hereby )?agree|entered into (?:by and )?between|"
    r"by and between|in witness whereof|vertragsparteien|(?:dieser|der) vertrag wird zwischen|"
    r"wird folgender vertrag geschlossen|schlie(?:ß|ss)en folgenden vertrag|"
    r"mietvertrag|arbeitsvertrag|kaufvertrag|darlehensvertrag|"
    r"non-disclosure agreement|mutual nda|terms and conditions of (?:this|the) agreement)\b",
    re.IGNORECASE,
)
_CONTRACT_WEAK = re.compile(
    r"\b(agreement|contract|party|parties|term(?:ination)?|governing law|vertrag|kündigung|"
    r"laufzeit|vertragspartner|gerichtsstand|effective date|signature|unterschrift)\b",
    re.IGNORECASE,
)
# Consumer contracts (gym, phone, insurance) rarely use the formal phrases above: their first line
# names the contract ("Membership Agreement", "Mobilfunkvertrag") and the text states a term.
_CONTRACT_TITLE = re.compile(r"\b(?:agreement|contract)\b|vertrag\b|\bvereinbarung\b",
                             re.IGNORECASE)
_TERM_CLAUSE = re.compile(
    r"\b(notice period|period of notice|initial term|minimum term|renews automatically|"
    r"automatically renew\w*|kündigungsfrist|mindest(?:vertrags)?laufzeit|verlängert sich)\b",
    re.IGNORECASE,
)
_LETTER_OPENING = re.compile(
    r"^\s*(dear\s+\w|sehr geehrte[rn]?\s|liebe[rs]?\s+\w|hallo\s+\w|to whom it may concern)",
    re.IGNORECASE | re.MULTILINE,
)
_LETTER_CLOSING = re.compile(
    r"^\s*(sincerely|yours (?:sincerely|faithfully|truly)|kind regards|best regards|"
    r"mit freundlichen grü(?:ß|ss)en|freundliche grü(?:ß|ss)e|viele grü(?:ß|ss)e|hochachtungsvoll)",
    re.IGNORECASE | re.MULTILINE,
)


def _lowered(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The pattern for lower-cased text (its own words are lower case): without IGNORECASE,
    which made these scans ~4x slower (9 % of a parse worker's time on the bench corpus)."""
    return re.compile(pattern.pattern, pattern.flags & ~re.IGNORECASE)


_STRONG_LC, _WEAK_LC = _lowered(_CONTRACT_STRONG), _lowered(_CONTRACT_WEAK)
_TITLE_LC, _TERM_LC = _lowered(_CONTRACT_TITLE), _lowered(_TERM_CLAUSE)
_OPENING_LC, _CLOSING_LC = _lowered(_LETTER_OPENING), _lowered(_LETTER_CLOSING)


def guess_kind(text: str) -> str:
    """'contract', 'letter' or 'other' from a few strong phrases near the start of the text, or
    a first line that names a contract followed by a term or notice clause."""
    head = text[:6000].lower()
    strong = len(_STRONG_LC.findall(head))
    weak = len(_WEAK_LC.findall(head))
    if strong >= 2 or (strong >= 1 and weak >= 4):
        return "contract"
    letter = bool(_OPENING_LC.search(text[:3000].lower()) and _CLOSING_LC.search(text.lower()))
    first = next((line.strip() for line in head.splitlines() if line.strip()), "")
    # A letter about a contract ("Kündigung Mobilfunkvertrag", "Dear ...") stays a letter.
    if (not letter and len(first) <= 120 and _TITLE_LC.search(first)
            and _TERM_LC.search(head) and weak >= 3):
        return "contract"
    return "letter" if letter else "other"


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def reject_ole_container(data: bytes, *, name: str, label: str) -> None:
    """An OOXML file (.docx/.xlsx/.pptx) that is really an OLE2 container is either password
    protected (it then holds an "EncryptedPackage" stream) or an old binary Office file."""
    if not data.startswith(OLE_MAGIC):
        return
    if "EncryptedPackage".encode("utf-16-le") in data:
        raise EncryptedDocumentError(f"{name}: the {label} file is protected by a password")
    raise CorruptDocumentError(f"{name}: an old binary Office file, not a {label} file")
