"""TextParser and the registry: decoding, Markdown headings, bad input, pick_parser."""

from __future__ import annotations

import pytest

from app.core.errors import DecodeError, EmptyDocumentError, UnsupportedFormatError
from app.core.protocols import Parser
from app.core.types import ParseInput, RawItem
from ingest.mediatypes import detect_media_type
from ingest.parsers import DEFAULT_PARSERS, pick_parser
from ingest.parsers.text import TextParser


def _inp(name: str, data: bytes, media_type: str | None = None) -> ParseInput:
    item = RawItem(origin=f"/docs/{name}", name=name, data=data)
    return ParseInput.of(item, data, media_type or detect_media_type(name, data[:4096]))


def test_every_registered_parser_satisfies_the_protocol():
    for parser in DEFAULT_PARSERS:
        assert isinstance(parser, Parser)
        assert parser.name and parser.version


def test_markdown_headings_give_a_heading_path():
    md = (
        "# Haushalt\n\nIntro line.\n\n## Strom\n\nAbschlag 80 EUR.\n\n### Zähler\n\nNr 42\n\n"
        "## Wasser\n\nJährlich.\n\nSetext Title\n============\n\nafter setext\n"
    )
    doc = TextParser().parse(_inp("h.md", md.encode()))
    assert doc.kind == "note"
    assert doc.title == "Haushalt"
    got = [(b.kind, b.text, b.heading) for b in doc.blocks]
    assert got == [
        ("heading", "Haushalt", "Haushalt"),
        ("text", "Intro line.", "Haushalt"),
        ("heading", "Strom", "Haushalt > Strom"),
        ("text", "Abschlag 80 EUR.", "Haushalt > Strom"),
        ("heading", "Zähler", "Haushalt > Strom > Zähler"),
        ("text", "Nr 42", "Haushalt > Strom > Zähler"),
        ("heading", "Wasser", "Haushalt > Wasser"),
        ("text", "Jährlich.", "Haushalt > Wasser"),
        ("heading", "Setext Title", "Setext Title"),
        ("text", "after setext", "Setext Title"),
    ]


def test_hash_lines_inside_code_fences_are_not_headings():
    md = "# Real\n\n```sh\n# not a heading\necho hi\n```\n\nend\n"
    doc = TextParser().parse(_inp("c.md", md.encode()))
    assert [b.text for b in doc.blocks if b.kind == "heading"] == ["Real"]
    assert any("# not a heading" in b.text for b in doc.blocks)


def test_hashtag_without_space_is_text():
    doc = TextParser().parse(_inp("n.txt", b"#todo call the bank\n"))
    assert [b.kind for b in doc.blocks] == ["text"]


def test_front_matter_title_and_date():
    md = "---\ntitle: Umzug 2024\ndate: 2024-03-01\n---\nPacking list\n"
    doc = TextParser().parse(_inp("u.md", md.encode()))
    assert doc.title == "Umzug 2024"
    assert doc.occurred_at is not None and doc.occurred_at.isoformat() == "2024-03-01T00:00:00+00:00"
    assert doc.blocks[0].text == "Packing list"


@pytest.mark.parametrize(
    "data",
    [
        "Grüße aus Köln – 5 €".encode(),
        "Grüße aus Köln – 5 €".encode("utf-8-sig"),
        "Grüße aus Köln – 5 €".encode("utf-16"),
        "Grüße aus Köln – 5 €".encode("utf-16-le"),
        "Grüße aus Köln – 5 €".encode("utf-16-be"),
        "Grüße aus Köln – 5 €".encode("cp1252"),
    ],
)
def test_decoding_variants(data):
    doc = TextParser().parse(_inp("g.txt", data, "text/plain"))
    assert doc.blocks[0].text == "Grüße aus Köln – 5 €"


def test_latin1_only_bytes_fall_back():
    # 0x81 is undefined in cp1252: the latin-1 fallback still decodes the file.
    doc = TextParser().parse(_inp("l.txt", b"caf\xe9 \x81ok", "text/plain"))
    assert doc.blocks[0].text.startswith("café")


def test_crlf_normalised_and_title_from_first_line():
    doc = TextParser().parse(_inp("w.txt", b"Shopping\r\n\r\nmilk\r\nbread\r\n"))
    assert doc.title == "Shopping"
    assert [b.text for b in doc.blocks] == ["Shopping", "milk\nbread"]


def test_binary_disguised_as_txt_is_a_decode_error():
    data = bytes(range(256)) * 8
    with pytest.raises(DecodeError, match=r"/docs/fake\.txt: looks like binary"):
        TextParser().parse(_inp("fake.txt", data, "text/plain"))


def test_whitespace_only_file_is_empty():
    with pytest.raises(EmptyDocumentError, match=r"/docs/blank\.txt"):
        TextParser().parse(_inp("blank.txt", b" \n\n\t\n"))


def test_pick_parser_empty_and_unsupported():
    with pytest.raises(EmptyDocumentError, match=r"/docs/zero\.txt: the file is empty"):
        pick_parser(_inp("zero.txt", b""))
    with pytest.raises(UnsupportedFormatError, match=r"/docs/a\.bin: no parser for media type application/octet-stream"):
        pick_parser(_inp("a.bin", bytes(range(256))))


def test_pick_parser_highest_score_then_order():
    class Fixed:
        version = "1"

        def __init__(self, name, value):
            self.name, self.value = name, value

        def score(self, inp):
            return self.value

        def parse(self, inp):
            raise NotImplementedError

    inp = _inp("a.txt", b"x")
    low, high, high2 = Fixed("low", 1), Fixed("high", 7), Fixed("high2", 7)
    assert pick_parser(inp, (low, high, high2)) is high
    assert pick_parser(inp, (high2, high, low)) is high2
    assert pick_parser(inp, (Fixed("no", None), low)) is low
    assert isinstance(pick_parser(inp), TextParser)


def test_importing_the_registry_loads_no_heavy_library():
    import subprocess
    import sys

    heavy = ("pypdfium2", "docx", "unstructured", "spacy", "pptx", "openpyxl", "pandas", "lxml")
    code = ("import sys, ingest.parsers, ingest.chunking, ingest.mediatypes; "
            f"print([m for m in {heavy!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    assert out.stdout.strip() == "[]"
