"""Synthetic household corpus for the benches: PDF (multi-page), DOCX, HTML, text, Markdown and
.eml (some with attachments), deterministic from a seed. Writes files; nothing else.

    python bench/corpus.py OUT_DIR [--documents 2000] [--seed 1] [--mix text]

`generate_corpus()` is the function boundary other code (an eval corpus with known answers)
can build on; the text itself comes from `corpus_text.HouseholdWriter`.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import random
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time
from email.message import EmailMessage
from email.utils import format_datetime
from io import BytesIO
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench.` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus_text import DocSpec, HouseholdWriter  # noqa: E402

# Share of each format in the default corpus (the mix: PDF, DOCX, HTML, text, .eml).
DEFAULT_MIX: Mapping[str, float] = {"pdf": 0.22, "docx": 0.14, "html": 0.14, "txt": 0.12,
                                    "md": 0.16, "eml": 0.22}
# Cheap-to-parse formats for the large search index (see bench/README.md).
TEXT_MIX: Mapping[str, float] = {"md": 0.35, "txt": 0.30, "eml": 0.35}
MIXES = {"default": DEFAULT_MIX, "text": TEXT_MIX}

# Which kinds of document each format carries.
_KINDS_BY_FORMAT = {
    "pdf": ("contract", "invoice", "letter"), "docx": ("contract", "letter", "invoice"),
    "html": ("letter", "invoice", "email"), "txt": ("note", "letter"), "md": ("note", "letter"),
    "eml": ("email",),
}
_FOLDER = {"contract": "contracts", "letter": "letters", "invoice": "invoices", "note": "notes",
           "email": "mail"}
MANIFEST = ".corpus.json"  # a dot file: FolderSource excludes it, so it is never ingested
_FIXED_TIME = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class CorpusStats:
    """What was written: documents per format, PDF pages, mail attachments, bytes."""

    root: str
    documents: int = 0
    formats: Counter[str] = field(default_factory=Counter)
    pdf_pages: int = 0  # top-level PDFs and PDF attachments
    attachments: int = 0
    bytes: int = 0
    seed: int = 0

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["formats"] = dict(sorted(self.formats.items()))
        return data


# -- renderers ------------------------------------------------------------------------------------
def render_pdf(spec: DocSpec) -> tuple[bytes, int]:
    """A text-layer PDF (core Helvetica font: Latin-1, which covers German) and its page count."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(spec.title)
    pdf.set_author(spec.company)
    pdf.set_creation_date(datetime.combine(spec.day, time(9), tzinfo=UTC))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, _latin1(spec.title), new_x="LMARGIN", new_y="NEXT")
    for heading, paras in spec.sections:
        if heading:
            pdf.set_font("Helvetica", "B", 12)
            pdf.multi_cell(0, 7, _latin1(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=10)
        for para in paras:
            pdf.multi_cell(0, 5, _latin1(para), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
    return bytes(pdf.output()), pdf.page_no()


def render_docx(spec: DocSpec) -> bytes:
    import docx

    doc = docx.Document()
    props = doc.core_properties
    props.title, props.author = spec.title, spec.company
    props.created = props.modified = datetime.combine(spec.day, time(9))
    doc.add_heading(spec.title, level=1)
    for heading, paras in spec.sections:
        if heading:
            doc.add_heading(heading, level=2)
        for para in paras:
            doc.add_paragraph(para)
    buf = BytesIO()
    doc.save(buf)
    return buf.getvalue()


def render_html(spec: DocSpec) -> bytes:
    esc = html.escape
    body = [f"<h1>{esc(spec.title)}</h1>"]
    for heading, paras in spec.sections:
        if heading:
            body.append(f"<h2>{esc(heading)}</h2>")
        body.extend(f"<p>{esc(p)}</p>" for p in paras)
    page = (f'<!DOCTYPE html>\n<html lang="{spec.lang}"><head><meta charset="utf-8">'
            f"<title>{esc(spec.title)}</title>"
            f'<meta name="date" content="{spec.day.isoformat()}"></head>\n<body>\n'
            + "\n".join(body) + "\n<footer>Sent by " + esc(spec.company) + "</footer></body></html>\n")
    return page.encode("utf-8")


def render_markdown(spec: DocSpec) -> bytes:
    out = [f"---\ntitle: {spec.title}\ndate: {spec.day.isoformat()}\n---\n", f"# {spec.title}\n"]
    for heading, paras in spec.sections:
        if heading:
            out.append(f"## {heading}\n")
        out.extend(p + "\n" for p in paras)
    return "\n".join(out).encode("utf-8")


def render_text(spec: DocSpec) -> bytes:
    return (spec.title + "\n\n" + spec.text() + "\n").encode("utf-8")


def render_eml(spec: DocSpec, attachments: list[tuple[str, bytes, str]]) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"{spec.company} <{spec.sender}>"
    msg["To"] = f"{spec.person} <{spec.recipient}>"
    msg["Subject"] = spec.title
    msg["Date"] = format_datetime(datetime.combine(spec.day, time(10), tzinfo=UTC))
    digest = hashlib.sha1(f"{spec.title}|{spec.day}|{spec.text()}".encode()).hexdigest()[:16]
    msg["Message-ID"] = f"<{digest}@{spec.sender.split('@')[1]}>"
    msg.set_content(spec.text() + "\n")
    for filename, data, mime in attachments:
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return bytes(msg)


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


# -- the corpus -----------------------------------------------------------------------------------
def _formats(count: int, mix: Mapping[str, float], rng: random.Random) -> list[str]:
    """Exactly rounded shares of each format, shuffled."""
    total = sum(mix.values())
    out: list[str] = []
    for fmt, share in mix.items():
        out += [fmt] * round(count * share / total)
    while len(out) < count:
        out.append(max(mix, key=mix.__getitem__))
    out = out[:count]
    rng.shuffle(out)
    return out


def generate_corpus(root: Path, *, documents: int = 2000, seed: int = 1,
                    mix: Mapping[str, float] = DEFAULT_MIX, size: float = 1.0,
                    attachment_share: float = 0.3) -> CorpusStats:
    """Write `documents` files under `root` (sub-folders by kind) and return what was written.

    Deterministic: the same seed gives the same text (file timestamps are not part of it).
    `size` scales document length; PDFs are about two to three times longer (multi-page).
    Messages carry an attachment (a PDF invoice or a text note) with `attachment_share`.
    """
    rng = random.Random(seed)
    writer = HouseholdWriter(rng)
    root.mkdir(parents=True, exist_ok=True)
    stats = CorpusStats(root=str(root), seed=seed)
    for i, fmt in enumerate(_formats(documents, mix, rng)):
        kind = rng.choice(_KINDS_BY_FORMAT[fmt])
        spec = writer.document(kind, size=size * (2.5 if fmt == "pdf" else 1.0))
        folder = root / _FOLDER[kind]
        folder.mkdir(exist_ok=True)
        stem = f"{i:06d}-{spec.day.isoformat()}-{_slug(spec.title)}"
        if fmt == "pdf":
            data, pages = render_pdf(spec)
            stats.pdf_pages += pages
        elif fmt == "docx":
            data = render_docx(spec)
        elif fmt == "html":
            data = render_html(spec)
        elif fmt == "md":
            data = render_markdown(spec)
        elif fmt == "txt":
            data = render_text(spec)
        else:
            attachments: list[tuple[str, bytes, str]] = []
            if rng.random() < attachment_share:
                inner = writer.document(rng.choice(("invoice", "note")), spec.lang, size=size)
                if rng.random() < 0.6:
                    pdf, pages = render_pdf(inner)
                    stats.pdf_pages += pages
                    attachments.append((f"{_slug(inner.title)}.pdf", pdf, "application/pdf"))
                else:
                    attachments.append((f"{_slug(inner.title)}.txt", render_text(inner),
                                        "text/plain"))
                stats.attachments += len(attachments)
            data = render_eml(spec, attachments)
        path = folder / f"{stem}.{fmt}"
        path.write_bytes(data)
        stats.documents += 1
        stats.formats[fmt] += 1
        stats.bytes += len(data)
    (root / MANIFEST).write_text(json.dumps(stats.to_json(), indent=2), encoding="utf-8")
    return stats


def _slug(text: str, limit: int = 40) -> str:
    keep = "".join(ch if ch.isalnum() else "-" for ch in text.lower())
    return "-".join(p for p in keep.split("-") if p)[:limit].strip("-") or "doc"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--documents", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mix", choices=sorted(MIXES), default="default")
    ap.add_argument("--size", type=float, default=1.0, help="document length factor")
    args = ap.parse_args(argv)
    stats = generate_corpus(args.out, documents=args.documents, seed=args.seed,
                            mix=MIXES[args.mix], size=args.size)
    print(json.dumps(stats.to_json(), indent=2))


if __name__ == "__main__":
    main()
