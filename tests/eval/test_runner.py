"""The eval runner: question files, per-mode aggregation, `ask` metrics, the real retriever, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.core.errors import InvalidInputError
from app.eval.metrics import Passage
from app.services.eval import (
    AskOutcome,
    EvalQuestion,
    ModeUnavailableError,
    RuntimeRetriever,
    load_questions,
    run_eval,
)
from tests.support.eval_synth import generate

QS = [
    EvalQuestion("gym notice?", ["gym.pdf", "3 months"], "3 months"),
    EvalQuestion("rent?", ["rent.txt"], "900 EUR"),
]


class TableRetriever:
    """Answers from a fixed table per mode; 'hybrid+colbert' is unavailable."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []

    def search(self, question, mode, top_k):
        self.calls.append((question, mode, top_k))
        if mode == "hybrid+colbert":
            raise ModeUnavailableError("needs bge-m3")
        gym = Passage("/d/gym.pdf", "notice period of 3 months")
        other = Passage("/d/other.txt", "nothing")
        rent = Passage("/d/rent.txt", "rent 900 EUR")
        table = {
            ("gym notice?", "dense"): [other, gym],
            ("rent?", "dense"): [rent],
            ("gym notice?", "fts"): [other] * 12,
            ("rent?", "fts"): [other, other, other, rent],
        }
        return table[(question, mode)]


def test_run_eval_aggregates_per_mode_by_hand():
    r = TableRetriever()
    dense, fts, colbert = run_eval(QS, r, modes=("dense", "fts", "hybrid+colbert"), ks=(1, 5))
    # dense: q1 relevant at rank 2 (both items), q2 at rank 1.
    assert dense.metrics["recall@1"] == pytest.approx(0.5)
    assert dense.metrics["recall@5"] == 1.0
    assert dense.metrics["mrr@10"] == pytest.approx((0.5 + 1.0) / 2)
    # fts: q1 never, q2 at rank 4.
    assert fts.metrics["recall@5"] == pytest.approx(0.5)
    assert fts.metrics["mrr@10"] == pytest.approx(0.25 / 2)
    assert colbert.error == "needs bge-m3" and colbert.questions == 0
    assert {c[2] for c in r.calls} == {10}  # always at least 10 deep for MRR/nDCG@10
    assert dense.per_question[0]["top"] == ["/d/other.txt", "/d/gym.pdf"]


def test_run_eval_rejects_unknown_modes():
    with pytest.raises(InvalidInputError, match="bm25"):
        run_eval(QS, TableRetriever(), modes=("bm25",))


def test_ask_metrics_by_hand():
    def ask(question: str) -> AskOutcome:
        if question.startswith("gym"):
            return AskOutcome(
                "The notice period is 3 months [1].",
                [
                    Passage("/d/gym.pdf", "notice period of 3 months"),
                    Passage("/d/x.txt", "unrelated"),
                ],
                "llm",
            )
        return AskOutcome("Best passages:", [], "retrieval-only")

    (res,) = run_eval(QS, TableRetriever(), modes=(), ask=ask)
    assert res.mode == "ask"
    assert res.metrics["citation_precision"] == 0.5  # one of two citations holds the snippet
    assert res.metrics["exact_answer"] == 1.0  # retrieval-only answers are not graded
    assert res.metrics["llm_answered"] == 0.5


def test_load_questions_names_file_and_line(tmp_path):
    f = tmp_path / "q.jsonl"
    f.write_text('{"question": "a?", "expected": ["x.pdf"]}\n\n{"question": "b?"}\n')
    with pytest.raises(InvalidInputError, match=r"q\.jsonl:3: \"expected\""):
        load_questions(f)
    f.write_text('{"question": "a?", "expected": ["x.pdf"], "answer": "1"}\nnot json\n')
    with pytest.raises(InvalidInputError, match=r"q\.jsonl:2: not a JSON object"):
        load_questions(f)
    f.write_text("\n")
    with pytest.raises(InvalidInputError, match="no questions"):
        load_questions(f)


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("eval-synth")
    generate(out, scale=1, seed=2)
    return out


@pytest.fixture
def indexed(clean_db, settings, synth_dir):
    from app.services.runtime import Runtime
    from ingest.embedders.lexical import LexicalHashEmbedder
    from ingest.pipeline import IngestOptions, Pipeline
    from ingest.sources.folder import FolderSource

    emb = LexicalHashEmbedder()
    Pipeline(clean_db, embedder=emb, options=IngestOptions()).run(
        FolderSource("synth", synth_dir / "corpus")
    )
    ctx = Runtime(settings=settings, db=clean_db)
    ctx.set_embedder(emb)
    return ctx


def test_end_to_end_on_the_synthetic_corpus(indexed, synth_dir):
    questions = load_questions(synth_dir / "QUESTIONS.jsonl")
    results = {
        r.mode: r
        for r in run_eval(
            questions, RuntimeRetriever(indexed), modes=("dense", "fts", "hybrid", "hybrid+colbert")
        )
    }
    hybrid = results["hybrid"]
    assert hybrid.questions == len(questions) == 8
    # Every planted fact is findable; the lexical embedder ranks most of them first.
    assert hybrid.metrics["recall@10"] >= 0.9
    assert hybrid.metrics["mrr@10"] >= 0.5
    assert results["fts"].metrics["recall@10"] > 0
    assert "bge-m3" in results["hybrid+colbert"].error


def test_eval_cli_prints_json(indexed, synth_dir):
    from app.cli import cli

    res = CliRunner().invoke(
        cli, ["eval", str(synth_dir / "QUESTIONS.jsonl"), "--modes", "hybrid,sparse", "--json"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["questions"] == 8 and data["embedder"].startswith("lexical-hash:")
    assert [r["mode"] for r in data["results"]] == ["hybrid", "sparse"]
    assert 0 <= data["results"][0]["metrics"]["ndcg@10"] <= 1
    table = CliRunner().invoke(cli, ["eval", str(synth_dir / "QUESTIONS.jsonl"), "--modes", "fts"])
    assert table.exit_code == 0 and "recall@10" in table.output and "fts" in table.output
    bad = CliRunner().invoke(cli, ["eval", str(synth_dir / "QUESTIONS.jsonl"), "--modes", "x"])
    assert bad.exit_code == 1 and "unknown eval mode" in bad.output
