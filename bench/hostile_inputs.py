"""Hostile inputs, one at a time through the real pipeline: outcome, time and memory per kind.

Each case is written to its own folder (or mbox) with one good file after it and ingested into
a fresh embedded PostgreSQL with the lexical embedder. Reported per case: the outcome of the
hostile item (status, code, message), whether the good file was indexed, the wall time, the
Python heap peak (tracemalloc) and the process's peak RSS above its level before the run
(VmHWM, reset through /proc/self/clear_refs before each case). Figures, not a test.

    .venv/bin/python bench/hostile_inputs.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_workdir, embedded_database, machine, print_table, write_json

RUN_ALL = True
MB = 1024 * 1024


def _cases(quick: bool) -> list[tuple[str, str, Callable[[], bytes]]]:
    """(kind, file name, generator); .mbox names are ingested as one-message mailboxes."""
    from tests.hostile import badfiles as b

    depth = 1000 if quick else 5000
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return [
        ("DOCX zip bomb (300 MB unpacked)", "bomb.docx", lambda: b.docx_bomb(300)),
        ("DOCX 150 MB, 1000-fold ratio", "ratio.docx", lambda: b.docx_bomb(150)),
        ("DOCX with a lying zip directory", "liar.docx",
         lambda: b.lying_zip(b.docx_bomb(300), "word/document.xml")),
        ("DOCX with 10,050 zip members", "members.docx", lambda: b.docx_with_members(10_050)),
        ("XLSX naming cell XFD1048576", "far.xlsx", b.xlsx_far_cell),
        ("ODT asking for 2e9 spaces", "space.odt", b.odt_space_bomb),
        (f"HTML nested {depth} deep", "deep.html", lambda: b.deep_html(depth)),
        ("MT940 dated month 00", "bad.sta", b.mt940_month_00),
        ("PNG claiming 10 gigapixels", "huge.png", b.png_claiming),
        ("mail: 2 MB Subject", "subject.mbox", lambda: b.mail_long_subject(2_000_000)),
        (f"mail: multipart nested {depth} deep", "multipart.mbox",
         lambda: b.mail_nested_multipart(depth)),
        (f"mail: message/rfc822 nested {depth} deep", "rfc822.mbox",
         lambda: b.mail_nested_rfc822(depth)),
        ("mail: DOCX zip bomb attached", "bomb-attached.mbox",
         lambda: b.mail_with_attachments("Contract", "bomb@x.org",
                                         [("contract.docx", docx, b.docx_bomb(300))])),
        ("mail: 150 attachments", "many.mbox",
         lambda: b.mail_with_attachments("Notes", "many@x.org", [
             (f"n{i}.txt", "text/plain", f"note {i}".encode()) for i in range(150)])),
        ("mail: 60 MB attachment", "big.mbox",
         lambda: b.mail_with_attachments("Video", "big@x.org", [
             ("video.bin", "application/octet-stream", b"\x01" * (60 * MB))])),
    ]


def _peak_rss_reset() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _status_kb(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def run_case(db, root: Path, kind: str, name: str, make: Callable[[], bytes]) -> dict:
    from ingest.embedders.lexical import LexicalHashEmbedder
    from ingest.pipeline import IngestOptions, Pipeline
    from ingest.sources.folder import FolderSource
    from ingest.sources.mbox import MboxSource

    folder = root / name.replace(".", "-")
    folder.mkdir()
    data = make()
    if name.endswith(".mbox"):
        good = (b"From: a@x.org\nSubject: Good\nMessage-ID: <good-%s@x.org>\n\nThe good one.\n"
                % name.encode())
        with (folder / name).open("wb") as fh:
            for message in (data, good):
                fh.write(b"From a@x.org Mon Mar  2 10:00:00 2026\n")
                fh.write(message.replace(b"\r\n", b"\n").replace(b"\nFrom ", b"\n>From ") + b"\n")
        source: object = MboxSource(f"case-{name}", folder / name)
    else:
        (folder / name).write_bytes(data)
        (folder / "zz-good.txt").write_text("The good file after the hostile one.")
        source = FolderSource(f"case-{name}", folder)
    size = (folder / name).stat().st_size
    del data
    pipeline = Pipeline(db, embedder=LexicalHashEmbedder(), options=IngestOptions())
    reset = _peak_rss_reset()
    rss_before = _status_kb("VmRSS")
    tracemalloc.start()
    started = time.perf_counter()
    report = pipeline.run(source)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    heap_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss_peak = (_status_kb("VmHWM") - rss_before) / 1024 if reset else float("nan")
    problems = [p for p in report.problems if "good" not in p.origin]
    outcome = "; ".join(f"{p.code}: {p.message.split(': ', 1)[-1][:90]}" for p in problems)
    return {"kind": kind, "file_mb": round(size / MB, 2), "status": report.status,
            "indexed": report.counts["indexed"], "failed": report.counts["failed"],
            "outcome": outcome or "indexed", "good_indexed": report.counts["indexed"] >= 1,
            "seconds": round(seconds, 2), "heap_peak_mb": round(heap_peak / MB, 1),
            "rss_peak_growth_mb": round(rss_peak, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shallower nesting")
    args = parser.parse_args()
    rows = []
    with bench_workdir() as work, embedded_database(work / "pg") as db:
        for kind, name, make in _cases(args.quick):
            rows.append(run_case(db, work, kind, name, make))
    print_table("Hostile inputs (one per run, lexical embedder, embedded PostgreSQL)",
                [(r["kind"], r["file_mb"], r["outcome"], "yes" if r["good_indexed"] else "NO",
                  r["seconds"], r["heap_peak_mb"], r["rss_peak_growth_mb"]) for r in rows],
                ["input", "file MB", "outcome", "good file indexed", "s", "heap peak MB",
                 "RSS peak +MB"])
    path = write_json("hostile_inputs", {"machine": machine(), "cases": rows})
    print(f"written {path}")


if __name__ == "__main__":
    main()
