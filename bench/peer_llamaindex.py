"""The peer side of `bench/ingest_vs_llamaindex.py`: LlamaIndex 0.14 ingesting a folder into
PGVectorStore, as a user following its documentation would. Runs in the bench's own virtualenv
(never the product's): it imports nothing of homerag.

    <peer venv>/bin/python bench/peer_llamaindex.py --corpus DIR --url postgresql://... --out F

Pipeline: `SimpleDirectoryReader(recursive=True)` with its default file readers (PDF per page,
DOCX via docx2txt, everything else as text) → `IngestionPipeline` with `SentenceSplitter`
(512 tokens, 64 overlap: homerag's chunk settings) and a hashing embedder → `PGVectorStore`
with an HNSW index on the dense vector and `hybrid_search=True` (a generated tsvector column
with a GIN index), the closest match to what homerag maintains (dense HNSW, GIN; homerag also
keeps its sparse vectors' postings, which LlamaIndex has no counterpart for).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import time
import zlib
from pathlib import Path
from typing import Any

RUN_ALL = False  # run by bench/ingest_vs_llamaindex.py inside the peer virtualenv

DIM = 256  # homerag's lexical embedder has 256 dense dimensions too
_TOKEN = re.compile(r"\w+", re.UNICODE)


def make_embedder(dim: int = DIM) -> Any:
    """A LlamaIndex `BaseEmbedding` that hashes word tokens into a normalised dense vector."""
    from llama_index.core.embeddings import BaseEmbedding

    def embed(text: str) -> list[float]:
        vec = [0.0] * dim
        counts: dict[str, int] = {}
        for tok in _TOKEN.findall(text.lower()):
            counts[tok] = counts.get(tok, 0) + 1
        for tok, tf in counts.items():
            h = zlib.crc32(tok.encode("utf-8"))
            vec[h % dim] += (1.0 if (h >> 31) & 1 else -1.0) * (1.0 + math.log(tf))
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]

    class HashingEmbedding(BaseEmbedding):
        def _get_query_embedding(self, query: str) -> list[float]:
            return embed(query)

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return embed(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return embed(text)

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return [embed(t) for t in texts]

    return HashingEmbedding(model_name="hashing-256", embed_batch_size=256)


def _sqlalchemy_urls(url: str) -> tuple[str, str]:
    """psycopg2 and asyncpg URLs for PGVectorStore from the bench's psycopg URL."""
    rest = url.split("://", 1)[1]
    return f"postgresql+psycopg2://{rest}", f"postgresql+asyncpg://{rest}"


def ingest(corpus: Path, url: str, *, workers: int | None) -> dict[str, Any]:
    from llama_index.core import SimpleDirectoryReader
    from llama_index.core.ingestion import IngestionPipeline
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.postgres import PGVectorStore

    sync_url, async_url = _sqlalchemy_urls(url)
    t0 = time.perf_counter()
    store = PGVectorStore(
        connection_string=sync_url, async_connection_string=async_url, table_name="bench",
        embed_dim=DIM, hybrid_search=True, text_search_config="english",
        hnsw_kwargs={"hnsw_m": 16, "hnsw_ef_construction": 64, "hnsw_ef_search": 40,
                     "hnsw_dist_method": "vector_cosine_ops"},
    )
    reader = SimpleDirectoryReader(str(corpus), recursive=True, exclude_hidden=True)
    documents = reader.load_data(num_workers=workers)
    t_read = time.perf_counter()
    pipeline = IngestionPipeline(
        transformations=[SentenceSplitter(chunk_size=512, chunk_overlap=64), make_embedder()],
        vector_store=store)
    nodes = pipeline.run(documents=documents, num_workers=workers)
    seconds = time.perf_counter() - t0
    files = len({d.metadata.get("file_path") for d in documents})
    return {"tool": "llamaindex", "seconds": round(seconds, 3),
            "read_s": round(t_read - t0, 3), "files": files,
            "documents": len(documents), "chunks": len(nodes), "workers": workers or 1}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--workers", type=int, default=None,
                    help="num_workers for reading and the pipeline (default: LlamaIndex's own)")
    args = ap.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    result = ingest(args.corpus, args.url, workers=args.workers)
    args.out.write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
