"""Split a mail body into what the sender wrote, quoted replies and signatures (pure).

Quoted text ("> " lines, "On ... wrote:" attributions, Outlook "From:/Sent:" reply headers and
everything below them) and signatures ("-- " delimiter, "Sent from my iPhone", the short block
after a closing such as "Mit freundlichen Grüßen") are kept in the stored text but marked, so
that chunks carry only what each mail adds. Forwarded messages stay searchable: what the
forwarder sends on is new to this mailbox.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_QUOTED = re.compile(r"^\s*>")
_SIG_DELIMITER = re.compile(r"^--\s?$")
_MOBILE = re.compile(
    r"^\s*(sent from my \S.{0,40}|sent from (mail|outlook) for .{1,30}|get outlook for .{1,30}"
    r"|von meinem \S.{0,40} gesendet|gesendet von meinem \S.{0,40}|sent via \S.{0,40}"
    r"|envoyé de mon \S.{0,40})\s*$",
    re.I,
)
_ATTRIBUTION = re.compile(
    r"^\s*(on\s.{4,200}\swrote|am\s.{4,200}\sschrieb.{0,200}|le\s.{4,200}\sa\sécrit"
    r"|.{1,120}\s(wrote|schrieb)\s(on|am)\s.{4,120}"
    r"|.{2,120}\sschrieb|.{2,120}\s<[^>]+@[^>]+>\swrote)\s?:\s*$",
    re.I,
)
_ATTRIBUTION_START = re.compile(r"^\s*(on|am|le)\s", re.I)
_ATTRIBUTION_END = re.compile(r"(wrote|schrieb|a\sécrit)\s?:\s*$", re.I)
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(original message|ursprüngliche nachricht|originalnachricht|message d'origine"
    r"|mensaje original|messaggio originale)\s*-{2,}\s*$",
    re.I,
)
_UNDERLINE = re.compile(r"^\s*_{10,}\s*$")
_HEADER_FROM = re.compile(r"^\s*\*?(from|von|de)\*?\s*:\s*\S", re.I)
_HEADER_OTHER = re.compile(
    r"^\s*\*?(sent|gesendet|date|datum|to|an|subject|betreff|cc|envoyé|objet|à)\*?\s*:", re.I
)
_FORWARD = re.compile(
    r"^\s*(-{2,}\s*(forwarded message|weitergeleitete nachricht|forwarded message follows"
    r"|message transféré|mensaje reenviado)\s*-{2,}|begin forwarded message:"
    r"|anfang der weitergeleiteten nachricht:)\s*$",
    re.I,
)
_CLOSING = re.compile(
    r"^\s*((best|kind|warm|warmest|many thanks and|with kind|with best)?\s*regards|cheers|best"
    r"|thanks|thank you|many thanks|yours( sincerely| faithfully| truly)?|sincerely"
    r"|(viele|liebe|beste|herzliche|freundliche|schöne|sonnige)\s+gr(ü|ue|u)(ß|ss)e(\s.{1,30})?"
    r"|mit\s+(den\s+)?(freundlichen|besten|herzlichen|lieben)\s+gr(ü|ue|u)(ß|ss)en"
    r"|gr(ü|ue|u)(ß|ss)e|gruß|mfg|lg|vg|bien à vous|cordialement)[,.!]?\s*$",
    re.I,
)
_SIG_MAX_LINES = 8
_SIG_MAX_LINE_CHARS = 80


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of body lines of one kind: "text", "quote" or "signature"."""

    text: str
    kind: str

    @property
    def searchable(self) -> bool:
        return self.kind == "text"


def _reply_header_at(lines: list[str], i: int) -> bool:
    """An Outlook-style reply header starts at line i: From/Von plus two header-ish lines."""
    if not _HEADER_FROM.match(lines[i]):
        return False
    others = sum(1 for line in lines[i + 1 : i + 6] if _HEADER_OTHER.match(line))
    return others >= 2


def _after_forward_marker(lines: list[str], i: int) -> bool:
    return any(_FORWARD.match(line) for line in lines[max(0, i - 3) : i])


