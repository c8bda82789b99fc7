"""Turning mail bytes into text when the declared charset is missing, unknown or wrong (pure).

Mail in the wild declares `us-ascii` and sends UTF-8, declares UTF-8 and sends Windows-1252, or
names charsets Python does not know. The rule: valid UTF-8 with non-ASCII bytes wins over any
single-byte declaration (accidentally valid UTF-8 is rare in Latin-1 text); otherwise the declared
charset if it decodes cleanly; otherwise a detector; otherwise Windows-1252, which never fails.
"""

from __future__ import annotations

import codecs

# Names seen in real mail that Python's codec registry does not resolve, or resolves worse.
_ALIASES = {
    "iso-8859-1": "cp1252",  # what WHATWG and every mail client do: 0x80-0x9f are cp1252 glyphs
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "ascii",
    "ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "iso-8859-8-i": "iso-8859-8",
    "ks_c_5601-1987": "cp949",
    "x-sjis": "shift_jis",
    "gb2312": "gb18030",  # superset: mails labelled gb2312 often use GBK characters
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "windows-874": "cp874",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
}
# Declarations that say nothing: treat as undeclared.
_UNKNOWN = {"", "unknown-8bit", "x-unknown", "unknown", "default", "charset", "binary", "8bit"}
# Single-byte charsets whose declaration loses against bytes that are valid UTF-8.
_SINGLE_BYTE_PREFIXES = ("cp125", "iso-8859", "iso8859", "latin", "ascii", "mac_", "koi8")


def normalise_charset(name: str | None) -> str | None:
    """A Python codec name for a declared charset, or None when unknown or meaningless."""
    if not name:
        return None
    value = name.strip().strip("\"'").lower()
    value = value.split("*", 1)[0]  # RFC 2231 language suffix: "utf-8*en"
    if value in _UNKNOWN:
        return None
    value = _ALIASES.get(value, value)
    try:
        return codecs.lookup(value).name
    except LookupError:
        return None


def _is_single_byte(codec: str) -> bool:
    return codec.startswith(_SINGLE_BYTE_PREFIXES) or codec == "ascii"


def _try(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode `data` using the declared charset where it is right and guessing where it is not."""
    if not data:
        return ""
    if data.isascii():
        return data.decode("ascii")
    codec = normalise_charset(declared)
    utf8 = _try(data, "utf-8")
    if utf8 is not None and (codec is None or _is_single_byte(codec) or codec == "utf-8"):
        return utf8.removeprefix("\ufeff")
    if codec is not None:
        text = _try(data, codec)
        if text is not None:
            return text
    if utf8 is not None:
        return utf8
    # Mostly-UTF-8 with a damaged tail (a filename cut mid-character) stays UTF-8.
    lenient = data.decode("utf-8", errors="replace")
    bad = lenient.count("\ufffd")
    good = sum(1 for ch in lenient if ord(ch) > 127) - bad
    if bad <= 3 and good > 2 * bad:
        return lenient.rstrip("\ufffd")
    guessed = _detect(data)
    if guessed is not None:
        return guessed
    return data.decode("cp1252", errors="replace") if codec is None else data.decode(
        codec, errors="replace"
    )


def _detect(data: bytes) -> str | None:
    """Best guess of a detector for longer runs of text; None for short or hopeless input."""
    if len(data) < 16:
        return _try(data, "cp1252")
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - dependency of requests/unstructured
        return _try(data, "cp1252")
    best = from_bytes(data[:20000]).best()
    if best is None:
        return None
    encoding = codecs.lookup(best.encoding).name
    if encoding.startswith(("utf-16", "utf-32")) and b"\x00" not in data:
        return _try(data, "cp1252")  # detectors see UTF-16 in any even run of high bytes
    # Among the Western single-byte charsets detectors flip-flop on short text; the household's
    # mail (German, English) is cp1252 far more often than cp1250 or mac_roman.
    if encoding.startswith(("cp125", "iso8859", "mac_", "latin")) and encoding not in _CYRILLIC:
        western = _try(data, "cp1252")
        if western is not None:
            return western
    return data.decode(encoding, errors="replace")


_CYRILLIC = {"cp1251", "iso8859-5", "mac-cyrillic"}
