"""Smoke test of the bench code paths on a tiny corpus, so the benches cannot rot.

Runs bench/core.py's phases (ingest, re-ingest, growing the index, search, ask against the
loopback OpenAI stub in a subprocess) on the test database. Checks shapes and invariants only:
timings are the benches' business, never asserted here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

# bench/ is scripts, not an installed package: import it from the repository root.
REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import core  # noqa: E402
from bench.corpus import MANIFEST, generate_corpus, pdf_pages  # noqa: E402
from bench.corpus_text import HouseholdWriter, bench_queries  # noqa: E402
from bench.run_all import discover  # noqa: E402

# Tier `slow`: runs the benchmarks end to end on a tiny corpus.
pytestmark = pytest.mark.slow


def test_corpus_is_deterministic_and_mixes_every_format(tmp_path: Path) -> None:
    a = generate_corpus(tmp_path / "a", documents=30, seed=3)
    b = generate_corpus(tmp_path / "b", documents=30, seed=3)
    assert a.documents == 30 and set(a.formats) == {"pdf", "docx", "html", "txt", "md", "eml"}
    assert a.pdf_pages >= a.formats["pdf"]  # multi-page PDFs are counted page by page
    assert (b.documents, b.formats, b.pdf_pages) == (a.documents, a.formats, a.pdf_pages)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.*"))
    assert files_a == files_b
    # Text formats are byte-identical for one seed (DOCX zips carry a write time).
    for rel in files_a:
        if rel.suffix in (".md", ".txt", ".html", ".eml"):
            assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    manifest = json.loads((tmp_path / "a" / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["documents"] == 30


def test_writer_produces_both_languages_and_query_flavours() -> None:
    import random

    writer = HouseholdWriter(random.Random(5))
    langs = {writer.document().lang for _ in range(40)}
    assert langs == {"en", "de"}
    flavours = {q.flavour for q in bench_queries(8)}
    assert flavours == {"keyword", "question", "german", "filtered"}


def test_pdf_pages_counts_page_objects() -> None:
    from bench.corpus import to_doc
    from tests.support.render import render

    spec = HouseholdWriter(__import__("random").Random(1)).document("contract", "en", size=4)
    data = render(to_doc(spec, "x.pdf"))
    import pypdfium2

    assert pdf_pages(data) == len(pypdfium2.PdfDocument(data)) > 1


def test_core_bench_runs_every_phase_on_a_tiny_corpus(clean_db, tmp_path: Path, capsys) -> None:
    args = core.parse_args(["--quick", "--documents", "12", "--chunks", "120", "--queries", "8",
                            "--questions", "3", "--rounds", "1", "--out-dir", str(tmp_path)])
    results = core.run(args, tmp_path, clean_db)
    ingest = results["ingest"]
    assert ingest["first"]["counts"]["indexed"] + ingest["first"]["counts"]["failed"] == 12
    assert ingest["first"]["chunks"] > 0
    # The unchanged corpus again: nothing parsed, nothing written.
    assert ingest["reingest"]["counts"]["unchanged"] == 12
    assert ingest["reingest"]["counts"]["indexed"] == 0
    assert results["grow"]["chunks"] >= 120
    search = results["search"]
    assert search["search_ex_embed"]["n"] == 8 and search["query_embedding"]["n"] == 8
    ask = results["ask"]
    # Every question was answered: by the stub model, or (a money question over a corpus with no
    # statements whose passages match nothing) retrieval-only, saying so, without a model call.
    assert sum(ask["modes"].values()) == 3 and ask["modes"].get("llm", 0) >= 2, ask["modes"]
    assert ask["overhead"]["n"] == 3
    core.report(results)
    out = capsys.readouterr().out
    assert "search p95 ms (ex embed)" in out and "ask overhead p95 ms" in out


def test_run_all_finds_benches_and_skips_helpers() -> None:
    names = {p.stem for p in discover()}
    assert "core" in names
    assert not names & {"common", "core_measure", "corpus", "corpus_text", "run_all"}
