"""A PDF's text layer is read once per file: the statement parser's score reads it, the PDF
parser takes it (ingest/pdftext.py), with the same result as reading it again."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest

from app.core.types import ParseInput, RawItem
from ingest import pdftext
from ingest.parsers import DEFAULT_PARSERS, pick_parser
from ingest.parsers.pdf import PdfParser
from ingest.parsers.statement import StatementParser
from tests.ingest.test_parsers_pdf import make_pdf

PAGES = ["Rental agreement between Anna Beispiel and the landlord. The rent is due monthly.",
         None,  # a drawing without a text layer
         "Termination: three months' notice in writing.\r\nSigned in Berlin."]
STATEMENT = ("Kontoauszug Nr. 3/2024  IBAN DE89 3704 0044 0532 0130 00\n"
             "Alter Kontostand 1.000,00\n"
             "03.02.2024  REWE Markt Berlin  -45,10\n"
             "05.02.2024  Gehalt Februar  2.500,00\n"
             "Neuer Kontostand 3.454,90")


def _inp(data: bytes, name: str = "doc.pdf") -> ParseInput:
    return ParseInput.of(RawItem(origin=f"/docs/{name}", name=name, data=data), data,
                         "application/pdf")


@pytest.fixture(autouse=True)
def _empty_cache():
    pdftext.clear()
    yield
    pdftext.clear()


@pytest.fixture
def textpages(monkeypatch):
    """Counts the pages whose text layer pdfium is asked for."""
    calls = []
    original = pdfium.PdfPage.get_textpage

    def counted(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pdfium.PdfPage, "get_textpage", counted)
    return calls


def test_text_read_for_the_score_is_taken_by_the_pdf_parser(textpages):
    inp = _inp(make_pdf(PAGES, title="Lease"))
    alone = PdfParser().parse(inp)
    read_alone = len(textpages)
    textpages.clear()
    parser = pick_parser(inp, DEFAULT_PARSERS)
    assert parser.name == "pdf"
    shared = parser.parse(inp)
    assert shared == alone
    # The score read the three pages; the parser read again only the page without text.
    assert read_alone == 3 and len(textpages) == 3 + 1
    assert pdftext.take(inp.data, key=inp.sha256) is None  # taken: nothing left behind


def test_text_is_never_handed_to_other_bytes():
    first, second = make_pdf(["First file."]), make_pdf(["Second file."])
    assert pdftext.page_texts(first, key="same") == ("First file.",)
    assert pdftext.take(second, key="same") is None
    assert pdftext.page_texts(second, key="same") == ("Second file.",)


def test_unreadable_pdf_gives_none_and_the_parsers_say_why():
    broken = b"%PDF-1.7\n" + b"\x00garbage" * 50
    assert pdftext.page_texts(broken, key="x") is None
    inp = _inp(broken)
    assert StatementParser().score(inp) is None
    from app.core.errors import CorruptDocumentError

    with pytest.raises(CorruptDocumentError):
        pick_parser(inp, DEFAULT_PARSERS).parse(inp)


def test_statement_pdf_is_still_claimed_and_read_from_the_shared_text(textpages):
    inp = _inp(make_pdf([STATEMENT]), name="auszug.pdf")
    parser = pick_parser(inp, DEFAULT_PARSERS)
    assert parser.name == "statement"
    doc = parser.parse(inp)
    assert doc.kind == "statement"
    assert doc.metadata["transactions"] == 2
    assert len(textpages) == 1  # one page, read once for score and parse


def test_pdf_without_statement_wording_is_declined_without_a_statement_read(monkeypatch):
    import ingest.money.pdfparse as pdfparse

    def not_called(*args, **kwargs):
        raise AssertionError("parse_pdf_text called for a PDF without statement wording")

    monkeypatch.setattr(pdfparse, "parse_pdf_text", not_called)
    assert StatementParser().score(_inp(make_pdf(PAGES))) is None
