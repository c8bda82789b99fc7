"""Rows of chunk_embeddings with BGE-M3's shapes, written by SQL (no model, no pipeline)."""

from __future__ import annotations

import random

from sqlalchemy import text


def toasted_bytes(conn) -> int:
    """The size of chunk_embeddings' TOAST table (0: every stored row is whole in its page)."""
    return conn.scalar(text("SELECT pg_relation_size(reltoastrelid) FROM pg_class "
                            "WHERE relname = 'chunk_embeddings'"))


def store_bge_sized_vectors(conn, first: int, count: int) -> None:
    """Chunks `first` .. `first + count - 1`, each with a 1,024-d dense vector (2,052 bytes as
    halfvec) and 150 sparse weights, in space 1 of source 1 (both made if missing)."""
    rng = random.Random(first)
    conn.execute(text(
        "INSERT INTO sources (id, name, kind, config) VALUES (1, 'notes', 'folder', '{}') "
        "ON CONFLICT DO NOTHING"))
    conn.execute(text(
        "INSERT INTO embedding_spaces (id, name, embedder, model_id, dim, sparse_dim, status) "
        "VALUES (1, 'bge', 'bge-m3', 'BAAI/bge-m3', 1024, 250002, 'active') "
        "ON CONFLICT DO NOTHING"))
    for n in range(first, first + count):
        conn.execute(text(
            "INSERT INTO documents (id, source_id, origin, sha256, size_bytes, title, kind, "
            "media_type, parser) VALUES (:n, 1, :o, :h, 1, 't', 'note', 'text/plain', 'p/1')"),
            {"n": n, "o": f"/n/{n}.txt", "h": f"{n:064x}"})
        conn.execute(text(
            "INSERT INTO chunks (id, document_id, ordinal, text, char_start, char_end, "
            "token_count, content_hash) VALUES (:n, :n, 0, 'x', 0, 1, 1, :h)"),
            {"n": n, "h": f"{n:064x}"})
        dense = "[" + ",".join(f"{rng.uniform(-1, 1):.4f}" for _ in range(1024)) + "]"
        sparse = ("{" + ",".join(f"{t}:{rng.random():.4f}" for t in
                                 sorted(rng.sample(range(1, 250002), 150))) + "}/250002")
        conn.execute(text(
            "INSERT INTO chunk_embeddings (space_id, chunk_id, dense, sparse) "
            "VALUES (1, :n, CAST(:d AS halfvec), CAST(:s AS sparsevec))"),
            {"n": n, "d": dense, "s": sparse})
