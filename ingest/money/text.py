"""Text helpers for statement files: decoding 8-bit exports, normalising payee names (pure)."""

from __future__ import annotations

import re
import unicodedata

# Single-byte code pages our banks use, in order of preference on a tie: Western (cp1252),
# Central European Windows (cp1250) and DOS (cp852, Hungarian MT940 exports), ISO Latin-2.
_CODEPAGES = ("cp1252", "cp1250", "cp852", "iso-8859-2")


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode a bank export; returns (text, encoding). Never raises."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best, best_score = "latin-1", None
    for enc in _CODEPAGES:
        score = _letter_score(data, enc)
        if best_score is None or score > best_score:
            best, best_score = enc, score
    return data.decode(best, errors="replace"), best


_ASCII = bytes(range(0x80))


def _letter_score(data: bytes, enc: str) -> int:
    """Letters minus symbols among the decoded non-ASCII characters: real text decodes to
    letters (á, ö, ß), a wrong code page to box drawings, controls and accents on nothing."""
    high = data.translate(None, _ASCII)  # only the bytes that differ between code pages
    score = 0
    for ch in high.decode(enc, errors="replace"):
        if ch.isalpha():
            score += 1
        elif ch not in "\u20ac\u00a7\u00b0\u00a0":  # EUR, section, degree, nbsp are plausible
            score -= 3
    return score


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_controls(text: str) -> str:
    """Drop control characters (SOH/ETX envelopes) but keep tabs and line breaks."""
    return _CONTROL.sub("", text)


def clean(text: str | None) -> str | None:
    """Collapse whitespace; None for empty."""
    if text is None:
        return None
    out = " ".join(text.split())
    return out or None


_NOISE = re.compile(
    r"\b(sagt danke|gmbh|ag|kg|se|inc|llc|ltd|bv|nv|sa|s\.a\.|co|corp|fil\.?|filiale|"
    r"pos|ec|karte|card|visa|mastercard|debit|lastschrift|sepa)\b"
)


def merchant_key(counterparty: str | None, description: str | None = None) -> str | None:
    """A stable grouping key for a payee: lower case, accents folded, numbers and noise dropped.

    "REWE Markt GmbH Fil. 1234" and "Rewe Markt 567" both become "rewe markt".
    """
    text = counterparty or description
    if not text:
        return None
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    folded = re.sub(r"[^a-z& ]+", " ", folded)
    folded = _NOISE.sub(" ", folded)
    words = [w for w in folded.split() if len(w) > 1]
    if not words:
        return None
    return " ".join(words[:3])
