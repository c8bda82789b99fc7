"""The synthetic corpus: deterministic, every format, answers present in the files, distractors."""

from __future__ import annotations

import email
import json
import time
from pathlib import Path

import pytest

from app.eval.metrics import normalise_text
from tests.support.eval_synth import DOCS_PER_SCALE, build, generate


def _text_of(path: Path) -> str:
    """What a parser would see, well enough to look for the evidence snippet."""
    fmt = path.suffix[1:]
    if fmt == "pdf":
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(path)
        return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    if fmt == "docx":
        import docx

        return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    if fmt == "eml":
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        return msg.get_body(("plain",)).get_content()
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synth")
    return out, generate(out, scale=2, seed=3)


def test_generate_writes_all_formats_and_questions(corpus):
    out, summary = corpus
    assert summary["documents"] >= 2 * DOCS_PER_SCALE
    assert set(summary["formats"]) == {"txt", "md", "html", "pdf", "docx", "eml"}
    files = [p for p in (out / "corpus").rglob("*") if p.is_file()]
    assert len(files) == summary["documents"]
    lines = (out / "QUESTIONS.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == summary["question_count"] == 16
    for line in lines:
        q = json.loads(line)
        assert q["question"] and q["expected"] and q["answer"]


def test_every_answer_is_in_its_target_file(corpus):
    out, _ = corpus
    for line in (out / "QUESTIONS.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        target, snippet = q["expected"]
        matches = [p for p in (out / "corpus").rglob("*") if str(p).endswith(target)]
        if not matches:  # an attachment: the evidence is inside the mail that carries it
            mails = [
                p
                for p in (out / "corpus" / "mail").glob("*.eml")
                if target in p.read_bytes().decode("ascii", "replace")
            ]
            assert len(mails) == 1, target
            continue
        assert len(matches) == 1, target
        assert normalise_text(snippet) in normalise_text(_text_of(matches[0])), (target, snippet)
        assert normalise_text(q["answer"].split(" EUR")[0]) in normalise_text(_text_of(matches[0]))


def test_distractors_look_alike_but_lack_the_answer():
    docs, questions = build(scale=1, seed=5)
    bill = next(q for q in questions if q.kind == "bill")
    target = next(d for d in docs if d.path == bill.expected[0])
    siblings = [
        d
        for d in docs
        if d.kind == target.kind
        and d.path.startswith("bills/")
        and d.title.rsplit(" ", 2)[0] == target.title.rsplit(" ", 2)[0]
        and d is not target
    ]
    assert len(siblings) == 2  # the neighbouring months: same company, same template
    assert all(bill.expected[1] not in d.text() for d in siblings)
    mail = next(q for q in questions if q.kind == "email")
    copies = [d for d in docs if normalise_text(mail.expected[1]) in normalise_text(d.text())]
    assert len(copies) == 2  # the mail and its forwarded copy both hold the answer


def test_build_is_deterministic_and_seeded():
    a_docs, a_q = build(scale=1, seed=9)
    b_docs, b_q = build(scale=1, seed=9)
    c_docs, _ = build(scale=1, seed=10)
    assert a_docs == b_docs and a_q == b_q
    assert [d.text() for d in a_docs] != [d.text() for d in c_docs]
    with pytest.raises(ValueError, match="scale"):
        build(scale=0)


def test_generated_files_are_byte_identical_for_a_seed(tmp_path):
    generate(tmp_path / "a", scale=1, seed=4)
    time.sleep(2.1)  # past the two-second resolution of ZIP times (DOCX), so a clock would show
    generate(tmp_path / "b", scale=1, seed=4)
    a = sorted(
        (p.relative_to(tmp_path / "a"), p.read_bytes())
        for p in (tmp_path / "a").rglob("*")
        if p.is_file()
    )
    b = sorted(
        (p.relative_to(tmp_path / "b"), p.read_bytes())
        for p in (tmp_path / "b").rglob("*")
        if p.is_file()
    )
    assert a == b
