"""DOCX: our python-docx parser vs unstructured's partition_docx on the same files.

Prints per file: milliseconds per parse (median of N), characters extracted, heading blocks /
Title elements, and how many of the other side's words each one misses.

    .venv/bin/python bench/parse_docx.py [FILE_OR_DIR ...]   (default: ../shared/realworld/contracts)
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.core.types import ParseInput, RawItem
from ingest.parsers.docx import DocxParser
from ingest.unstructured_offline import ensure_offline_unstructured

REPEAT = 5


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w{3,}", text.lower()))


def _time(fn, repeat: int = REPEAT) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, result


def main(argv: list[str]) -> None:
    ensure_offline_unstructured()
    from unstructured.partition.docx import partition_docx

    default = Path(__file__).resolve().parents[2] / "shared" / "realworld" / "contracts"
    paths: list[Path] = []
    for arg in argv or [str(default)]:
        p = Path(arg)
        paths.extend(sorted(p.glob("*.docx")) if p.is_dir() else [p])
    partition_docx(filename=str(paths[0]))  # warm-up: loads the spaCy pipeline once
    parser = DocxParser()
    print(f"{'file':<48} {'ours ms':>8} {'unst ms':>8} {'ours ch':>8} {'unst ch':>8} "
          f"{'hd/Title':>9} {'we miss':>8} {'they miss':>9}")
    for path in paths:
        data = path.read_bytes()
        inp = ParseInput.of(RawItem(origin=str(path), name=path.name), data, "docx")
        ours_ms, parsed = _time(lambda inp=inp: parser.parse(inp))
        unst_ms, elements = _time(lambda path=path: partition_docx(filename=str(path)))
        ours_text = "\n".join(b.text for b in parsed.blocks)
        unst_text = "\n".join(e.text for e in elements)
        headings = sum(1 for b in parsed.blocks if b.kind == "heading")
        titles = sum(1 for e in elements if type(e).__name__ == "Title")
        we_miss = len(_words(unst_text) - _words(ours_text))
        they_miss = len(_words(ours_text) - _words(unst_text))
        print(f"{path.name[:48]:<48} {ours_ms:8.1f} {unst_ms:8.1f} {len(ours_text):8d} "
              f"{len(unst_text):8d} {headings:>4}/{titles:<4} {we_miss:8d} {they_miss:9d}")


if __name__ == "__main__":
    main(sys.argv[1:])
