"""Generators of hostile files, written by the tests themselves (nothing stored in the repo).

Each builds the smallest file that reproduces one attack on the parsers: compression bombs in
zip-based documents (honest and with a lying zip directory), a workbook that names a far cell,
an ODF space bomb, mail with a 2 MB subject, 5,000-level MIME nesting, a zip bomb as an
attachment, more attachments than allowed, deep HTML, an impossible MT940 date, and a PNG that
claims 10 gigapixels. Memory stays small while generating: bombs are streamed into the zip.
"""

from __future__ import annotations

import base64
import io
import struct
import zipfile
import zlib

MB = 1024 * 1024

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx_bomb(unpacked_mb: int = 300) -> bytes:
    """A valid DOCX whose document.xml is `unpacked_mb` MB of whitespace around one paragraph
    (about 0.3 MB on disk: deflate packs whitespace a thousandfold)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        with zf.open("word/document.xml", "w") as fh:
            fh.write(f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{_W}"><w:body>'
                     '<w:p><w:r><w:t>bomb</w:t></w:r></w:p>'.encode())
            spaces = b" " * MB
            for _ in range(unpacked_mb):
                fh.write(spaces)
            fh.write(b"</w:body></w:document>")
    return buf.getvalue()


def lying_zip(data: bytes, member: str, claimed_size: int = 1000) -> bytes:
    """`data` (a zip without zip64 fields) with `member`'s unpacked size set to `claimed_size`
    in its local header and in the central directory: the directory then looks harmless."""
    out = bytearray(data)
    local = zipfile.ZipFile(io.BytesIO(data)).getinfo(member).header_offset
    struct.pack_into("<I", out, local + 22, claimed_size)
    central = out.find(b"PK\x01\x02")
    while central >= 0:
        name_len = struct.unpack_from("<H", out, central + 28)[0]
        if out[central + 46 : central + 46 + name_len] == member.encode():
            struct.pack_into("<I", out, central + 24, claimed_size)
            return bytes(out)
        central = out.find(b"PK\x01\x02", central + 4)
    raise ValueError(f"{member} not in the zip directory")


def docx_with_members(count: int) -> bytes:
    """A DOCX padded with `count` empty members (a directory too large to list)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("word/document.xml", f'<w:document xmlns:w="{_W}"><w:body><w:p><w:r>'
                    '<w:t>many</w:t></w:r></w:p></w:body></w:document>')
        for index in range(count):
            zf.writestr(f"word/media/pad{index}.bin", b"")
    return buf.getvalue()


def xlsx_far_cell(row: int = 1_048_576, column: int = 16_384) -> bytes:
    """A 5 KB workbook with a value in A1 and one at the far corner: readers fill the space."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "near"
    sheet.cell(row=row, column=column, value="far")
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def odt_space_bomb() -> bytes:
    """An ODT whose <text:s text:c="2000000000"/> asks for two billion spaces."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>'
        '<text:h text:outline-level="x1">Space bomb</text:h>'
        '<text:p>before<text:s text:c="2000000000"/>after the spaces</text:p>'
        "</office:text></office:body></office:document-content>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        zf.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", '<manifest:manifest xmlns:manifest="urn:oasis:'
                    'names:tc:opendocument:xmlns:manifest:1.0"/>')
    return buf.getvalue()


# -- mail ---------------------------------------------------------------------------------------
def _headers(subject: str, message_id: str) -> bytes:
    return (f"From: Mallory <mallory@example.org>\r\nTo: home@example.org\r\n"
            f"Date: Mon, 02 Mar 2026 10:00:00 +0100\r\nMessage-ID: <{message_id}>\r\n"
            f"Subject: {subject}\r\nMIME-Version: 1.0\r\n").encode()


def mail_long_subject(chars: int = 2_000_000) -> bytes:
    """A message whose Subject is `chars` characters long, with a normal body."""
    body = ("Please find the quarterly statement attached. " * 40).encode()
    return (_headers("A" * chars, "long-subject@example.org")
            + b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + b"\r\n")


def mail_nested_multipart(depth: int = 5000) -> bytes:
    """multipart/mixed inside multipart/mixed, `depth` levels, text at the bottom."""
    out = [_headers("Nested", "nested-multipart@example.org")]
    for level in range(depth):
        out.append(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n'
                   % (level, level))
    out.append(b"Content-Type: text/plain\r\n\r\ninnermost text\r\n")
    out.extend(b"--b%d--\r\n" % level for level in reversed(range(depth)))
    return b"".join(out)


def mail_nested_rfc822(depth: int = 5000) -> bytes:
    """A message attaching a message attaching a message ... `depth` levels."""
    out = [_headers("Forward of a forward", "nested-rfc822@example.org")]
    out.append(b"Content-Type: message/rfc822\r\n\r\n")
    for level in range(depth):
        out.append(b"From: a@example.org\r\nSubject: level %d\r\n"
                   b"Content-Type: message/rfc822\r\n\r\n" % level)
    out.append(b"From: a@example.org\r\nSubject: bottom\r\n\r\ninnermost\r\n")
    return b"".join(out)


def mail_with_attachments(subject: str, message_id: str,
                          attachments: list[tuple[str, str, bytes]],
                          body: str = "See the attachments.") -> bytes:
    """A multipart/mixed message with (filename, media type, bytes) attachments in base64."""
    boundary = b"==hostile=="
    parts = [_headers(subject, message_id),
             b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n',
             b"--" + boundary + b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
             + body.encode() + b"\r\n"]
    for name, media_type, data in attachments:
        encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
        parts.append(b"--" + boundary + f"\r\nContent-Type: {media_type}\r\n"
                     f'Content-Disposition: attachment; filename="{name}"\r\n'
                     "Content-Transfer-Encoding: base64\r\n\r\n".encode() + encoded)
    parts.append(b"--" + boundary + b"--\r\n")
    return b"".join(parts)


def deep_html(depth: int = 5000, text: str = "DEEPTEXT the treasure is under the oak") -> bytes:
    """HTML with `text` inside `depth` nested divs and a closing paragraph after them."""
    return ("<html><head><title>Deep page</title></head><body><h1>Deep page</h1>"
            "<p>Shallow opening paragraph.</p>" + "<div>" * depth + text + "</div>" * depth
            + "<p>AFTERTEXT the closing paragraph.</p></body></html>").encode()


def mt940_month_00() -> bytes:
    """An MT940 statement whose opening balance is dated month 00."""
    return (b":20:STARTUMSE\r\n:25:12345678/1020304050\r\n:28C:00000/001\r\n"
            b":60F:C160029EUR1200,00\r\n:61:1603010301DR6,00N024NONREF\r\n"
            b":86:805?00ENTGELTABSCHLUSS\r\n:62F:C160301EUR1194,00\r\n-\r\n")


def png_claiming(width: int = 100_000, height: int = 100_000) -> bytes:
    """A 100-byte PNG whose header claims `width` x `height` pixels (no pixel data)."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def png_page() -> bytes:
    """A small real PNG (a blank 200 x 100 page) for OCR paths."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (200, 100), 255).save(buf, format="PNG")
    return buf.getvalue()
