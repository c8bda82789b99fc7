"""A worker process for the kill test: `run_worker` (the service `homerag worker` calls) with
the lexical embedder wrapped to log what it embeds and to wait, so a test can kill it mid-batch.

    python tests/queue/worker_proc.py LOG --delay 0.3 [--hang-at 2] [--batch 4] [--lease 3]

Log lines (flushed at once): "start N DIGEST..." before embedding batch N (sha256 of each text),
"end N" after, "commit HASH..." once a batch's vectors are committed (content hashes).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--delay", type=float, default=0.3)
    ap.add_argument("--hang-at", type=int, default=0, help="batch number that never finishes")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--lease", type=float, default=3.0)
    args = ap.parse_args()

    from app.core.config import load_settings
    from app.services.embed_queue import WorkerOptions, run_worker
    from app.services.runtime import open_runtime
    from ingest.embedders.lexical import LexicalHashEmbedder

    log = open(args.log, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives with the process

    def write(line: str) -> None:
        log.write(line + "\n")
        log.flush()
        os.fsync(log.fileno())

    class LoggingEmbedder(LexicalHashEmbedder):
        batches = 0

        def embed_documents(self, texts):
            LoggingEmbedder.batches += 1
            n = LoggingEmbedder.batches
            digests = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
            write(f"start {n} {' '.join(digests)}")
            time.sleep(3600 if n == args.hang_at else args.delay)
            out = super().embed_documents(texts)
            write(f"end {n}")
            return out

    def on_batch(b) -> None:
        if b.lost or b.failed:  # not expected here: the test fails on this line
            write(f"trouble lost={b.lost} failed={b.failed}")
        write("commit " + " ".join(sorted(b.hashes)))

    with open_runtime(load_settings(), migrate=False) as rt:
        report = run_worker(rt, WorkerOptions(batch=args.batch, lease_s=args.lease, drain=True,
                                              poll_s=0.2),
                            embedder=LoggingEmbedder(), on_batch=on_batch)
    write(f"done {report.chunks} {report.texts}")


if __name__ == "__main__":
    main()
