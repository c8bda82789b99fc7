"""Citations that land: supporting sentences, snippets, display numbers (app/answer/spans.py,
app/answer/citations.py), and a streamed answer whose final result carries them."""

from __future__ import annotations

from app.answer.citations import display_numbers, first_cited, rewrite_markers
from app.answer.service import stream_answer
from app.answer.spans import best_span, claims_by_number, land_citations, sentences, snippet
from app.answer.types import AnswerResult, Citable, Citation, ContextBlock
from app.core.config import LLMEndpoint
from app.llm.client import OpenAIChatClient
from app.retrieval.types import Hit
from tests.openai_stub import Reply

GYM = (
    "Membership agreement between FitClub GmbH and the member. "
    "The monthly fee is 39 EUR, payable on the 1. of each month by direct debit. "
    "The initial term is 12 months. After that the membership renews automatically for a further "
    "12 months unless cancelled. The notice period is three months to the end of the term. "
    "Cancellations must be sent in writing, e.g. by letter to FitClub GmbH, Hauptstr. 5, Berlin. "
    "Personal training sessions are booked separately."
)


def test_sentences_keep_abbreviations_ordinals_and_lines_together():
    text = "Pay on the 1. of May, e.g. by card. Dr. Muster signs.\n[row 3] 2026-10-03 -12.50 EUR"
    parts = [text[s:e] for s, e in sentences(text)]
    assert parts == ["Pay on the 1. of May, e.g. by card.", "Dr. Muster signs.",
                     "[row 3] 2026-10-03 -12.50 EUR"]


def test_best_span_is_the_sentence_that_answers_not_the_whole_passage():
    span = best_span(GYM, "What is the notice period of the gym membership?")
    assert span is not None
    assert GYM[span.start:span.end] == "The notice period is three months to the end of the term."


def test_best_span_follows_the_answer_sentence_when_it_names_other_words():
    claim = "It renews automatically for another 12 months unless you cancel."
    span = best_span(GYM, claim)
    assert span is not None
    assert GYM[span.start:span.end].startswith("After that the membership renews automatically")


def test_best_span_may_join_neighbouring_sentences_when_both_are_needed():
    span = best_span(GYM, "How much is the monthly fee and what is the initial term?")
    assert span is not None
    assert GYM[span.start:span.end] == ("The monthly fee is 39 EUR, payable on the 1. of each "
                                        "month by direct debit. The initial term is 12 months.")


def test_best_span_is_none_without_shared_words():
    assert best_span(GYM, "Wie hoch ist die Miete?") is None
    assert best_span("", "notice") is None


def test_snippet_shows_the_matching_sentences_past_the_first_320_characters():
    passage = "Preamble and definitions. " * 20 + GYM
    assert passage.index("notice period") > 400
    shown = snippet(passage, "notice period")
    assert shown == "… The notice period is three months to the end of the term. …"
    assert len(snippet(passage, "nothing shared here")) <= 320  # the start, as before
    assert snippet(passage, "nothing shared here").startswith("Preamble and definitions.")


def test_snippet_of_a_long_sentence_is_cut_at_the_limit():
    passage = "Intro. The notice " + "very " * 200 + "long clause."
    shown = snippet(passage, "notice clause", limit=120)
    assert shown.startswith("… The notice very") and shown.endswith("…") and len(shown) <= 120


def test_claims_belong_to_the_sentence_that_carries_the_marker():
    answer = ("The notice period is three months [2]. The fee is 39 EUR per month. [1] "
              "It renews for 12 months [1, 3].")
    claims = claims_by_number(answer)
    assert claims[2] == "The notice period is three months."
    assert claims[1] == "The fee is 39 EUR per month. It renews for 12 months."
    assert claims[3] == "It renews for 12 months."


def test_display_numbers_follow_first_citation_and_uncited_follow():
    text = "A [1]. B [3]. C [2][3]. D [1]."
    assert first_cited(text) == [1, 3, 2]
    mapping = display_numbers(text, [1, 2, 3, 4])
    assert mapping == {1: 1, 3: 2, 2: 3, 4: 4}
    assert rewrite_markers(text, mapping) == "A [1]. B [2]. C [3][2]. D [1]."
    assert rewrite_markers("see [3-4] and [4, 2]", {3: 1, 4: 2, 2: 3}) == "see [1, 2] and [2, 3]"


