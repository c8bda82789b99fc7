"""Parsing in killable worker processes: a file that hangs, eats memory, crashes the interpreter,
raises or exits is one failure of that file, with a one-line reason; the run goes on.

The hostile behaviour comes from a test parser claiming `*.hostile` files (the first line of the
file says what to do), so each case is exactly reproducible; the workers and the pipeline around
it are the real ones, on the real embedded PostgreSQL.
"""

from __future__ import annotations

import ctypes
import logging
import os
import time
from pathlib import Path

from sqlalchemy import func, select

from app.core.models import Document, SourceItem
from app.core.types import ParsedDocument, RawItem, TextBlock
from ingest.chunking import chunk_document
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.parsers import DEFAULT_PARSERS
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources.folder import FolderSource
from ingest.workers import ParseFailure, ParsePool, ParseSettings, Prepared


class HostileParser:
    """Claims `*.hostile`; the file's first line says how to misbehave."""

    name = "hostile"
    version = "1"

    def score(self, inp):
        return 100 if inp.item.name.endswith(".hostile") else None

    def parse(self, inp):
        action = inp.data.split(b"\n", 1)[0].decode()
        if action == "sleep":
            time.sleep(120)
        elif action == "hog":
            hog = bytearray(1024 * 1024 * 1024)  # more than the budget
            hog[-1] = 1
        elif action == "segv":
            ctypes.string_at(0)
        elif action == "raise":
            raise RuntimeError("boom\nsecond line of the message")
        elif action == "exit":
            os._exit(3)
        text = inp.data.decode()
        return ParsedDocument(blocks=[TextBlock(text=text)], title=inp.item.name, kind="note")


def _pipeline(db, **opts) -> Pipeline:
    options = IngestOptions(parse_timeout_s=2, parse_memory_mb=300, **opts)
    return Pipeline(db, embedder=LexicalHashEmbedder(),
                    parsers=[*DEFAULT_PARSERS, HostileParser()], options=options)


