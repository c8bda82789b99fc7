"""A search split over two connections (app.retrieval.parallel) finds what the one statement
finds: the same hits, scores and stage ranks, with and without filters, on both full-text
paths; and it only splits when the pool has a connection to spare."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

import app.retrieval.parallel as parallel
from app.core.db import make_engine
from app.core.vectors import LEARNED_SPARSE_EMBEDDERS
from app.retrieval import EXACT_FILTERED_MAX_VECTORS, hybrid_search, resolve_space
from app.retrieval.types import SearchFilters
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources.folder import FolderSource

EMB = LexicalHashEmbedder()
BGE_M3 = sorted(LEARNED_SPARSE_EMBEDDERS)[0]
TRADES = ["boiler service", "bicycle repair", "window cleaning", "garden hedge", "roof gutter",
          "printer toner", "piano lessons", "dog walking", "tax advisor", "chimney sweep"]
QUERIES = ["chimney sweep invoice", "what did the piano lessons cost", "Rechnung Fenster EUR",
           "garden hedge and roof gutter", "Kubeda"]
FILTERS = {
    "none": SearchFilters(),
    "date": SearchFilters(date_from=date(2025, 3, 1), date_to=date(2025, 8, 31)),
    "kind": SearchFilters(kinds=("note",)),
    "source": SearchFilters(sources=("letters",)),
    "metadata": SearchFilters(metadata={"format": "markdown"}),
}


@pytest.fixture(scope="module")
def corpus(db, tmp_path_factory):
    """120 bills over 2025 in one source, 40 letters without dates in another."""
    from tests.conftest import truncate_all

    truncate_all(db)
    root = tmp_path_factory.mktemp("split")
    bills, letters = root / "bills", root / "letters"
    bills.mkdir()
    letters.mkdir()
    for i in range(120):
        who = "Kubeda lamps" if i == 7 else f"{TRADES[i % 10]} {i}"
        (bills / f"bill-{i:03d}.md").write_text(
            f"---\ndate: 2025-{1 + i % 12:02d}-{1 + i % 28:02d}\ntitle: bill {i}\n---\n"
            f"# Bill {i}\n\nInvoice from {who}: total {10 + i} EUR, due in 14 days. "
            f"Rechnung {TRADES[(i * 3) % 10]}.\n", encoding="utf-8")
    for i in range(40):
        (letters / f"letter-{i:02d}.txt").write_text(
            f"Dear neighbour, about the {TRADES[i % 10]} and the {TRADES[(i + 4) % 10]}: "
            f"Fenster und Garten, {i} EUR.\n", encoding="utf-8")
    pipeline = Pipeline(db, embedder=EMB, options=IngestOptions())
    pipeline.run(FolderSource("bills", bills))
    pipeline.run(FolderSource("letters", letters))
    with db.session() as s:
        # Every table, not the chunks only: autovacuum analysing the vectors between the two
        # searches of a comparison could move the dense stage from the graph to an exact scan.
        s.execute(text("ANALYZE"))
    yield db
    truncate_all(db)


def _run(db, query: str, filters: SearchFilters, *, split: bool, stages=("dense", "sparse", "fts"),
         lexeme_counts: bool = False, learned_sparse: bool = True):
    with db.session() as s:
        space = resolve_space(s, EMB)
        # As on an index too large to score filtered searches exactly at once; and (unless
        # told) as in a BGE-M3 space, whose unfiltered searches split (a lexical space's do
        # not, see below). Both ways of a comparison get the same space.
        space = replace(space, vectors=EXACT_FILTERED_MAX_VECTORS + 1, lexeme_counts=lexeme_counts,
                        embedder=BGE_M3 if learned_sparse else space.embedder)
        hits = hybrid_search(s, space, query, EMB.embed_query(query), filters=filters, top_k=10,
                             candidates=20, stages=stages, parallel=split)
    return [(h.chunk_id, round(h.score, 12), h.ranks) for h in hits]


@pytest.fixture
def splits(monkeypatch):
    """The searches that went through split_search: for each, how many searches were in
    flight in this process as it split (only a search alone may split)."""
    calls = []
    real = parallel.split_search

    def counting(*args, **kwargs):
        calls.append(parallel._in_flight)
        return real(*args, **kwargs)

    monkeypatch.setattr(parallel, "split_search", counting)
    return calls


@pytest.mark.parametrize("name", sorted(FILTERS))
@pytest.mark.parametrize("lexeme_counts", [False, True], ids=["statistics", "rare-first"])
def test_a_split_search_finds_what_the_one_statement_finds(corpus, splits, name, lexeme_counts):
    found = 0
    for query in QUERIES:
        one = _run(corpus, query, FILTERS[name], split=False, lexeme_counts=lexeme_counts)
        assert not splits
        two = _run(corpus, query, FILTERS[name], split=True, lexeme_counts=lexeme_counts)
        assert len(splits) == 1, "the split path did not run"
        splits.clear()
        assert two == one, (name, query)
        found += len(one)
    assert found > 0, f"no hits at all with filter {name}: the comparison proves nothing"


@pytest.mark.parametrize("stages", [("dense", "sparse"), ("sparse", "fts")])
def test_a_split_search_with_two_of_the_stages(corpus, splits, stages):
    for name in ("none", "date"):
        one = _run(corpus, "chimney sweep invoice", FILTERS[name], split=False, stages=stages)
        two = _run(corpus, "chimney sweep invoice", FILTERS[name], split=True, stages=stages)
        assert two == one and one, (stages, name)
    assert len(splits) == 2


def test_an_unfiltered_search_in_a_lexical_space_is_not_split(corpus, splits):
    """The lexical embedder posts every token: the shortlist is the best sums, ~1 ms, nothing
    to run beside; filtered, it is 2,000 sums tested against the filter, and splits."""
    for name, split in (("none", 0), ("date", 1)):
        one = _run(corpus, "chimney sweep", FILTERS[name], split=False, learned_sparse=False)
        assert _run(corpus, "chimney sweep", FILTERS[name], split=True,
                    learned_sparse=False) == one and one
        assert len(splits) == split
        splits.clear()


def test_a_search_without_the_sparse_stage_is_not_split(corpus, splits):
    assert _run(corpus, "chimney sweep", SearchFilters(), split=True, stages=("dense", "fts"))
    assert not splits


def test_a_small_index_is_not_split_unless_asked(corpus, splits):
    with corpus.session() as s:
        space = resolve_space(s, EMB)
        assert space.vectors < parallel.PARALLEL_MIN_VECTORS
        hybrid_search(s, space, "chimney sweep", EMB.embed_query("chimney sweep"))
    assert not splits


def test_only_a_pool_with_a_connection_to_spare_is_split(corpus):
    one = make_engine(corpus.url, pool_size=1, max_overflow=0)
    nullpool = make_engine(corpus.url, poolclass=NullPool)
    try:
        with Session(corpus.engine) as s:
            s.execute(text("SELECT 1"))
            assert parallel.spare_engine(s) is corpus.engine
        with Session(one) as s:
            assert parallel.spare_engine(s) is one  # its one connection is idle
            s.execute(text("SELECT 1"))  # now the session holds it
            assert parallel.spare_engine(s) is None
        with Session(nullpool) as s:
            assert parallel.spare_engine(s) is None
        with corpus.engine.connect() as conn, Session(bind=conn) as s:
            assert parallel.spare_engine(s) is None  # bound to one connection
    finally:
        one.dispose()
        nullpool.dispose()


@pytest.mark.parametrize("part", ["first", "shortlist"])
@pytest.mark.parametrize("name", ["none", "date"])  # unfiltered, "first" runs on the other
def test_a_failure_on_either_connection_is_raised_and_returns_the_other(corpus, monkeypatch,
                                                                       name, part):
    from sqlalchemy.exc import ProgrammingError

    real = parallel.split_search
    ran = []

    def broken(session, engine, **kw):
        ran.append(kw["first_here"])
        kw[part] = ("SELECT no_such_column FROM chunks", {})
        return real(session, engine, **kw)

    monkeypatch.setattr(parallel, "split_search", broken)
    before = corpus.engine.pool.checkedout()
    with pytest.raises(ProgrammingError, match="no_such_column"):
        _run(corpus, "chimney sweep", FILTERS[name], split=True)
    assert ran == [name == "date"]  # a date range runs "first" on the search's own connection
    assert corpus.engine.pool.checkedout() == before


def test_a_failed_checkout_of_the_other_connection_is_raised_not_waited_for(corpus, monkeypatch):
    import threading

    from sqlalchemy.exc import OperationalError

    real = parallel.split_search

    class Refusing:
        def connect(self):
            raise OperationalError("connect", {}, ConnectionRefusedError("no connection"))

    monkeypatch.setattr(parallel, "split_search",
                        lambda session, engine, **kw: real(session, Refusing(), **kw))
    failed: list[BaseException] = []

    def search() -> None:
        try:
            _run(corpus, "chimney sweep", FILTERS["date"], split=True)  # "first" runs here
        except Exception as exc:
            failed.append(exc)

    thread = threading.Thread(target=search, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the search waits for rows the other connection never read"
    assert len(failed) == 1 and isinstance(failed[0], OperationalError)


def test_a_search_while_another_is_in_flight_is_not_split(corpus, splits):
    """Another search in flight (held here through its counter): this one runs as one
    statement and still finds the same; alone again, it splits."""
    one = _run(corpus, "chimney sweep invoice", FILTERS["date"], split=False)
    with corpus.session() as other, parallel.search_in_flight(other, splittable=True) as engine:
        assert engine is corpus.engine  # the first in flight may split
        assert _run(corpus, "chimney sweep invoice", FILTERS["date"], split=True) == one
        assert not splits
    assert _run(corpus, "chimney sweep invoice", FILTERS["date"], split=True) == one
    assert len(splits) == 1
    assert parallel._in_flight == 0


def test_concurrent_searches_all_answer_as_the_one_statement_does(corpus, splits, monkeypatch):
    """A search alone splits; held inside its split, seven threads run every search three
    times meanwhile: none of them splits (another is in flight), each answer is the one
    statement's, and no more connections are out at any moment than one a search plus one
    (the one search that may split). Then the held search completes as the one statement
    would have."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import event

    expected = {(q, name): _run(corpus, q, FILTERS[name], split=False)
                for q in QUERIES for name in ("none", "date", "source")}
    lock, out, peak = threading.Lock(), [0], [0]

    def checkout(*_):
        with lock:
            out[0] += 1
            peak[0] = max(peak[0], out[0])

    def checkin(*_):
        with lock:
            out[0] -= 1

    entered, release = threading.Event(), threading.Event()
    counting = parallel.split_search  # the `splits` fixture's

    def held(*args, **kwargs):
        entered.set()
        assert release.wait(60)
        return counting(*args, **kwargs)

    monkeypatch.setattr(parallel, "split_search", held)
    first = ("chimney sweep invoice", "date")
    pool = corpus.engine.pool
    event.listen(pool, "checkout", checkout)
    event.listen(pool, "checkin", checkin)
    try:
        with ThreadPoolExecutor(8) as threads:
            alone = threads.submit(_run, corpus, first[0], FILTERS[first[1]], split=True)
            assert entered.wait(60)
            others = list(threads.map(
                lambda key: (key, _run(corpus, key[0], FILTERS[key[1]], split=True)),
                list(expected) * 3))
            release.set()
            held_result = alone.result(timeout=60)
    finally:
        release.set()
        event.remove(pool, "checkout", checkout)
        event.remove(pool, "checkin", checkin)
    assert all(got == expected[key] for key, got in others)
    assert held_result == expected[first]
    assert splits == [1]  # the held search alone, with one search in flight: itself
    assert 3 <= peak[0] <= 8 + 1  # they did overlap, within one connection a search plus one
    assert parallel._in_flight == 0
