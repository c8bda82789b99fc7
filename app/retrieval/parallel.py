"""One search on two connections at once, for a large index with a connection to spare.

The fused statement (app.retrieval.queries.hybrid_sql) runs its stages one after another in
one PostgreSQL backend, so a search uses one core however many the machine has. At 10^6
chunks on two cores the stages took comparable times (date filter, p50 ms alone: dense walk
22, sparse 26, full text 18; bench/README.md "Two connections"). Split:

    other connection:  dense walk + full-text match and rank   -> ranked ids ("first")
    this connection:   sparse postings' shortlist              -> ids
    this connection:   exact sparse scoring, fusion, rows      ("final", given both)

The final statement is the same fusion over the same candidates, so the hits are the same as
the one statement's (tests/retrieval/test_parallel_search.py compares them). The cost is a
second connection and two more round trips, worth it only where the stages take milliseconds:
a small index keeps the one statement (its whole search is ~4 ms), and so does a search that
finds no idle connection in the pool (under load every core is busy anyway, and opening a
connection costs more than the split saves).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, text
from sqlalchemy.pool import QueuePool

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Below this many stored vectors a search runs as one statement: its stages take a few ms
# there, and the small-index search (~4 ms in all, bench/small_search.py) would pay the two
# extra round trips and a second connection for nothing. Measured at 10^6 only (bench/README.md
# "Two connections": p95 -10 to -18 % side by side, the same hits).
PARALLEL_MIN_VECTORS = 200_000

# At most this many searches split at once, each holding one connection more than it would
# otherwise: several requests that each saw a free connection at the same moment must not
# together push the pool into its overflow or its wait (app.core.db.POOL_SIZE 5).
MAX_SPLITS = 2

Statement = tuple[str, Mapping[str, Any]]
_splits = threading.BoundedSemaphore(MAX_SPLITS)

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _executor_for_searches() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="homerag-search")
        return _executor


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
def split_slot(session: Session) -> Iterator[Engine | None]:
    """The engine to split this search over (spare_engine) while one of the MAX_SPLITS slots
    is free, else None (run it as one statement)."""
    engine = spare_engine(session)
    if engine is None or not _splits.acquire(blocking=False):
        yield None
        return
    try:
        yield engine
    finally:
        _splits.release()


def split_search(session: Session, engine: Engine, *, settings: Statement, first: Statement,
                 shortlist: Statement, final: Statement) -> Sequence[Any]:
    """Run `first` on another connection of `engine` (after `settings`, its SET LOCALs) while
    `shortlist` runs on `session`, then `final` on `session` given both (hybrid_sql's
    :given_* arrays). Returns the final statement's rows as mappings."""
    def run_first() -> list[Any]:
        with engine.connect() as conn:  # its transaction, and the SET LOCALs, end on exit
            conn.execute(text(settings[0]), dict(settings[1]))
            return list(conn.execute(text(first[0]), dict(first[1])).all())

    pending = _executor_for_searches().submit(run_first)
    try:
        shortlisted = [row[0] for row in session.execute(text(shortlist[0]), dict(shortlist[1]))]
    except BaseException:
        wait([pending])  # the other connection goes back to the pool before this one fails
        raise
    ranked: dict[str, list[int]] = {"dense": [], "fts": [], "pool": []}
    for src, chunk_id, _rank in sorted(pending.result(), key=lambda r: (r[0], r[2], r[1])):
        ranked[src].append(int(chunk_id))
    given = {"given_dense": ranked["dense"], "given_fts": ranked["fts"],
             "given_pool": ranked["pool"], "given_shortlist": shortlisted}
    return session.execute(text(final[0]), {**final[1], **given}).mappings().all()
