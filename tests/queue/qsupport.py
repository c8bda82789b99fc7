"""Helpers of the embedding-queue tests: a corpus, and documents put into the queue's state
(chunks stored, vectors not yet) on the real embedded PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, text

from app.core.models import Chunk, ChunkEmbedding, EmbeddingJob, EmbeddingPending
from ingest.embedders.lexical import LexicalHashEmbedder

NOTES = {
    f"note-{i:02d}.txt": (f"Note {i}: the {w} contract number K-{1000 + i} renews in May; "
                          f"the notice period is {i % 6 + 1} months. " + f"Filler {w} words. " * 200
                          + "\n\nSecond part of the note about the same contract.")
    for i, w in enumerate(["gym", "phone", "power", "internet", "car", "flat", "bike",
                           "cloud", "paper", "gas", "water", "radio"])
}
# Two documents holding exactly the same text: their chunks share content hashes.
NOTES["copy-a.txt"] = "Identical boilerplate: this mail was sent automatically. Do not reply."
NOTES["copy-b.txt"] = "Identical boilerplate: this mail was sent automatically. Do not reply."


def write_corpus(root: Path, docs: dict[str, str] = NOTES) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, body in docs.items():
        (root / name).write_text(body, encoding="utf-8")
    return root


class CountingEmbedder(LexicalHashEmbedder):
    """The lexical embedder, counting what it embeds."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    def embed_documents(self, texts):
        self.embedded.extend(texts)
        return super().embed_documents(texts)


def counts(db) -> dict[str, int]:
    with db.session() as s:
        return {
            "chunks": s.scalar(select(func.count()).select_from(Chunk)),
            "vectors": s.scalar(select(func.count()).select_from(ChunkEmbedding)),
            "pending": s.scalar(select(func.count()).select_from(EmbeddingPending)),
            "jobs": s.scalar(select(func.count()).select_from(EmbeddingJob)),
            "distinct_vectors": s.scalar(text(
                "SELECT count(DISTINCT (space_id, chunk_id)) FROM chunk_embeddings")),
        }


def space_id(db) -> int:
    with db.session() as s:
        return int(s.scalar(text("SELECT id FROM embedding_spaces WHERE status = 'active'")))


def ingest(db, root: Path, embedder=None) -> None:
    from ingest.pipeline import IngestOptions, Pipeline
    from ingest.sources.folder import FolderSource

    Pipeline(db, embedder=embedder or LexicalHashEmbedder(), options=IngestOptions()).run(
        FolderSource("notes", root))


def pend(db, origins_like: str = "%") -> int:
    """Put documents in the queue's state: vectors removed, chunks queued (what a queued
    ingest leaves, see test_queue_ingest.py for the ingest itself)."""
    from ingest.queue import enqueue_documents

    sid = space_id(db)
    with db.session() as s:
        docs = s.execute(text("SELECT id FROM documents WHERE origin LIKE :o"),
                         {"o": origins_like}).scalars().all()
        s.execute(text("DELETE FROM chunk_embeddings ce USING chunks c WHERE c.id = ce.chunk_id "
                       "AND c.document_id = ANY(:d)"), {"d": list(docs)})
        return enqueue_documents(s, sid, list(docs))
