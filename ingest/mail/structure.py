"""A cheap look at a message's MIME structure before the stdlib parser builds it (pure).

The stdlib parser recurses once per nesting level (a message nested 5,000 deep ends in a
RecursionError) and builds an object per part. `mime_shape` finds both numbers from the raw
bytes: it follows Content-Type headers and boundary lines the way the parser does (a boundary
line closes every part opened inside its multipart; an attached message/rfc822 opens a level
that lasts until an enclosing boundary). Bodies are skipped from one "--" line to the next, so
a large base64 attachment costs a few `find` calls, not a loop over its lines. The same scan
finds attachments too large to read, so that they are cut out before the parser copies them.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

_CONTENT_TYPE = re.compile(rb"content-type[ \t]*:", re.I)
_FILE_HEADER = re.compile(rb"(content-transfer-encoding|content-disposition)[ \t]*:", re.I)
_BOUNDARY = re.compile(rb"""boundary[ \t]*=[ \t]*(?:"([^"]*)"|([^\s;"]+))""", re.I)
_BLOCK_START = re.compile(rb"(?:\A|\n[ \t]*\r?\n)[ \t]*(?=[^\s])")
_MAX_HEADER_VALUE = 4096  # of Content-Type collected; the boundary parameter comes early


@dataclass(frozen=True, slots=True)
class MimeShape:
    """How deep multiparts and attached messages nest, how many parts there are, and the body
    spans (start, end, decoded size estimate) of attachments too large to decode."""

    depth: int
    parts: int
    large: tuple[tuple[int, int, int], ...] = ()


# A body replaced by `without_large_parts` starts with this (random per process, so a sender
# cannot forge it), followed by the size estimate.
OMITTED_MARK = f"homerag-omitted-{secrets.token_hex(6)}"


def mime_shape(data: bytes, *, stop_depth: int, stop_parts: int,
               large_bytes: int | None = None) -> MimeShape:
    """Deepest nesting and number of parts of the message in `data`; the scan stops as soon
    as either passes its stop value (the caller only needs to know it did). With
    `large_bytes`, the bodies of non-text parts (and parts declared attachments) that would
    decode to more are listed too."""
    stack: list[bytes | None] = []  # boundaries of open multiparts; None: an attached message
    deepest, parts = 0, 1
    pos, end = 0, len(data)
    in_headers = True
    ctype: bytes | None = None
    collecting = False
    status_from: int | None = None  # start of a message/delivery-status body being skipped
    headers: dict[bytes, bytes] = {}  # content-transfer-encoding, content-disposition
    leaf: tuple[int, float] | None = None  # body start and decoded/encoded ratio of a file
    large: list[tuple[int, int, int]] = []
    while pos < end:
        if not in_headers:
            # Body: only a line starting with "--" can end it.
            if not stack:
                break
            if data.startswith(b"--", pos):  # pos is always at the start of a line
                start = pos
            else:
                found = data.find(b"\n--", pos)
                if found < 0:
                    break
                start = found + 1
            stop = data.find(b"\n", start)
            stop = end if stop < 0 else stop
            line = data[start:stop].rstrip()
            pos = stop + 1
            closed = _match_boundary(stack, line)
            if closed is None:
                continue
            if status_from is not None:
                parts += _status_blocks(data[status_from:start])
                status_from = None
            if leaf is not None:
                if large_bytes is not None and (start - leaf[0]) * leaf[1] > large_bytes:
                    estimate = _decoded_size(data, leaf[0], start, leaf[1])
                    if estimate > large_bytes:
                        large.append((leaf[0], start, estimate))
                leaf = None
            index, final = closed
            if final:
                del stack[index:]  # the multipart ends, with whatever was open inside it
            else:
                del stack[index + 1 :]
                parts += 1
                in_headers, ctype, collecting = True, None, False
                if parts > stop_parts:
                    break
            continue
        stop = data.find(b"\n", pos)
        stop = end if stop < 0 else stop
        line = data[pos:stop].rstrip(b"\r")
        pos = stop + 1
        if line:
            if line[:1] in (b" ", b"\t"):
                if collecting and ctype is not None and len(ctype) < _MAX_HEADER_VALUE:
                    ctype += line
            else:
                match = _CONTENT_TYPE.match(line)
                collecting = match is not None
                if match is not None:
                    ctype = line[match.end() : match.end() + _MAX_HEADER_VALUE]
                else:
                    other = _FILE_HEADER.match(line)
                    if other is not None:
                        headers[other.group(1).lower()] = line[other.end() : other.end() + 200]
            continue
        # The blank line after a header block: what does this part hold?
        kind, boundary = _classify(ctype)
        if kind == "leaf" and stack and _is_file(ctype, headers):
            base64 = b"base64" in headers.get(b"content-transfer-encoding", b"").lower()
            leaf = (pos, 0.75 if base64 else 1.0)
        ctype, collecting, headers = None, False, {}
        if kind == "multipart" and boundary:
            stack.append(boundary)
            in_headers = False
        elif kind == "message":
            stack.append(None)  # the enclosed message's own headers follow at once
            parts += 1
        else:
            in_headers = False
            if kind == "status":  # the parser makes a part of each block of status fields
                status_from = pos
                deepest = max(deepest, len(stack) + 1)
        deepest = max(deepest, len(stack))
        if deepest > stop_depth or parts > stop_parts:
            break
    if status_from is not None:
        parts += _status_blocks(data[status_from:])
    return MimeShape(depth=deepest, parts=parts, large=tuple(large))


def without_large_parts(data: bytes, spans: tuple[tuple[int, int, int], ...]) -> bytes:
    """`data` with each listed body replaced by `OMITTED_MARK <size estimate>`: the parser
    then never builds (or decodes) an attachment the limits would refuse anyway."""
    pieces: list[bytes] = []
    at = 0
    for start, stop, estimate in spans:
        pieces += [data[at:start], f"{OMITTED_MARK} {estimate}\r\n".encode()]
        at = stop
    pieces.append(data[at:])
    return b"".join(pieces)


def _decoded_size(data: bytes, start: int, stop: int, ratio: float) -> int:
    """Bytes a body decodes to: base64 without its line breaks is 3 bytes per 4 characters."""
    if ratio == 1.0:
        return stop - start
    breaks = data.count(b"\n", start, stop) + data.count(b"\r", start, stop)
    return (stop - start - breaks) * 3 // 4


def _is_file(ctype: bytes | None, headers: dict[bytes, bytes]) -> bool:
    """A part that is an attached file: not text, or text declared an attachment."""
    value = (ctype or b"text/plain").strip().lower()
    if b"attachment" in headers.get(b"content-disposition", b"").lower():
        return True
    return not value.startswith((b"text/", b"multipart/", b"message/"))


def _status_blocks(body: bytes) -> int:
    """Blank-line separated blocks of a message/delivery-status body."""
    return len(_BLOCK_START.findall(body))


def _classify(ctype: bytes | None) -> tuple[str, bytes | None]:
    if not ctype:
        return "leaf", None
    value = ctype.strip().lower()
    if value.startswith(b"multipart/"):
        match = _BOUNDARY.search(ctype)
        boundary = (match.group(1) or match.group(2)) if match else None
        return "multipart", boundary.rstrip() if boundary else None
    if value.startswith((b"message/rfc822", b"message/global")):
        return "message", None
    if value.startswith(b"message/delivery-status"):
        return "status", None
    return "leaf", None


def _match_boundary(stack: list[bytes | None], line: bytes) -> tuple[int, bool] | None:
    """(index in the stack, closing?) of the innermost open multipart this line delimits."""
    for index in range(len(stack) - 1, -1, -1):
        boundary = stack[index]
        if boundary is None:
            continue
        if line == b"--" + boundary + b"--":
            return index, True
        if line == b"--" + boundary:
            return index, False
    return None
