"""Eval metrics against hand-computed values."""

from __future__ import annotations

import math

import pytest

from app.eval.metrics import (
    Passage,
    aggregate,
    canonical_numbers,
    citation_precision,
    exact_answer,
    item_matches,
    mrr_at_k,
    ndcg_at_k,
    recall_at_k,
    retrieval_metrics,
)

P = Passage


def _ranked() -> list[Passage]:
    return [
        P("/home/docs/letters/rent-2023.pdf", "The rent rises to 900 EUR from March 2023."),
        P(
            "/home/docs/contracts/gym.pdf",
            "Either party may cancel with a notice period\nof 3 months.",
        ),
        P("/home/docs/contracts/telco.docx", "Notice period of 1 month."),
        P("/home/mail/x.eml#attachment=1/gym.pdf", "Gym membership fee 29 EUR."),
    ]


def test_item_matching_path_suffix_and_snippet():
    p = _ranked()[1]
    assert item_matches("contracts/gym.pdf", p)
    assert item_matches("gym.pdf", p)
    assert not item_matches("ym.pdf/", p)
    assert item_matches("NOTICE PERIOD of 3 months", p)  # case and line breaks ignored
    assert not item_matches("notice period of 1 month", p)
    assert item_matches("gym.pdf", _ranked()[3])  # an attachment's origin ends with its name


def test_recall_at_k_counts_expected_items_found():
    ranked = _ranked()
    expected = ["contracts/gym.pdf", "notice period of 3 months"]
    assert recall_at_k(ranked, expected, 1) == 0.0
    assert recall_at_k(ranked, expected, 2) == 1.0
    assert recall_at_k(ranked, ["gym.pdf", "telco.docx", "nothing here"], 3) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="expected"):
        recall_at_k(ranked, [], 5)


def test_mrr_is_inverse_rank_of_first_relevant_within_10():
    ranked = _ranked()
    assert mrr_at_k(ranked, ["notice period of 3 months"]) == 0.5
    assert mrr_at_k(ranked, ["fee 29 EUR"]) == 0.25
    assert mrr_at_k(ranked, ["absent"]) == 0.0
    assert mrr_at_k(ranked, ["fee 29 EUR"], k=3) == 0.0


def test_ndcg_by_hand():
    ranked = _ranked()
    # Relevant at ranks 2 and 4 ("gym.pdf" matches both): DCG = 1/log2(3) + 1/log2(5),
    # ideal = relevant at ranks 1 and 2: 1 + 1/log2(3).
    want = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(ranked, ["gym.pdf"]) == pytest.approx(want)
    assert ndcg_at_k(ranked, ["rent rises to 900"]) == 1.0
    assert ndcg_at_k(ranked, ["absent"]) == 0.0


def test_retrieval_metrics_and_aggregate():
    m = retrieval_metrics(_ranked(), ["notice period of 3 months"], ks=(1, 3))
    assert m == {
        "recall@1": 0.0,
        "recall@3": 1.0,
        "mrr@10": 0.5,
        "ndcg@10": pytest.approx(1 / math.log2(3)),
    }
    agg = aggregate([{"a": 1.0, "b": None}, {"a": 0.0, "b": 0.5}])
    assert agg == {"a": 0.5, "b": 0.5}


def test_citation_precision_uses_snippets_when_given():
    cited = [_ranked()[1], _ranked()[3]]
    assert citation_precision(cited, ["gym.pdf", "notice period of 3 months"]) == 0.5
    assert citation_precision(cited, ["gym.pdf"]) == 1.0  # no snippet: the files decide
    assert citation_precision([], ["gym.pdf"]) is None


def test_exact_answer_normalises_case_spaces_and_number_formats():
    assert canonical_numbers("1.234,50 and 1,234.5 and 850,00") == "1234.5 and 1234.5 and 850"
    assert exact_answer("Die Kündigungsfrist beträgt 3 Monate [1].", "3 Monate")
    assert exact_answer("The rent is 850.00 EUR per month.", "850,00 €")
    assert not exact_answer("It is 13 months.", "3 months")
    assert not exact_answer("anything", "")
