"""What every hostile-input test checks: one-line failures naming the file, no traceback, memory.

`Runner` runs sources through the real pipeline on the real embedded PostgreSQL with the
lexical embedder; `bounded_memory` measures the Python heap peak (tracemalloc: bytes a parser
inflates are counted there) and the growth of the process's peak RSS while a run happens.
"""

from __future__ import annotations

import resource
import tracemalloc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import select

from app.core.models import Chunk, Document
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.limits import Limits
from ingest.parsers import make_parsers
from ingest.pipeline import IngestOptions, IngestReport, ItemOutcome, Pipeline

MB = 1024 * 1024
# Python heap peak allowed during a run over a handful of hostile files. Each bomb here would
# need 150 MB to 17 GB if it were expanded; the small files themselves need a few MB.
HEAP_LIMIT = 64 * MB


@dataclass
class Memory:
    heap_peak: int = 0
    rss_growth: int = 0


@contextmanager
def bounded_memory() -> Iterator[Memory]:
    """Heap peak (tracemalloc) and peak-RSS growth (getrusage, in bytes) of the block."""
    memory = Memory()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    try:
        yield memory
    finally:
        memory.heap_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        memory.rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before


@dataclass
class Runner:
    db: object
    reports: list[IngestReport] = field(default_factory=list)

    def run(self, source: object, *, limits: Limits | None = None,
            parsers: Sequence[object] | None = None) -> IngestReport:
        if parsers is None and limits is not None:
            parsers = make_parsers(limits=limits)
        pipeline = Pipeline(self.db, embedder=LexicalHashEmbedder(),  # type: ignore[arg-type]
                            parsers=parsers, options=IngestOptions())  # type: ignore[arg-type]
        report = pipeline.run(source)  # type: ignore[arg-type]
        self.reports.append(report)
        return report

    def run_service(self, source: object, settings: object) -> IngestReport:
        """Through the sync service's pipeline, as the CLI and the scheduler build it: the
        HOMERAG_MAX_* settings reach the parsers there."""
        from app.services.runtime import Runtime
        from app.services.sync import build_pipeline

        runtime = Runtime(settings=settings, db=self.db)  # type: ignore[arg-type]
        runtime.set_embedder(LexicalHashEmbedder())
        report = build_pipeline(runtime).run(source)  # type: ignore[arg-type]
        self.reports.append(report)
        return report

    def documents(self) -> dict[str, Document]:
        with self.db.session() as s:  # type: ignore[attr-defined]
            return {d.origin: d for d in s.scalars(select(Document))}

    def chunks_of(self, origin: str) -> list[Chunk]:
        with self.db.session() as s:  # type: ignore[attr-defined]
            doc_id = s.scalar(select(Document.id).where(Document.origin == origin))
            return list(s.scalars(select(Chunk).where(Chunk.document_id == doc_id)))


def failure(report: IngestReport, origin_part: str, code: str) -> ItemOutcome:
    """The one problem whose origin ends with `origin_part`, checked to be a one-line failure
    with `code` that names its item."""
    found = [p for p in report.problems if p.origin.endswith(origin_part)]
    assert len(found) == 1, (origin_part, [(p.origin, p.message) for p in report.problems])
    problem = found[0]
    assert problem.code == code, (problem.code, problem.message)
    assert problem.message and "\n" not in problem.message and len(problem.message) < 600
    assert problem.origin in problem.message
    assert "Traceback" not in problem.message and "crashed" not in problem.message
    return problem


def assert_quiet(capfd: object, caplog: object) -> None:
    """Nothing resembling a traceback on stderr, no log record carrying one."""
    err = capfd.readouterr().err  # type: ignore[attr-defined]
    assert "Traceback" not in err and 'File "' not in err, err[-2000:]
    logged = [r for r in caplog.records if r.exc_info]  # type: ignore[attr-defined]
    assert logged == [], [r.getMessage() for r in logged]
