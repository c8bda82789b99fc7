"""One search on two connections at once, for a large index with a connection to spare.

The fused statement (app.retrieval.queries.hybrid_sql) runs its stages one after another in
one PostgreSQL backend, so a search uses one core however many the machine has. At 10^6
chunks on two cores the stages took comparable times (date filter, p50 ms alone: dense walk
22, sparse 26, full text 18; bench/README.md "Two connections"). Split:

    "first":      dense walk + full-text match and rank   -> ranked ids
    "shortlist":  sparse postings' shortlist              -> ids
    "final":      exact sparse scoring, fusion, rows      (given both), on this connection

The first two run at once, the longer of them (`first_here`) on the search's own connection,
whose transaction has its settings already, and the other on a second connection. What the
second costs before and after its statement (a thread's start, a checkout with its ping, the
settings, the rollback and return: ~2.3 ms mean at 10^6, its thread's start up to ~4 ms at p95
on two busy cores) then sits beside the longer statement, not after it. Its rows are handed
over before its connection is rolled back and returned.

The final statement is the same fusion over the same candidates, so the hits are the same as
the one statement's (tests/retrieval/test_parallel_search.py compares them). The other
connection sees committed rows only: searches run in sessions that have written nothing
(app.services.search), so both connections search the same index. The cost is a
second connection and two more statements, worth it only where the stages take milliseconds
and a core is idle: a small index keeps the one statement (its whole search is ~4 ms), and so
does a search while another is in flight (search_in_flight) or when the pool has no
connection to spare.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, text
from sqlalchemy.pool import QueuePool

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Below this many stored vectors a search runs as one statement: its stages take a few ms
# there, and the small-index search (~4 ms in all, bench/small_search.py) would pay the two
# extra statements and a second connection for nothing. bench/README.md "Two connections",
# side by side: at 10^6 the filtered p95 -14 to -24 %, at 10^5 no gain (p50 +1-2 ms, p95
# -1-3 ms).
PARALLEL_MIN_VECTORS = 200_000

Statement = tuple[str, Mapping[str, Any]]

# Searches running in this process. Only a search that runs alone splits: with others in
# flight the cores are busy already, and the split's extra statements cost throughput (8
# concurrent HTTP clients at 10^6: 17-18 searches/s with every search free to split against
# 20-21 without, bench/README.md "Two connections"). It also means at most one connection
# beyond one a search, so the pool is never pushed into its overflow or its wait.
_in_flight = 0
_in_flight_lock = threading.Lock()

# The other connection's half runs here: one thread, as one search splits at a time. It
# starts on the first split, not at import.
_other_half = ThreadPoolExecutor(max_workers=1, thread_name_prefix="homerag-search")


def spare_engine(session: Session) -> Engine | None:
    """The session's engine when its pool can hand out another connection within its size
    (an idle one, or a new one it then keeps), else None: a busy pool (a server under load,
    whose cores are busy anyway), a session bound to one connection, NullPool (a new
    connection each time costs more than the split saves)."""
    bind = session.get_bind()
    if not isinstance(bind, Engine) or not isinstance(bind.pool, QueuePool):
        return None
    pool = bind.pool
    return bind if pool.checkedin() > 0 or pool.checkedout() < pool.size() else None


@contextmanager
def search_in_flight(session: Session, *, splittable: bool) -> Iterator[Engine | None]:
    """Counts this search as in flight; yields the engine to split it over when it is
    `splittable`, the only search in flight, and the pool has a connection to spare
    (spare_engine), else None (run it as one statement)."""
    global _in_flight
    with _in_flight_lock:
        _in_flight += 1
        alone = _in_flight == 1
    try:
        yield spare_engine(session) if splittable and alone else None
    finally:
        with _in_flight_lock:
            _in_flight -= 1


def split_search(session: Session, engine: Engine, *, settings: Statement, first: Statement,
                 shortlist: Statement, final: Statement, first_here: bool) -> Sequence[Any]:
    """Run `first` and `shortlist` at once, one on `session` and the other on another
    connection of `engine` (after `settings`, its SET LOCALs): `first` on `session` when
    `first_here`. Then `final` on `session` given both (hybrid_sql's :given_* arrays).
    Returns the final statement's rows as mappings."""
    here, there = (first, shortlist) if first_here else (shortlist, first)
    delivered: Future[list[Any]] = Future()

    def run_there() -> None:
        try:
            with engine.connect() as conn:  # its transaction, and the SET LOCALs, end on exit
                conn.execute(text(settings[0]), dict(settings[1]))
                delivered.set_result(list(conn.execute(text(there[0]), dict(there[1])).all()))
        except BaseException as exc:
            # A failed checkout too: this search must not wait for rows that never come.
            # (Once the rows are handed over, a failure to return the connection is the
            # pool's to log.)
            if not delivered.done():
                delivered.set_exception(exc)
            raise

    pending = _other_half.submit(run_there)
    try:
        here_rows = list(session.execute(text(here[0]), dict(here[1])).all())
        there_rows = delivered.result()
    except BaseException:
        wait([pending])  # the other connection goes back to the pool before this one fails
        raise
    first_rows, shortlist_rows = (here_rows, there_rows) if first_here else (there_rows,
                                                                             here_rows)
    ranked: dict[str, list[int]] = {"dense": [], "fts": [], "pool": []}
    for src, chunk_id, _rank in sorted(first_rows, key=lambda r: (r[0], r[2], r[1])):
        ranked[src].append(int(chunk_id))
    given = {"given_dense": ranked["dense"], "given_fts": ranked["fts"],
             "given_pool": ranked["pool"], "given_shortlist": [row[0] for row in shortlist_rows]}
    return session.execute(text(final[0]), {**final[1], **given}).mappings().all()