def _chunk(n: int, text: str, *, start: int, chunk_id: int) -> Citable:
    return Citable(text=text, path="/docs/gym.pdf", title="Gym", chunk_id=chunk_id, document_id=9,
                   location={"char_start": start, "char_end": start + len(text)})


def test_land_citations_renumbers_and_gives_document_offsets():
    document = "Cover page.\n" + GYM
    start = document.index(GYM)
    first = _chunk(1, "Cover page.", start=0, chunk_id=1)
    second = _chunk(2, GYM, start=start, chunk_id=2)
    blocks = (ContextBlock(n=1, citable=first, shown=first.text),
              ContextBlock(n=2, citable=second, shown=second.text))
    result = AnswerResult(
        answer="The notice period is three months [2]. The cover names the club [1].",
        mode="llm", citations=(Citation(n=2, citable=second), Citation(n=1, citable=first)),
        offered=blocks)
    landed = land_citations(result, "How do I cancel?")
    assert landed.answer == "The notice period is three months [1]. The cover names the club [2]."
    (c1, c2) = landed.citations
    assert (c1.n, c1.chunk_id, c2.n, c2.chunk_id) == (1, 2, 2, 1)
    assert c1.span is not None
    assert document[c1.span[0]:c1.span[1]] == \
        "The notice period is three months to the end of the term."
    assert c1.url == f"/documents/9?chunk=2&span={c1.span[0]}-{c1.span[1]}#passage"
    assert c1.to_json()["snippet"] == "… The notice period is three months to the end of the term. …"
    assert [b.n for b in landed.offered] == [2, 1]  # rank order kept, display numbers


def test_retrieval_only_citations_land_on_the_question():
    passage = _chunk(1, GYM, start=100, chunk_id=5)
    result = AnswerResult(answer="Retrieval-only answer: no model. Read [1].",
                          mode="retrieval-only", citations=(Citation(n=1, citable=passage),))
    (c,) = land_citations(result, "Can I pay by direct debit?").citations
    assert c.span is not None
    assert GYM[c.span[0] - 100:c.span[1] - 100].startswith("The monthly fee is 39 EUR")


def test_a_transaction_citation_links_to_its_statement_row():
    row = Citable(text="2026-10-03 -12.50 EUR REWE", path="/bank/giro.csv", kind="transaction",
                  document_id=4, location={"row": 37, "transaction_id": 8})
    data = Citation(n=1, citable=row).to_json()
    assert data["url"] == "/documents/4?row=37#passage" and data["span"] is None


def test_streamed_answer_keeps_model_numbers_and_done_carries_renumbered_spans(openai_stub):
    hits = [
        Hit(chunk_id=11, document_id=9, score=1.0, text="Cover page of the contract.",
            path="/docs/gym.pdf", title="Gym", page=1, char_start=0, char_end=27),
        Hit(chunk_id=12, document_id=9, score=0.9, text=GYM, path="/docs/gym.pdf", title="Gym",
            page=2, char_start=28, char_end=28 + len(GYM)),
    ]
    openai_stub.reply_with(Reply("The notice period is three months [2]. The contract has a "
                                 "cover page [1].", chunk_size=7))
    chat = OpenAIChatClient(LLMEndpoint(base_url=openai_stub.base_url, model="m", api_key=None,
                                        timeout=5))
    events = list(stream_answer("How long is the notice period?", hits=hits, chat=chat))
    streamed = "".join(e.text for e in events if e.type == "answer")
    assert streamed.strip() == ("The notice period is three months [2]. The contract has a "
                                "cover page [1].")
    sources = events[0]
    assert sources.type == "sources" and sources.blocks[1].span is not None
    result = events[-1].result
    assert result.answer == ("The notice period is three months [1]. The contract has a "
                             "cover page [2].")
    c1, c2 = result.citations
    assert (c1.n, c1.chunk_id, c2.n, c2.chunk_id) == (1, 12, 2, 11)
    assert GYM[c1.span[0] - 28:c1.span[1] - 28] == \
        "The notice period is three months to the end of the term."
    assert result.to_json()["offered"][0]["n"] == 2  # the cover page, rank 1, cited second
