"""Hybrid retrieval as one SQL statement: dense (HNSW) + sparse (inverted index of postings) +
full-text candidates, fused by reciprocal rank fusion inside PostgreSQL.

Space id and dimensions are inlined as integers (they come from our own table): the planner
must see `space_id = <n>` literally to use that space's partial HNSW index, and a typmod such
as `halfvec(1024)` cannot be a bind parameter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from app.core.fts_keys import period_sql, periods, source_key_sql
from app.core.vectors import posting_share, prune_sparse
from app.retrieval.quality import weight_sql
from app.retrieval.types import SearchFilters

STAGES = ("dense", "sparse", "fts")
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_FTS_TERMS = 32
# At most this many full-text matches are ranked per query (see hybrid_sql). Ranking costs
# ~10 us a row at 100k chunks; 500 keeps the stage near 5 ms while leaving eight times the
# 60 candidates a stage contributes (1,000 measured 12 ms on natural-language questions).
FTS_POOL = 500
# The sparse stage (sparse_sql): per query token, its heaviest postings (at most this many),
# summed per chunk; the best SPARSE_SHORTLIST chunks are re-scored with their whole stored
# vectors. bench/search_scale.py at 10^6 chunks, recall@10 of the stage against exact sparse
# scoring: 300 postings a token 0.63, 1,000 0.86, 3,000 0.94, 10,000 0.975 (p95 10 ms),
# 30,000 0.98 (p95 16 ms). At 10^4 chunks no token has that many postings: recall 0.995.
SPARSE_PER_TOKEN = 10_000
SPARSE_SHORTLIST = 500
# With a filter the shortlist is taken before the filter applies, so it is longer.
SPARSE_SHORTLIST_FILTERED = 2000
# A question's heaviest tokens searched (each reads up to SPARSE_PER_TOKEN postings); a
# question rarely has more, a pasted paragraph would.
MAX_QUERY_TOKENS = 16

# The question's lexemes that PostgreSQL's statistics on chunks.tsv (most common elements and
# their row fractions, refreshed by ANALYZE) say alone match more rows than the ranking pool.
_COMMON_BY_STATISTICS = """(
    SELECT coalesce(array_agg(u.e), '{}')
    FROM pg_stats st, pg_class pc,
         unnest(st.most_common_elems::text::text[], st.most_common_elem_freqs) AS u(e, f)
    WHERE st.schemaname = current_schema() AND st.tablename = 'chunks'
      AND st.attname = 'tsv' AND pc.oid = 'chunks'::regclass
      AND u.e IS NOT NULL AND u.f * pc.reltuples > :fts_pool)::text[]"""
_LEXEMES = """SELECT DISTINCT replace(m[1], '''''', '''') AS lexeme
        FROM q, regexp_matches(q.q::text, '''((?:[^'']|'''')+)''', 'g') AS m"""

# The full-text match query `mq.q`: the lexemes of `q` without those common by statistics,
# OR-ed; the whole `q` when every lexeme is that common or there are no statistics yet. An
# index too small for any lexeme to pass the pool (every test corpus) matches exactly as `q`.
MATCH_QUERY_SQL = f"""mq AS (
  SELECT coalesce((
    SELECT to_tsquery('simple', string_agg(quote_literal(l.lexeme), ' | '))
    FROM ({_LEXEMES}) l
    WHERE NOT l.lexeme = ANY ({_COMMON_BY_STATISTICS})
  ), (SELECT q FROM q)) AS q)"""

# With lexeme_frequencies (an index of MIN_CHUNKS or more, ingest/lexeme_stats.py), rare
# first: PostgreSQL keeps the 1,000 most common lexemes only, at 10^6 chunks those in more than
# 1.45 % of them, so a word in 5,000 chunks passed as rare. From the question's lexemes that
# the counts put in at most :fts_pool * 20 chunks (a commoner one could never be matched below;
# the counts replace the statistics' list here, whose lookup was ~0.8 ms of every search):
#   - mq.rare, OR-ed: those lexeme_frequencies counts in at most :fts_pool chunks or does not
#     list; if none, the one it counts in the fewest; mq.few: whether there were any, in at
#     most :fts_pool * 8 counted chunks together (their matches are few enough to test one by
#     one against a filter, _fts_matches);
#   - mq.q, OR-ed: those and the next rarest, up to :fts_pool * 20 counted matches together
#     (the whole `q` when there are no lexemes left); mq.wider: whether it holds more than
#     mq.rare. Rows are matched on mq.rare first, on mq.q only if too few (_fts_matches).
RARE_FIRST_SQL = f"""lex AS MATERIALIZED (
  SELECT l.lexeme, lf.chunks
  FROM ({_LEXEMES}) l
  LEFT JOIN lexeme_frequencies lf ON lf.lexeme = l.lexeme
  WHERE coalesce(lf.chunks, 0) <= :fts_pool * 20),
lex_rare AS MATERIALIZED (
  SELECT lexeme FROM lex WHERE coalesce(chunks, 0) <= :fts_pool
  UNION ALL
  (SELECT lexeme FROM lex
   WHERE NOT EXISTS (SELECT 1 FROM lex WHERE coalesce(chunks, 0) <= :fts_pool)
   ORDER BY chunks, lexeme LIMIT 1)),
lex_wide AS MATERIALIZED (
  SELECT lexeme FROM lex_rare
  UNION
  SELECT lexeme FROM (
    SELECT lexeme, sum(coalesce(chunks, 0)) OVER (ORDER BY coalesce(chunks, 0), lexeme) AS total
    FROM lex) x
  WHERE total <= :fts_pool * 20),
mq AS MATERIALIZED (
  SELECT CASE WHEN EXISTS (SELECT 1 FROM lex)
              THEN (SELECT to_tsquery('simple', string_agg(quote_literal(lexeme), ' | '))
                    FROM lex_wide)
              ELSE (SELECT q FROM q) END AS q,
         (SELECT to_tsquery('simple', string_agg(quote_literal(lexeme), ' | '))
          FROM lex_rare) AS rare,
         (SELECT count(*) FROM lex_wide) > (SELECT count(*) FROM lex_rare)
           OR NOT EXISTS (SELECT 1 FROM lex) AS wider,
         (SELECT count(*) > 0 AND sum(coalesce(chunks, 0)) <= :fts_pool * 8
          FROM lex WHERE coalesce(chunks, 0) <= :fts_pool) AS few)"""


# The question's heaviest tokens and their weights (:qt, :qw, `query_tokens`), as rows.
QUERY_TOKENS_CTE = """qtok AS (
  SELECT token, w FROM unnest(CAST(:qt AS int4[]), CAST(:qw AS real[])) AS t(token, w))"""


@dataclass(frozen=True, slots=True)
class SpaceRef:
    id: int
    dim: int
    sparse_dim: int
    vectors: float = -1  # stored vectors, the planner's estimate (-1: not yet analysed)
    embedder: str = ""  # its embedder's name (decides what its postings hold)
    lexeme_counts: bool = False  # lexeme_frequencies holds counts (full text: rare first)


def query_tokens(weights: Mapping[int, float]) -> dict[str, list[Any]]:
    """:qt and :qw, the question's MAX_QUERY_TOKENS heaviest positive tokens and weights."""
    best = prune_sparse(weights, limit=MAX_QUERY_TOKENS)
    return {"qt": list(best), "qw": list(best.values())}


def fts_terms(query: str, stopwords: frozenset[str]) -> list[str]:
    """Words for an OR-query; stopwords dropped (the 'simple' configuration keeps them)."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query.lower()):
        if word in stopwords or (len(word) < 2 and not word.isdigit()):
            continue
        seen.setdefault(word, None)
    return list(seen)[:MAX_FTS_TERMS]


def filter_sql(filters: SearchFilters, params: dict[str, Any], *,
               full_text: bool = False) -> tuple[str, str]:
    """(JOIN clauses, WHERE conditions) over chunks c; documents d and parents p are joined
    only for named documents and metadata. Source, kind and date are the chunk's own copies of
    its document's (migration 0012): a candidate is tested on the row already fetched.

    `full_text`: the conditions for the full-text stage, which finds a source's or a closed
    date range's chunks through the keys in its own index (app.core.fts_keys) and tests the
    exact source and range on the rows found: one GIN scan where the words' bitmap was ANDed
    with a 50,000-row bitmap of the source's or the range's B-tree (10^6 chunks, 3-5 ms;
    bench/README.md). The B-tree conditions are then written so that the planner cannot AND
    those bitmaps in as well (`+ 0`, `+ interval '0 s'`: it did). Only there: the vector
    stages test candidates they already hold, and with the keys there the planner hash-joined
    the dense walk with the source's chunks at 10^5, where the walk had stopped at the first
    :cand that pass (dense stage 6 -> 23 ms)."""
    joins: list[str] = []
    where: list[str] = []
    if filters.source_kinds or filters.sources:
        among: list[str] = []
        if filters.sources:
            params["f_sources"] = list(filters.sources)
            among.append("s.name = ANY(:f_sources)")
        if filters.source_kinds:
            params["f_skinds"] = list(filters.source_kinds)
            among.append("s.kind = ANY(:f_skinds)")
        ids = f"ARRAY(SELECT s.id FROM sources s WHERE {' AND '.join(among)})"
        where.append(f"(c.source_id + 0) = ANY({ids}) AND {source_key_sql('c.source_id')} && {ids}"
                     if full_text else f"c.source_id = ANY({ids})")
    if filters.kinds:
        params["f_kinds"] = list(filters.kinds)
        where.append("c.kind = ANY(:f_kinds)")
    touched = periods(filters.date_from, filters.date_to) if full_text else []
    at = "(c.occurred_at + interval '0 s')" if touched else "c.occurred_at"
    if filters.date_from:
        params["f_from"] = filters.date_from
        where.append(f"{at} >= CAST(:f_from AS date)")
    if filters.date_to:
        params["f_to"] = filters.date_to + timedelta(days=1)
        where.append(f"{at} < CAST(:f_to AS date)")
    if touched:
        params["f_periods"] = touched
        where.append(f"{period_sql('c.occurred_at')} && CAST(:f_periods AS int4[])")
    if filters.document_ids or filters.metadata:
        joins.append("JOIN documents d ON d.id = c.document_id")
    if filters.document_ids:
        params["f_docs"] = list(filters.document_ids)
        where.append("(d.id = ANY(:f_docs) OR d.parent_id = ANY(:f_docs))")
    if filters.metadata:
        joins.append("LEFT JOIN documents p ON p.id = d.parent_id")
        for i, (key, value) in enumerate(sorted(filters.metadata.items())):
            params[f"f_mk{i}"] = key
            # An attachment matches through the message it came in.
            if isinstance(value, bool):
                params[f"f_mv{i}"] = "true" if value else "false"
                cond = (f"coalesce(d.metadata->>:f_mk{i}, p.metadata->>:f_mk{i}, 'false') "
                        f"= :f_mv{i}")
            else:
                params[f"f_mv{i}"] = f"%{_like_escape(str(value))}%"
                cond = (f"(d.metadata->>:f_mk{i} ILIKE :f_mv{i} "
                        f"OR p.metadata->>:f_mk{i} ILIKE :f_mv{i})")
            where.append(cond)
    return " ".join(joins), (" AND " + " AND ".join(where)) if where else ""


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _nearest(dist: str, src: str, where: str) -> str:
    """The :cand rows nearest by `dist` (chunk_id, dist), through the HNSW index on `dist`."""
    return (f"SELECT ce.chunk_id, {dist} AS dist FROM {src} WHERE {where} "
            f"ORDER BY {dist} LIMIT :cand")


def sparse_sql(dist: str, sid: int, *, filtered: bool,
               dense: bool, fts: bool, every_token: bool = False,
               joins: str = "", filter_where: str = "", shortlist: str | None = None) -> str:
    """The :cand chunks nearest by the sparse distance `dist`, found through sparse_postings.

    Each of the question's tokens (:qt, weights :qw) reads its heaviest postings off the
    space's (token, weight DESC) B-tree, index-only; their weighted sum ranks the chunks, and
    the shortlist is scored exactly with the whole sparse vector (postings keep only a chunk's
    heavier tokens, app.core.vectors.POSTING_MIN_SHARE), with the dense and full-text
    candidates. Filtered (`joins`, `filter_where`: filter_sql's), see _filtered_shortlist.

    Why not an HNSW graph on the sparse vectors (homerag's first design): a question's vector
    has a dozen non-zeros and shares none with most chunks (inner product 0), so the greedy
    walk starts on a plateau; its top 10 agreed with exact scoring on 0.33-0.6 of its rows.

    `shortlist`: the posting sums' shortlist given as a SELECT of chunk ids (a split search
    took it on another connection, app.retrieval.parallel), instead of taking it here.
    """
    pools = [shortlist or sparse_shortlist_sql(sid, filtered=filtered, every_token=every_token,
                                               joins=joins, filter_where=filter_where)]
    # The other stages' candidates are scored too (60 rows each by primary key, ~2 ms): a
    # chunk both find gets its exact sparse rank although its matching tokens were too light
    # to be posted, as exact scoring would give it (recall@10 of the fused top 10 at 10^4
    # chunks: 0.935 without, see bench/README.md). Filtered, all the full-text matches ranked.
    pools += (["SELECT chunk_id FROM dense"] if dense else []) + (
        [f"SELECT {'id FROM fts_pool' if filtered else 'chunk_id FROM fts'}"] if fts else [])
    union = " UNION ".join(f"({p})" for p in pools)
    # Every pool passed the filters already (the shortlist just above, the dense walk and the
    # full-text pool each apply them): the vectors alone are read.
    return (f"SELECT ce.chunk_id, {dist} AS dist FROM chunk_embeddings ce "
            f"WHERE ce.space_id = {sid} AND ce.chunk_id IN ({union}) "
            f"ORDER BY {dist}, ce.chunk_id LIMIT :cand")


def sparse_shortlist_sql(sid: int, *, filtered: bool, every_token: bool = False,
                         joins: str = "", filter_where: str = "") -> str:
    """The chunk ids of the sparse stage's shortlist: the highest sums of the question's
    tokens' (CTE qtok) heaviest postings; filtered, of those that pass the filters."""
    shortlist: int | str = SPARSE_SHORTLIST_FILTERED if filtered else SPARSE_SHORTLIST
    if every_token and not filtered:
        # Every token is posted (app.core.vectors.posting_share): the sums are the exact
        # scores, so the shortlist needs no room for re-ordering (a 4,400-chunk index: the
        # stage 2.9 -> ~1 ms).
        shortlist = ":cand"
    summed = f"""SELECT p.chunk_id, sum(qtok.w * p.weight) AS s FROM qtok CROSS JOIN LATERAL (
        SELECT sp.chunk_id, sp.weight FROM sparse_postings sp
        WHERE sp.space_id = {sid} AND sp.token = qtok.token
        ORDER BY sp.weight DESC LIMIT {SPARSE_PER_TOKEN}) p
      GROUP BY p.chunk_id ORDER BY s DESC, p.chunk_id LIMIT {shortlist}"""
    return (_filtered_shortlist(summed, joins, filter_where) if filtered
            else f"SELECT chunk_id FROM ({summed}) sh")


def _filtered_shortlist(summed: str, joins: str, where: str) -> str:
    """The SPARSE_SHORTLIST chunks with the highest posting sums among those that pass the
    filters, looked for among the SPARSE_SHORTLIST_FILTERED highest of the whole space.

    The sums come sorted; each chunk is tested in that order and the walk stops once enough
    pass. Speed (10^6 chunks, bench/README.md): a shortlist filtered only after it was taken
    fetched and scored every one of its 2,000 vectors' whole sparse vector whether it passed or
    not, and a filter that most of them pass (a source the question is about) scored ~2,000.
    Now at most SPARSE_SHORTLIST are scored; a selective filter (5 % pass) keeps ~100 as before.
    """
    return (f"SELECT c.id FROM ({summed}) sh JOIN chunks c ON c.id = sh.chunk_id {joins} "
            f"WHERE true{where} ORDER BY sh.s DESC, sh.chunk_id LIMIT {SPARSE_SHORTLIST}")


def _filtered_walk(dist: str, sid: int, joins: str, where: str, *, walk: int) -> str:
    """The :cand rows nearest by `dist` that pass the filters, among the `walk` nearest of the
    whole space (the HNSW graph walked without the filter, iterative scan on; the caller falls
    back to exact scoring when fewer than top_k pass).

    Why not the filter inside the scan: the planner then weighs the graph walk against scoring
    every filtered row, and with a misjudged filter chose the latter. One source of twenty at
    10^6 chunks was estimated at 7,700 rows, had 50,000, and the dense stage took 380 ms instead
    of ~15. A filter the walk does not satisfy is a selective one, which exact scoring handles
    fast.
    """
    return (f"SELECT ce.chunk_id, ce.dist FROM (SELECT ce.chunk_id, {dist} AS dist "
            f"FROM chunk_embeddings ce WHERE ce.space_id = {sid} ORDER BY {dist} LIMIT {int(walk)}"
            f") ce JOIN chunks c ON c.id = ce.chunk_id {joins} WHERE true{where} "
            f"ORDER BY ce.dist, ce.chunk_id LIMIT :cand")


def _exact_nearest(column: str) -> str:
    """The :cand rows of the `scored` CTE nearest by one of its distance columns (no index)."""
    return f"SELECT chunk_id, {column} AS dist FROM scored ORDER BY {column}, chunk_id LIMIT :cand"


def _fts_matches(joins: str, where: str, *, metadata: bool,
                 in_index: bool = False) -> tuple[str, str]:
    """The chunks that match the question's rare lexemes (mq.rare) and pass the filters; and
    those that match its other lexemes (mq.q), which hybrid_sql reads only when the first were
    fewer than the candidates (fts_rare then holds every rare match that passes: the other
    matches are told from them by id, where testing the tsvector again detoasted it a second
    time, ~1.5 ms of a date-filtered search at 10^6 chunks).

    Speed (10^6 chunks, bench/README.md): the GIN bitmap of the words in a few thousand chunks
    each, which PostgreSQL's statistics took for rare, was half of the stage. Relevance: the
    pool is the first :fts_pool matches in the table's order, and the chunks with the
    question's rarest words were a few among ~20,000 matches; unfiltered, the chunk a synthetic
    question was made from reached the full-text top 10 for 5 of 60 questions, and for 50 of
    60 rare-first.

    Filtered on the chunk's own columns (source, kind, date), the rare lexemes' matches are
    tested against the filter row by row when each of them is rare (mq.few): PostgreSQL, which
    cannot know how few they are before the search runs, ANDed their GIN bitmap (1,000-2,000
    rows at 10^6 chunks) with the filter's B-tree bitmap, and for a one-year date range (50,000
    rows) that bitmap alone took ~3.8 ms. The rarest lexeme taken when none is rare, or rare
    ones counted in more than 4,000 chunks together (mq.few false: a long question), may match
    thousands: their bitmap is ANDed with the filter's as before. A filter the full-text index
    answers itself (`in_index`: a source, a closed date range; filter_sql) needs neither: one
    scan returns the matches that pass it.
    """
    if where and not joins and not in_index:  # kind: no documents joined
        few = _fts_branch("mq.few AND c.tsv @@ mq.rare", joins, where, match_first=True)
        many = _fts_branch("NOT mq.few AND c.tsv @@ mq.rare", joins, where, match_first=False)
        rare = f"({few}) UNION ALL ({many})"
    else:
        rare = _fts_branch("c.tsv @@ mq.rare", joins, where, match_first=metadata)
    return (rare,
            _fts_branch("mq.wider AND c.tsv @@ mq.q AND c.id NOT IN (SELECT id FROM fts_rare)",
                        joins, where, match_first=metadata))


def _fts_branch(match: str, joins: str, where: str, *, match_first: bool) -> str:
    """The chunks for which `match` holds and that pass the filters; `match_first`: the
    matches found first, then each tested against the filters (OFFSET 0 keeps the planner from
    merging the two), for a metadata filter and for a few rare lexemes' matches
    (_fts_matches)."""
    if match_first:
        # A metadata filter, planned by PostgreSQL: from the documents to their chunks it
        # tested the tsvector of every chunk of 8,400 documents for 500 matches, 171 ms at
        # 10^6 chunks. Named documents are few: from them to their chunks stays the planner's.
        return (f"SELECT c.id, c.tsv FROM (SELECT c.id, c.tsv, c.document_id, c.source_id, "
                f"c.kind, c.occurred_at FROM mq, chunks c WHERE {match} OFFSET 0) c "
                f"{joins} WHERE true{where}")
    # Source, kind and date are on the chunk: PostgreSQL ANDs the GIN bitmap with the source's
    # or the date's B-tree and reads only the chunks that pass both (10^6 chunks, one source of
    # twenty: 10,361 chunks read for 500 matches before, 500 now).
    return f"SELECT c.id, c.tsv FROM mq, chunks c {joins} WHERE {match}{where}"


def hybrid_sql(space: SpaceRef, *, stages: Sequence[str], filters: SearchFilters,
               candidates: int, top_k: int, rrf_k: int, has_terms: bool,
               weights: Mapping[str, float] | None = None,
               exact: bool = False, fts_pool: int = FTS_POOL,
               ocr_weighting: bool = True,
               filtered_walk: int = 1000, part: str = "whole") -> tuple[str, dict[str, Any]]:
    """The statement and its parameters (plus :qd, :qs, :terms supplied by the caller).

    `exact` scores dense and sparse candidates exactly over the rows the filters leave, without
    the HNSW indexes (the fallback when a filtered index scan comes up short). `fts_pool` caps
    the full-text matches that are ranked (see MATCH_QUERY_SQL). `ocr_weighting` False ranks
    badly OCRed passages like any other (for comparisons). `filtered_walk`: how far a filtered
    search walks the dense graph (see _filtered_walk). The caller supplies :qd and :qs
    (the question's vectors) and, for the sparse stage, :qt and :qw (its heaviest tokens and
    their weights, `query_tokens`).

    `part` splits the statement for a search run on two connections at once
    (app.retrieval.parallel): "first", the dense and full-text stages' ranked chunk ids
    (src 'dense' / 'fts', and 'pool', the full-text matches the filtered sparse stage scores);
    "final", the rest, given those as :given_dense, :given_fts, :given_pool and the sparse
    shortlist (sparse_shortlist_statement) as :given_shortlist, all bigint arrays in rank
    order. "whole", the default, is the one statement.
    """
    if part not in ("whole", "first", "final"):
        raise ValueError(f"unknown part {part!r}")
    given = part == "final"
    params: dict[str, Any] = {"cand": candidates, "top_k": top_k, "rrf_k": rrf_k}
    joins, where = filter_sql(filters, params)
    filtered = not filters.is_empty
    sid, dim, vocab = int(space.id), int(space.dim), int(space.sparse_dim)
    src = (f"chunk_embeddings ce JOIN chunks c ON c.id = ce.chunk_id {joins}"
           if filtered else "chunk_embeddings ce")
    ctes: list[str] = []
    unions: list[str] = []
    weights = weights or {}
    dense_dist = f"(ce.dense::halfvec({dim})) <#> CAST(:qd AS halfvec({dim}))"
    sparse_dist = f"(ce.sparse::sparsevec({vocab})) <#> CAST(:qs AS sparsevec({vocab}))"
    vector_where = f"ce.space_id = {sid}{where}"
    if exact and {"dense", "sparse"} & set(stages):
        # One pass over the filtered rows scores both (the joins that apply the filters are
        # most of the cost); MATERIALIZED keeps the planner from repeating it per stage.
        ctes.append(f"""scored AS MATERIALIZED (
  SELECT ce.chunk_id, {dense_dist} AS dd, {sparse_dist} AS sd FROM {src} WHERE {vector_where})""")
    if "dense" in stages and given:
        ctes.append(_given_ranks("dense"))
    elif "dense" in stages:
        if exact:
            nearest = _exact_nearest("dd")
        elif filtered:
            nearest = _filtered_walk(dense_dist, sid, joins, where, walk=filtered_walk)
        else:
            nearest = _nearest(dense_dist, src, vector_where)
        ctes.append(f"""dense AS (
  SELECT chunk_id, row_number() OVER (ORDER BY dist, chunk_id) AS rank FROM (
    {nearest}) x)""")
    if "dense" in stages:
        params["w_dense"] = float(weights.get("dense", 1.0))
        unions.append("SELECT chunk_id, rank, 'dense' AS src, :w_dense AS w FROM dense")
    fts_on = "fts" in stages and has_terms
    if fts_on and given:
        ctes.append(_given_ranks("fts"))
        if filtered and "sparse" in stages:
            ctes.append("fts_pool AS (SELECT unnest(CAST(:given_pool AS int8[])) AS id)")
    elif fts_on:
        ctes.append("""q AS (
  SELECT to_tsquery('english', :terms) || to_tsquery('german', :terms)
         || to_tsquery('simple', :terms_simple) AS q)""")
        # Speed (bench/README.md): ranking detoasts every matching tsvector (~1 µs a row),
        # and an OR with a word found in most chunks ("eur", "vertrag") matched nearly the
        # whole table: 0.5 s at 100k chunks. So rows are matched on the query's selective
        # lexemes (MATCH_QUERY_SQL), ranked with the whole query, and at most :fts_pool
        # matches are ranked at all. The documents join is only there when a filter needs it.
        # ts_rank, not ts_rank_cd: cover density cost ~3 µs more a row (1.6 ms of the ~3 ms
        # the stage took on a 4,400-chunk index) and ranked worse on bench/eval_quality.py
        # (2,000 documents, 320 questions, seeds 1 and 2: full-text MRR@10 0.57/0.61 -> 0.78/
        # 0.79, hybrid 0.80/0.81 -> 0.90/0.90).
        params["fts_pool"] = int(fts_pool)
        metadata = bool(joins) and not filters.document_ids
        fts_where = filter_sql(filters, params, full_text=True)[1]
        if space.lexeme_counts:
            ctes.append(RARE_FIRST_SQL)
            rare, wider = _fts_matches(joins, fts_where, metadata=metadata,
                                       in_index=fts_where != where)
            ctes.append(f"""fts_rare AS MATERIALIZED ({rare} LIMIT :fts_pool)""")
            ctes.append(f"""fts_pool AS MATERIALIZED (
  SELECT id, tsv FROM fts_rare
  UNION ALL
  (SELECT id, tsv FROM ({wider}) w WHERE (SELECT count(*) FROM fts_rare) < :cand
   LIMIT :fts_pool - (SELECT count(*) FROM fts_rare)))""")
        else:
            # Fewer statements' worth of planning and CTEs than rare-first (~0.4 ms of backend
            # CPU a search on a 4,400-chunk index, bench/small_search.py) where it cannot help.
            ctes.append(MATCH_QUERY_SQL)
            ctes.append(f"""fts_pool AS MATERIALIZED (
  {_fts_branch("c.tsv @@ mq.q", joins, fts_where, match_first=metadata)} LIMIT :fts_pool)""")
        ctes.append("""fts AS (
  SELECT chunk_id, row_number() OVER (ORDER BY r DESC, chunk_id) AS rank FROM (
    SELECT p.id AS chunk_id, ts_rank(p.tsv, q.q) AS r
    FROM q, fts_pool p
    ORDER BY r DESC, p.id LIMIT :cand) x)""")
    if fts_on:
        params["w_fts"] = float(weights.get("fts", 1.0))
        unions.append("SELECT chunk_id, rank, 'fts' AS src, :w_fts AS w FROM fts")
    if part == "first":
        return _inline_ints(_first_part(ctes, dense="dense" in stages, fts=fts_on,
                                        pool=fts_on and filtered and "sparse" in stages), params)
    if "sparse" in stages:
        if exact:
            nearest = _exact_nearest("sd")
        elif given:
            nearest = sparse_sql(sparse_dist, sid, filtered=filtered,
                                 dense="dense" in stages, fts=fts_on,
                                 shortlist="SELECT unnest(CAST(:given_shortlist AS int8[]))")
        else:
            ctes.append(QUERY_TOKENS_CTE)
            nearest = sparse_sql(sparse_dist, sid, filtered=filtered,
                                 dense="dense" in stages, fts=fts_on,
                                 every_token=posting_share(space.embedder) == 0,
                                 joins=joins, filter_where=where)
        ctes.append(f"""sparse AS (
  SELECT chunk_id, row_number() OVER (ORDER BY dist, chunk_id) AS rank FROM (
    {nearest}) x
  WHERE dist < 0)""")  # inner product 0: no shared token, not a candidate
        params["w_sparse"] = float(weights.get("sparse", 1.0))
        unions.append("SELECT chunk_id, rank, 'sparse' AS src, :w_sparse AS w FROM sparse")
    if not unions:
        raise ValueError("no retrieval stage enabled")
    # The fused score is multiplied by the passage's OCR weight (app/retrieval/quality.py): at
    # most 3 x :cand rows are joined to chunks for it, by primary key. A document whose chunks
    # still wait for vectors in this space (the embedding queue, ingest/queue.py) is left out
    # whole, so it appears once complete (full text would otherwise find it half-embedded).
    sql = f"""WITH {", ".join(ctes)},
rrf AS (
  SELECT chunk_id, sum(w / (:rrf_k + rank)) AS score, min(rank) AS best,
         jsonb_object_agg(src, rank) AS ranks
  FROM ({" UNION ALL ".join(unions)}) u
  GROUP BY chunk_id),
fused AS (
  SELECT r.chunk_id, r.score * {weight_sql("c.metadata") if ocr_weighting else "1.0"} AS score,
         r.best, r.ranks
  FROM rrf r JOIN chunks c ON c.id = r.chunk_id
  WHERE NOT EXISTS (SELECT 1 FROM embedding_pending ep
                    WHERE ep.document_id = c.document_id AND ep.space_id = {sid})
  ORDER BY score DESC, best, chunk_id
  LIMIT :top_k)
SELECT f.chunk_id, f.score, f.ranks, c.document_id, c.text, c.heading, c.page, c.page_end,
       c.char_start, c.char_end, d.origin, d.title, d.kind, d.media_type, d.occurred_at,
       d.parent_id, d.metadata, (c.metadata->>'ocr_quality')::float8 AS ocr_quality
FROM fused f JOIN chunks c ON c.id = f.chunk_id JOIN documents d ON d.id = c.document_id
ORDER BY f.score DESC, f.best, f.chunk_id"""
    return _inline_ints(sql, params)


def _given_ranks(stage: str) -> str:
    """The CTE `stage` (chunk_id, rank) from :given_<stage>, ids in rank order."""
    return (f"{stage} AS (SELECT chunk_id, rank FROM unnest(CAST(:given_{stage} AS int8[])) "
            f"WITH ORDINALITY AS g(chunk_id, rank))")


def _first_part(ctes: list[str], *, dense: bool, fts: bool, pool: bool) -> str:
    """The ranked ids of the dense and full-text stages (hybrid_sql part "first")."""
    parts = ((["SELECT 'dense' AS src, chunk_id, rank FROM dense"] if dense else [])
             + (["SELECT 'fts' AS src, chunk_id, rank FROM fts"] if fts else [])
             + (["SELECT 'pool' AS src, id AS chunk_id, 0 AS rank FROM fts_pool"] if pool else []))
    if not parts:
        raise ValueError("no dense or full-text stage to run first")
    return f"WITH {', '.join(ctes)}\n{' UNION ALL '.join(parts)}"


def sparse_shortlist_statement(space: SpaceRef, *, filters: SearchFilters,
                               candidates: int) -> tuple[str, dict[str, Any]]:
    """The sparse stage's shortlist alone (chunk_id rows), for a split search
    (hybrid_sql part "final" takes them as :given_shortlist). The caller supplies :qt, :qw."""
    params: dict[str, Any] = {"cand": candidates}
    joins, where = filter_sql(filters, params)
    pool = sparse_shortlist_sql(int(space.id), filtered=not filters.is_empty,
                                every_token=posting_share(space.embedder) == 0,
                                joins=joins, filter_where=where)
    return _inline_ints(f"WITH {QUERY_TOKENS_CTE}\n{pool}", params)


_INLINED = ("cand", "top_k", "rrf_k", "fts_pool")
_INLINED_RE = re.compile(r":(" + "|".join(_INLINED) + r")\b")


def _inline_ints(sql: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The LIMITs and RRF constant written into the statement as integer literals.

    Speed: planning this statement costs ~2 ms of backend CPU, as much as running it on a
    small index. Written in, the limits are part of the statement text, so an unfiltered
    search (whose plan no parameter value changes) can reuse a cached generic plan of the
    prepared statement; with them as parameters a generic plan would not know its LIMITs.
    They are our own integers (settings, code), never user text.
    """
    values = {k: int(params.pop(k)) for k in _INLINED if k in params}
    return _INLINED_RE.sub(lambda m: str(values[m.group(1)]), sql), params
