"""The filter keys in the full-text index beside the words: a chunk's date as its 32-day period
and its source.

A filtered full-text search is then one GIN scan, the question's words AND the periods a date
range touches or the sources named, instead of the words' GIN bitmap ANDed with a bitmap of
every chunk in the range or the source from their B-trees (one year or one source of twenty at
10^6 chunks: 50,000 rows, 3-5 ms on every such search; bench/README.md). The index:
app.core.models.core (migration 0014); the search, which still tests the exact range and source
on each row it finds: app.retrieval.queries.filter_sql.
"""

from __future__ import annotations

from datetime import date, timedelta

PERIOD_DAYS = 32
EPOCH = date(1900, 1, 1)
# A date range over more periods than this (~5.6 years) is left to the date's B-tree, or to
# no index, as the planner sees fit: its periods' entries would be much of the index.
MAX_PERIODS = 64


def source_key_sql(column: str) -> str:
    """A chunk's source as the one-element int array the index holds."""
    return f"ARRAY[{column}]"


def period_sql(column: str) -> str:
    """The period of a timestamptz column's UTC date, as the one-element int array the index
    holds (an expression PostgreSQL accepts as immutable). Written as PostgreSQL writes it
    back (pg_get_indexdef), so that `alembic check` finds the model and the index equal."""
    return (f"ARRAY[(({column} AT TIME ZONE 'UTC'::text)::date - "
            f"'{EPOCH.isoformat()}'::date) / {PERIOD_DAYS}]")


def periods(date_from: date | None, date_to: date | None) -> list[int]:
    """The periods a closed range of days touches, or [] for an open range or one of more than
    MAX_PERIODS. The periods are of UTC dates and a range's days are the session's time
    zone's, less than a day away: a day more on each side."""
    if date_from is None or date_to is None:
        return []
    first = (date_from - timedelta(days=1) - EPOCH).days // PERIOD_DAYS
    last = (date_to + timedelta(days=1) - EPOCH).days // PERIOD_DAYS
    return list(range(first, last + 1)) if last - first < MAX_PERIODS else []
