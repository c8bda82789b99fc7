"""The full-text stage matches a question's rare lexemes first (queries.RARE_FIRST_SQL), with
"rare" from the sampled chunk counts in lexeme_frequencies (ingest/lexeme_stats.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from app.retrieval import resolve_space, search
from app.retrieval.types import SearchFilters
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.lexeme_stats import refresh, refresh_if_stale
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources.folder import FolderSource

EMB = LexicalHashEmbedder()


@pytest.fixture
def corpus(clean_db, tmp_path: Path):
    """Three chunks name a quokka once; five say "invoice" five times each; ten say neither."""
    root = tmp_path / "notes"
    root.mkdir()
    for i in range(3):
        (root / f"zoo-{i}.txt").write_text(f"Zoo visit {i}: we saw a quokka near the gate.")
    for i in range(5):
        (root / f"bill-{i}.txt").write_text(
            f"Bill {i}: invoice invoice invoice invoice invoice for the plumber.")
    for i in range(10):
        (root / f"misc-{i}.txt").write_text(f"Note {i}: call the garage about the tyres.")
    Pipeline(clean_db, embedder=EMB, options=IngestOptions()).run(FolderSource("notes", root))
    return clean_db


def _names(hits) -> list[str]:
    return [Path(h.path).stem.split("-")[0] for h in hits]


def _count_as_common(db, *lexemes: str) -> None:
    """What a sample of a large index would say: these lexemes are in 5,000 chunks each."""
    with db.engine.begin() as conn:
        for lexeme in lexemes:
            conn.execute(text("INSERT INTO lexeme_frequencies (lexeme, chunks) VALUES (:l, 5000)"),
                         {"l": lexeme})


def test_counted_common_words_are_matched_only_when_the_rare_ones_match_too_few(corpus):
    query = "quokka invoice"
    with corpus.session() as s:
        # Without counts, ts_rank puts the five-fold "invoice" chunks first.
        assert not resolve_space(s, EMB).lexeme_counts
        before = _names(search(s, EMB, query, top_k=2, candidates=2, stages=("fts",)))
        assert "bill" in before
    _count_as_common(corpus, "invoic", "invoice")
    with corpus.session() as s:
        assert resolve_space(s, EMB).lexeme_counts  # the search takes the rare-first statement
        # The three quokka chunks fill the two candidates: the common word is not matched.
        rare_first = _names(search(s, EMB, query, top_k=2, candidates=2, stages=("fts",)))
        assert rare_first == ["zoo", "zoo"]
        # Three rare matches are fewer than 60 candidates: the common word's chunks come too.
        wide = _names(search(s, EMB, query, top_k=10, candidates=60, stages=("fts",)))
        # As many candidates as matches: each is ranked once (the common word's matches are
        # told from the rare ones' already taken), so all eight fit.
        snug = _names(search(s, EMB, query, top_k=8, candidates=8, stages=("fts",)))
    assert sorted(wide) == ["bill"] * 5 + ["zoo"] * 3
    assert sorted(snug) == ["bill"] * 5 + ["zoo"] * 3


def test_a_question_of_common_words_only_is_matched_on_its_rarest(corpus):
    with corpus.engine.begin() as conn:
        conn.execute(text("INSERT INTO lexeme_frequencies (lexeme, chunks) VALUES "
                          "('invoic', 900), ('invoice', 900), ('plumber', 700)"))
    with corpus.session() as s:
        hits = search(s, EMB, "plumber invoice", top_k=10, candidates=60, stages=("fts",))
    assert sorted(_names(hits)) == ["bill"] * 5


def test_counts_are_estimated_from_the_chunks_and_refreshed_after_each_analyse(corpus):
    with corpus.engine.connect() as conn:
        conn.execute(text("ANALYZE chunks"))
        stored = refresh(conn, chunks=18, min_sampled=1)
        conn.commit()
        counts = dict(conn.execute(text("SELECT lexeme, chunks FROM lexeme_frequencies")).all())
    assert stored == len(counts)
    assert counts["quokka"] == 3 and counts["plumber"] == 5 and counts["garag"] == 10

    # Sampled since the last ANALYZE: nothing to do until PostgreSQL analyses the chunks again.
    assert refresh_if_stale(corpus, min_chunks=1) is False
    with corpus.engine.connect() as conn:
        conn.execute(text("ANALYZE chunks"))
        conn.commit()
    assert refresh_if_stale(corpus, min_chunks=1) is True
    assert refresh_if_stale(corpus, min_chunks=1) is False

    # An index below the size that needs counts keeps none.
    assert refresh_if_stale(corpus, min_chunks=10**6) is False
    with corpus.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM lexeme_frequencies")) == 0


def test_a_filtered_search_tests_the_rare_words_matches_against_the_filter(corpus, tmp_path: Path):
    """Source, kind and date filters: a few rare words' matches are found first and each tested
    against the filter (queries._fts_matches, mq.few); the rarest of common words' matches go
    through PostgreSQL's bitmaps as before. Either way only chunks that pass come back."""
    other = tmp_path / "archive"
    other.mkdir()
    for i in range(4):
        (other / f"zoo-old-{i}.txt").write_text(f"Old zoo visit {i}: a quokka and the plumber.")
    Pipeline(corpus, embedder=EMB, options=IngestOptions()).run(FolderSource("archive", other))
    _count_as_common(corpus, "invoic", "invoice")  # counts: the rare-first statement runs
    with corpus.engine.begin() as conn:  # "plumber" in every configuration, the rarest 'plumber'
        conn.execute(text(
            "INSERT INTO lexeme_frequencies (lexeme, chunks) SELECT DISTINCT lexeme, "
            "CASE WHEN lexeme = 'plumber' THEN 900 ELSE 950 END "
            "FROM unnest(to_tsvector('english', 'plumber') || to_tsvector('german', 'plumber') "
            "|| to_tsvector('simple', 'plumber'))"))
    only = {name: SearchFilters(sources=(name,)) for name in ("notes", "archive")}
    with corpus.session() as s:
        assert resolve_space(s, EMB).lexeme_counts
        # "quokka" is rare (mq.few): its matches are tested against the source one by one.
        notes = search(s, EMB, "quokka", filters=only["notes"], top_k=10, stages=("fts",))
        archive = search(s, EMB, "quokka", filters=only["archive"], top_k=10, stages=("fts",))
        # "plumber" and "invoice" are both counted common: the rarer, "plumber", is matched.
        common = search(s, EMB, "plumber invoice", filters=only["archive"], top_k=10,
                        stages=("fts",))
    assert sorted(_names(notes)) == ["zoo"] * 3
    assert sorted(Path(h.path).stem for h in archive) == [f"zoo-old-{i}" for i in range(4)]
    assert sorted(Path(h.path).stem for h in common) == [f"zoo-old-{i}" for i in range(4)]