def _find_cut(lines: list[str]) -> int | None:
    """First line from which everything is the quoted earlier mail, if any."""
    for i, line in enumerate(lines):
        if _ORIGINAL.match(line):
            return i
        if _UNDERLINE.match(line) and any(
            _reply_header_at(lines, j) for j in range(i + 1, min(i + 3, len(lines)))
        ):
            return i
        # Outlook separates the reply header by a blank line or rule from the answer.
        if (_reply_header_at(lines, i) and not _after_forward_marker(lines, i)
                and (i == 0 or not lines[i - 1].strip() or _UNDERLINE.match(lines[i - 1]))):
            return i
    return None


def _next_is_quoted(lines: list[str], start: int, end: int) -> bool:
    nxt = next((k for k in range(start, end) if lines[k].strip()), None)
    return nxt is not None and bool(_QUOTED.match(lines[nxt]))


def _mark_attributions(lines: list[str], kinds: list[str], end: int) -> None:
    i = 0
    while i < end:
        line = lines[i]
        span = 0
        if _ATTRIBUTION.match(line):
            span = 1
        elif _ATTRIBUTION_END.search(line) and len(line) < 200 and _next_is_quoted(lines, i + 1, end):
            span = 1  # "Marc Slemko wrote:" above "> " lines
        elif (
            _ATTRIBUTION_START.match(line)
            and i + 1 < end
            and len(line) + len(lines[i + 1]) < 300
            and _ATTRIBUTION.match(f"{line} {lines[i + 1].strip()}")
        ):
            span = 2  # clients wrap long attributions onto a second line
        if span:
            for k in range(i, i + span):
                kinds[k] = "quote"
            nxt = next((k for k in range(i + span, end) if lines[k].strip()), None)
            if nxt is not None and not _QUOTED.match(lines[nxt]):
                # An attribution followed by unprefixed text: the old mail pasted below.
                for k in range(i + span, end):
                    kinds[k] = "quote"
                return
            i += span
            continue
        i += 1


def _mark_signatures(lines: list[str], kinds: list[str]) -> None:
    in_sig = False
    for i, line in enumerate(lines):
        if kinds[i] == "quote":
            in_sig = False
            continue
        if _SIG_DELIMITER.match(line):
            in_sig = True
        if in_sig or _MOBILE.match(line):
            kinds[i] = "signature"
    text_rows = [i for i, kind in enumerate(kinds) if kind == "text" and lines[i].strip()]
    if not text_rows:
        return
    last = text_rows[-1]
    for j in range(last, max(-1, last - _SIG_MAX_LINES - 1), -1):
        if kinds[j] != "text" or not _CLOSING.match(lines[j]):
            continue
        tail = [k for k in range(j + 1, last + 1) if kinds[k] == "text" and lines[k].strip()]
        if tail and len(tail) <= _SIG_MAX_LINES and all(
            len(lines[k]) <= _SIG_MAX_LINE_CHARS for k in tail
        ) and j > text_rows[0]:
            for k in range(j + 1, last + 1):
                if kinds[k] == "text":
                    kinds[k] = "signature"
        break


def split_body(text: str) -> list[Segment]:
    """Segments of a plain-text body in order; joining their texts gives the body back."""
    if not text:
        return []
    lines = text.split("\n")
    kinds = ["text"] * len(lines)
    cut = _find_cut(lines)
    end = len(lines) if cut is None else cut
    for i in range(end, len(lines)):
        kinds[i] = "quote"
    for i in range(end):
        if _QUOTED.match(lines[i]):
            kinds[i] = "quote"
    _mark_attributions(lines, kinds, end)
    _mark_signatures(lines, kinds)
    # Blank lines belong to the segment before them, so segments do not start with blanks.
    for i in range(1, len(lines)):
        if not lines[i].strip():
            kinds[i] = kinds[i - 1]
    segments: list[Segment] = []
    start = 0
    for i in range(1, len(lines) + 1):
        if i == len(lines) or kinds[i] != kinds[start]:
            chunk = "\n".join(lines[start:i])
            if i < len(lines):
                chunk += "\n"
            segments.append(Segment(chunk, kinds[start]))
            start = i
    return segments
