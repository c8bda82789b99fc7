"""sparse_postings: an inverted index for the sparse stage, replacing its HNSW graph

The sparse HNSW graph found 0.33-0.6 of the exact sparse top 10 (a question shares no token
with most chunks, so the graph walk starts on a plateau) and was the slowest index to build
and keep current. Each space's postings get their B-tree at run time (ingest.store).

Revision ID: 0011_sparse_postings
Revises: 0010_evidence_rejected
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_sparse_postings"
down_revision: str | Sequence[str] | None = "0010_evidence_rejected"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Copies of the run-time definitions as they are at this revision (a migration must not change
# when the code moves on): ingest.store.space_index_sql, app.core.vectors.posting_share.
POSTING_SHARE = {"bge-m3": 0.5}  # other embedders: every token
OLD_SPARSE_INDEX = "ix_chunk_embeddings_space_{sid}_sparse"
POSTINGS_INDEX = ("CREATE INDEX IF NOT EXISTS ix_sparse_postings_space_{sid} ON sparse_postings "
                  "(token, weight DESC) INCLUDE (chunk_id) WHERE space_id = {sid}")
OLD_SPARSE_HNSW = ("CREATE INDEX IF NOT EXISTS ix_chunk_embeddings_space_{sid}_sparse ON "
                   "chunk_embeddings USING hnsw ((sparse::sparsevec({vocab})) sparsevec_ip_ops) "
                   "WITH (m = 8, ef_construction = 32) WHERE space_id = {sid}")
# The stored vectors' postings, from sparsevec's text form '{1:0.5,7:0.25}/V' (1-based ids),
# each vector on its own (a LATERAL per row: a window over the whole table would sort every
# token of every chunk, ~10^8 rows at 10^6 chunks).
BACKFILL = """
INSERT INTO sparse_postings (space_id, chunk_id, token, weight)
SELECT ce.space_id, ce.chunk_id, t.token, t.weight
FROM chunk_embeddings ce CROSS JOIN LATERAL (
  SELECT token, weight FROM (
    SELECT token, weight, max(weight) OVER () AS top FROM (
      SELECT split_part(kv, ':', 1)::int - 1 AS token, split_part(kv, ':', 2)::real AS weight
      FROM unnest(string_to_array(substr(split_part(ce.sparse::text, '}', 1), 2), ',')) AS kv
      WHERE kv <> '') p) w
  WHERE weight > 0 AND weight >= :share * top) t
WHERE ce.space_id = :sid"""


# A vector's postings go with it (no foreign key: see app.core.models.core.sparse_postings). One
# statement per DELETE on chunk_embeddings, cascades from chunks and spaces included.
FOLLOW_VECTORS = """
CREATE FUNCTION sparse_postings_follow_vectors() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM sparse_postings p USING gone g
  WHERE p.chunk_id = g.chunk_id AND p.space_id = g.space_id;
  RETURN NULL;
END $$;
CREATE TRIGGER chunk_embeddings_postings AFTER DELETE ON chunk_embeddings
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
  EXECUTE FUNCTION sparse_postings_follow_vectors();
"""


def upgrade() -> None:
    op.create_table(
        "sparse_postings",
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("chunk_id", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.Integer(), nullable=False),
        sa.Column("weight", sa.REAL(), nullable=False),
    )
    op.create_index(op.f("ix_sparse_postings_chunk_id"), "sparse_postings", ["chunk_id"])
    op.execute(FOLLOW_VECTORS)
    conn = op.get_bind()
    spaces = conn.execute(sa.text("SELECT id, embedder FROM embedding_spaces ORDER BY id")).all()
    for sid, embedder in spaces:
        conn.execute(sa.text(f"DROP INDEX IF EXISTS {OLD_SPARSE_INDEX.format(sid=int(sid))}"))
        conn.execute(sa.text(BACKFILL), {"sid": int(sid), "share": POSTING_SHARE.get(embedder, 0.0)})
        conn.execute(sa.text(POSTINGS_INDEX.format(sid=int(sid))))


def downgrade() -> None:
    conn = op.get_bind()
    spaces = conn.execute(sa.text("SELECT id, sparse_dim FROM embedding_spaces ORDER BY id")).all()
    op.execute("DROP TRIGGER chunk_embeddings_postings ON chunk_embeddings")
    op.execute("DROP FUNCTION sparse_postings_follow_vectors()")
    op.drop_table("sparse_postings")
    for sid, vocab in spaces:
        conn.execute(sa.text(OLD_SPARSE_HNSW.format(sid=int(sid), vocab=int(vocab))))
