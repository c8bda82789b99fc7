"""Render a synthetic document to file bytes: txt, md, html, pdf (fpdf2), docx, eml (I/O-free).

Output is deterministic (fixed creation dates), so a seed always gives byte-identical files.
PDFs use the core Helvetica font, which covers Latin-1 (German included, no euro sign; the
generator writes "EUR").
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from email.message import EmailMessage
from email.utils import format_datetime
from io import BytesIO

from app.core.errors import ConfigError

FORMATS = ("txt", "md", "html", "pdf", "docx", "eml")


@dataclass(frozen=True, slots=True)
class Doc:
    """One synthetic document: where it goes, what it says."""

    path: str  # relative, with extension, e.g. "contracts/00012-fitlife.pdf"
    kind: str
    title: str
    day: date
    sender: str  # "Name <addr>" for mails, a company name otherwise
    recipient: str
    sections: Sequence[tuple[str, Sequence[str]]]
    lang: str = "en"
    attachments: Sequence[Doc] = field(default_factory=tuple)

    @property
    def fmt(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    def text(self) -> str:
        parts = []
        for heading, paras in self.sections:
            if heading:
                parts.append(heading)
            parts.extend(paras)
        return "\n\n".join(parts)


def render(doc: Doc) -> bytes:
    fmt = doc.fmt
    if fmt == "txt":
        return (doc.title + "\n\n" + doc.text() + "\n").encode("utf-8")
    if fmt == "md":
        return _markdown(doc)
    if fmt == "html":
        return _html(doc)
    if fmt == "pdf":
        return _pdf(doc)
    if fmt == "docx":
        return _docx(doc)
    if fmt == "eml":
        return _eml(doc)
    raise ConfigError(f"{doc.path}: cannot render format {fmt!r} (one of {', '.join(FORMATS)})")


def _markdown(doc: Doc) -> bytes:
    out = [f"# {doc.title}\n", f"Date: {doc.day.isoformat()}\n"]
    for heading, paras in doc.sections:
        if heading:
            out.append(f"## {heading}\n")
        out.extend(p + "\n" for p in paras)
    return "\n".join(out).encode("utf-8")


def _html(doc: Doc) -> bytes:
    esc = html.escape
    body = [f"<h1>{esc(doc.title)}</h1>"]
    for heading, paras in doc.sections:
        if heading:
            body.append(f"<h2>{esc(heading)}</h2>")
        body.extend(f"<p>{esc(p)}</p>" for p in paras)
    page = (
        f'<!DOCTYPE html>\n<html lang="{doc.lang}"><head><meta charset="utf-8">'
        f"<title>{esc(doc.title)}</title></head>\n<body>\n"
        + "\n".join(body)
        + f"\n<footer>{esc(doc.sender)}</footer></body></html>\n"
    )
    return page.encode("utf-8")


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _pdf(doc: Doc) -> bytes:
    try:
        from fpdf import FPDF
    except ImportError as exc:
        raise ConfigError("rendering PDFs needs fpdf2 (`pip install fpdf2`)") from exc
    pdf = FPDF()
    pdf.set_title(_latin1(doc.title))
    pdf.set_creation_date(datetime.combine(doc.day, time(9), tzinfo=UTC))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, _latin1(doc.title), new_x="LMARGIN", new_y="NEXT")
    for heading, paras in doc.sections:
        if heading:
            pdf.set_font("Helvetica", "B", 12)
            pdf.multi_cell(0, 7, _latin1(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=10)
        for para in paras:
            pdf.multi_cell(0, 5, _latin1(para), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
    return bytes(pdf.output())


def _docx(doc: Doc) -> bytes:
    import docx

    d = docx.Document()
    d.core_properties.title = doc.title
    d.core_properties.created = d.core_properties.modified = datetime.combine(doc.day, time(9))
    d.add_heading(doc.title, level=1)
    for heading, paras in doc.sections:
        if heading:
            d.add_heading(heading, level=2)
        for para in paras:
            d.add_paragraph(para)
    buf = BytesIO()
    d.save(buf)
    return _restamped(buf.getvalue(), datetime.combine(doc.day, time(9)))


def _restamped(archive: bytes, when: datetime) -> bytes:
    """The ZIP with every member stamped `when`: python-docx writes the time of saving (two-second
    resolution), so two renders of one seed differed when a second boundary fell between them."""
    import zipfile

    out = BytesIO()
    with zipfile.ZipFile(BytesIO(archive)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            stamped = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            stamped.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(stamped, src.read(info.filename))
    return out.getvalue()


def _eml(doc: Doc) -> bytes:
    msg = EmailMessage()
    msg["From"] = doc.sender
    msg["To"] = doc.recipient
    msg["Subject"] = doc.title
    msg["Date"] = format_datetime(datetime.combine(doc.day, time(10), tzinfo=UTC))
    digest = hashlib.sha1(f"{doc.path}|{doc.text()}".encode()).hexdigest()[:16]
    msg["Message-ID"] = f"<{digest}@example.org>"
    msg.set_content(doc.text() + "\n")
    for att in doc.attachments:
        name = att.path.rsplit("/", 1)[-1]
        mime = {"pdf": "application/pdf", "txt": "text/plain", "html": "text/html"}[att.fmt]
        maintype, subtype = mime.split("/")
        msg.add_attachment(render(att), maintype=maintype, subtype=subtype, filename=name)
    if msg.is_multipart():
        msg.set_boundary(f"==homerag-{digest}==")  # the default one is random
    return bytes(msg)
