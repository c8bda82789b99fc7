"""Synthetic household corpus for the benches: PDF (multi-page), DOCX, HTML, text, Markdown and
.eml (some with attachments), deterministic from a seed. Writes files; nothing else.

    python bench/corpus.py OUT_DIR [--documents 2000] [--seed 1] [--mix text]

Volume and realism for the performance benches: long-tailed vocabulary, document lengths from
a note to a 20-page contract, multi-page PDFs. `tests.support.eval_synth` (issue 6) is the other
generator: short documents with planted, known answers for quality evals. Both render through
`tests.support.render`; the text here comes from `corpus_text.HouseholdWriter`.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench.` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus_text import DocSpec, HouseholdWriter
from tests.support.render import Doc, render

# Share of each format in the default corpus (the mix: PDF, DOCX, HTML, text, .eml).
DEFAULT_MIX: Mapping[str, float] = {"pdf": 0.22, "docx": 0.14, "html": 0.14, "txt": 0.12,
                                    "md": 0.16, "eml": 0.22}
# Cheap-to-parse formats for the large search index (see bench/README.md).
TEXT_MIX: Mapping[str, float] = {"md": 0.35, "txt": 0.30, "eml": 0.35}
MIXES = {"default": DEFAULT_MIX, "text": TEXT_MIX}

# Which kinds of document each format carries.
_KINDS_BY_FORMAT = {
    "pdf": ("contract", "invoice", "letter"), "docx": ("contract", "letter", "invoice"),
    "html": ("letter", "invoice", "email"),
    # Notes and letters mostly; contracts and invoices saved as text too (so the text-only
    # corpus for the 100k-chunk index has every kind).
    "txt": ("note", "note", "letter", "letter", "contract", "invoice"),
    "md": ("note", "note", "letter", "letter", "contract", "invoice"),
    "eml": ("email",),
}
_FOLDER = {"contract": "contracts", "letter": "letters", "invoice": "invoices", "note": "notes",
           "email": "mail"}
RUN_ALL = False  # a generator (it has a CLI), not a bench
MANIFEST = ".corpus.json"  # a dot file: FolderSource excludes it, so it is never ingested


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


# -- rendering: tests.support.render (shared with the known-answers eval corpus) ----------------------
_PDF_PAGE = re.compile(rb"/Type\s*/Page\b(?!s)")


def to_doc(spec: DocSpec, path: str, attachments: tuple[Doc, ...] = ()) -> Doc:
    """The eval renderer's `Doc` for one generated document."""
    mail = path.endswith(".eml")
    return Doc(path=path, kind=spec.kind, title=spec.title, day=spec.day,
               sender=f"{spec.company} <{spec.sender}>" if mail else spec.company,
               recipient=f"{spec.person} <{spec.recipient}>" if mail else spec.person,
               sections=spec.sections, lang=spec.lang, attachments=attachments)


def pdf_pages(data: bytes) -> int:
    """Pages of a PDF written by fpdf2 (its page objects; no parser needed)."""
    return len(_PDF_PAGE.findall(data))


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
        rel = f"{_FOLDER[kind]}/{i:06d}-{spec.day.isoformat()}-{_slug(spec.title)}.{fmt}"
        attachments: tuple[Doc, ...] = ()
        if fmt == "eml" and rng.random() < attachment_share:
            inner = writer.document(rng.choice(("invoice", "note")), spec.lang, size=size)
            ext = "pdf" if rng.random() < 0.6 else "txt"
            attachments = (to_doc(inner, f"{_slug(inner.title)}.{ext}"),)
            stats.attachments += 1
            if ext == "pdf":
                stats.pdf_pages += pdf_pages(render(attachments[0]))
        data = render(to_doc(spec, rel, attachments))
        if fmt == "pdf":
            stats.pdf_pages += pdf_pages(data)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
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