def _folder(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    for name, body in files.items():
        (root / name).write_text(body, encoding="utf-8")
    return root


GOOD = {"a-first.txt": "The boiler was serviced in March for 120 euros.\n",
        "z-last.txt": "Die Heizung wurde im März für 120 Euro gewartet.\n",
        "fine.hostile": "fine\nA well-behaved file of the test parser.\n"}


def test_each_hostile_file_fails_alone_with_one_line_and_the_run_goes_on(clean_db, tmp_path):
    hostile = {"sleep.hostile": "sleep\n", "hog.hostile": "hog\n", "segv.hostile": "segv\n",
               "raise.hostile": "raise\n", "exit.hostile": "exit\n"}
    folder = _folder(tmp_path, {**GOOD, **hostile})

    report = _pipeline(clean_db).run(FolderSource("docs", folder))

    assert report.status == "completed"
    assert report.counts["indexed"] == 3 and report.counts["failed"] == 5
    messages = {Path(p.origin).name: p.message for p in report.problems}
    assert messages["sleep.hostile"].endswith(
        "sleep.hostile: parsing took longer than 2 s (limit HOMERAG_PARSE_TIMEOUT_S)")
    assert "hog.hostile: parsing needed more than 300 MB" in messages["hog.hostile"]
    assert messages["segv.hostile"].endswith("segv.hostile: parser crashed (SIGSEGV)")
    assert messages["raise.hostile"].endswith(
        "raise.hostile: parser crashed (RuntimeError: boom)")
    assert messages["exit.hostile"].endswith("exit.hostile: parser process exited (status 3)")
    assert all("\n" not in m for m in messages.values())
    with clean_db.session() as s:
        stored = set(s.scalars(select(Document.origin)))
        assert {Path(o).name for o in stored} == set(GOOD)
        failed = s.scalar(select(func.count()).select_from(SourceItem)
                          .where(SourceItem.status == "failed"))
        assert failed == 5


def test_failures_are_not_retried_until_the_file_changes(clean_db, tmp_path):
    folder = _folder(tmp_path, {**GOOD, "segv.hostile": "segv\n"})
    _pipeline(clean_db).run(FolderSource("docs", folder))

    again = _pipeline(clean_db).run(FolderSource("docs", folder))
    assert again.counts["unchanged"] == 4 and again.counts["failed"] == 0
    assert again.failing == 1  # still failing: what --strict fails on, every run

    (folder / "segv.hostile").write_text("fine\nnow it parses\n", encoding="utf-8")
    fixed = _pipeline(clean_db).run(FolderSource("docs", folder))
    assert fixed.counts["indexed"] == 1 and fixed.failing == 0


def test_a_parser_crash_leaves_no_traceback_on_stderr_only_a_debug_log(clean_db, tmp_path, capfd,
                                                                       caplog):
    folder = _folder(tmp_path, {**GOOD, "raise.hostile": "raise\n", "segv.hostile": "segv\n"})
    with caplog.at_level(logging.DEBUG, logger="ingest"):
        report = _pipeline(clean_db).run(FolderSource("docs", folder))
    assert report.counts["failed"] == 2
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Fatal Python error" not in err, err
    debug = [r for r in caplog.records if r.levelno == logging.DEBUG and "Traceback" in r.message]
    assert debug and "RuntimeError: boom" in debug[0].message
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_file_name_that_is_not_utf8_is_indexed_under_an_escaped_origin(clean_db, tmp_path):
    folder = _folder(tmp_path, GOOD)
    raw = os.fsencode(folder) + b"/caf\xe9-invoice.txt"
    with open(raw, "wb") as fh:
        fh.write(b"Invoice from the cafe: 12 euros for coffee beans.\n")

    report = _pipeline(clean_db).run(FolderSource("docs", folder))

    assert report.status == "completed" and report.counts["indexed"] == 4, report.problems
    with clean_db.session() as s:
        origins = set(s.scalars(select(Document.origin)))
    assert str(folder / "caf\\xe9-invoice.txt") in origins
    again = _pipeline(clean_db).run(FolderSource("docs", folder))
    assert again.counts["unchanged"] == 4 and again.counts["indexed"] == 0


def test_parsing_in_process_gives_the_same_documents(clean_db, tmp_path):
    folder = _folder(tmp_path, GOOD)
    _pipeline(clean_db, workers=0).run(FolderSource("inline", folder))
    _pipeline(clean_db, workers=2).run(FolderSource("pooled", folder))
    with clean_db.session() as s:
        rows = s.execute(select(Document.origin, Document.source_id, Document.content,
                                Document.parser)).all()
    by_source: dict[int, set[tuple[str, str, str]]] = {}
    for origin, source_id, content, parser in rows:
        by_source.setdefault(source_id, set()).add((origin, content, parser))
    assert len(by_source) == 2
    first, second = by_source.values()
    assert first == second and len(first) == 3


# -- the pool on its own --------------------------------------------------------------------------
def _items(tmp_path: Path, actions: list[str]) -> list[RawItem]:
    items = []
    for i, action in enumerate(actions):
        path = tmp_path / f"{i:02d}-{action}.hostile"
        path.write_text(f"{action}\nitem {i}\n", encoding="utf-8")
        items.append(RawItem(origin=str(path), name=path.name, path=path))
    return items


def test_every_job_comes_back_exactly_once_when_workers_die(tmp_path):
    actions = ["fine", "segv", "fine", "fine", "exit", "fine", "segv", "fine", "fine", "fine"]
    settings = ParseSettings(parsers=(HostileParser(),), chunker=chunk_document)
    pool = ParsePool(settings, size=2, timeout_s=10, memory_mb=None, depth=8)
    try:
        for key, item in enumerate(_items(tmp_path, actions)):
            pool.submit(key, item, None)
        results: dict[int, object] = {}
        deadline = time.monotonic() + 60
        while pool.busy and time.monotonic() < deadline:
            for key, result in pool.poll(timeout=1.0):
                assert key not in results
                results[key] = result
    finally:
        pool.close()
    assert sorted(results) == list(range(len(actions)))
    for key, action in enumerate(actions):
        if action == "fine":
            assert isinstance(results[key], Prepared), results[key]
        else:
            assert isinstance(results[key], ParseFailure)


def test_a_worker_killed_for_time_is_replaced_and_the_queue_behind_it_is_parsed(tmp_path):
    actions = ["sleep", "fine", "fine", "fine"]
    settings = ParseSettings(parsers=(HostileParser(),), chunker=chunk_document)
    pool = ParsePool(settings, size=1, timeout_s=1, memory_mb=None, depth=8)
    try:
        for key, item in enumerate(_items(tmp_path, actions)):
            pool.submit(key, item, None)
        results = {}
        while pool.busy:
            results.update(pool.poll(timeout=None))
    finally:
        pool.close()
    assert isinstance(results[0], ParseFailure) and "longer than 1 s" in results[0].message
    assert all(isinstance(results[k], Prepared) for k in (1, 2, 3))


def test_a_pipeline_run_from_a_thread_forks_its_workers_too(clean_db, tmp_path):
    """The scheduler runs syncs on a thread of its pool: the workers fork from there."""
    import threading

    folder = _folder(tmp_path, {**GOOD, "segv.hostile": "segv\n"})
    reports = []
    thread = threading.Thread(
        target=lambda: reports.append(_pipeline(clean_db).run(FolderSource("docs", folder))))
    thread.start()
    thread.join(timeout=120)
    assert reports and reports[0].status == "completed"
    assert reports[0].counts["indexed"] == 3 and reports[0].counts["failed"] == 1


def test_close_ends_idle_workers_by_themselves(tmp_path):
    """Workers leave on the pool's word (exit code 0), not by the kill after the join's
    timeout: each forked worker holds the write ends of the job pipes open at its fork, so the
    pipe's EOF alone never reached it."""
    settings = ParseSettings(parsers=(HostileParser(),), chunker=chunk_document)
    pool = ParsePool(settings, size=2, timeout_s=10, memory_mb=None, depth=8)
    for key, item in enumerate(_items(tmp_path, ["fine", "fine", "fine"])):
        pool.submit(key, item, None)
    while pool.busy:
        pool.poll(timeout=1.0)
    processes = [w.process for w in pool._workers]
    assert len(processes) == 2
    pool.close()
    assert [p.exitcode for p in processes] == [0, 0]
