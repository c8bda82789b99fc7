"""Shared bench helpers: a throw-away embedded PostgreSQL, percentiles, tables, JSON output.

Not a bench itself (run_all.py skips it). Every bench prints a table and writes its figures as
JSON under bench/out/ (gitignored).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "bench" / "out"
RUN_ALL = False  # helper module, not a bench

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

for _k, _v in {"SCARF_NO_ANALYTICS": "true", "DO_NOT_TRACK": "true",
               "HF_HUB_OFFLINE": "1", "UNSTRUCTURED_DISABLE_NOTICE": "1"}.items():
    os.environ.setdefault(_k, _v)


@contextmanager
def bench_workdir(keep: Path | None = None) -> Iterator[Path]:
    """A short /tmp directory (the server's socket path must stay short), removed afterwards
    unless `keep` names a directory to use and keep (for iterating on one built index)."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        os.chmod(keep, 0o755)
        yield keep
        return
    root = Path(tempfile.mkdtemp(prefix="hrb-", dir="/tmp"))
    # pgserver runs the server as its own user when started as root: it must reach pgdata.
    os.chmod(root, 0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def embedded_database(pgdata: Path) -> Iterator[Any]:
    """`app.core.db.Database` on an embedded PostgreSQL in `pgdata`, migrated to head; stopped after."""
    from app.core.db import Database

    db = Database.open(None, pgdata=pgdata, migrate=True)
    try:
        yield db
    finally:
        db.close()


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(values_ms: Sequence[float]) -> dict[str, float]:
    return {"n": len(values_ms), "p50_ms": round(percentile(values_ms, 50), 2),
            "p95_ms": round(percentile(values_ms, 95), 2),
            "max_ms": round(max(values_ms), 2) if values_ms else math.nan}


def print_table(title: str, rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> None:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print(f"\n{title}")
    print("  ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(c.rjust(w) if _numeric(c) else c.ljust(w)
                        for c, w in zip(row, widths, strict=True)))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _numeric(cell: str) -> bool:
    return cell.replace(",", "").replace(".", "").replace("-", "").replace("%", "").isdigit()


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "cpus": os.cpu_count(),
            "platform": platform.platform(), "at": datetime.now(UTC).isoformat(timespec="seconds")}


def cpu_probe(additions: int = 10**7) -> float:
    """Seconds this host takes for `additions` additions in a pure-Python loop, now.

    Shared hosts drift: in one session 10^7 additions at a script's top level took 0.80 s and,
    an hour later, 1.11-1.35 s, and the unchanged search's dense stage went from 17.5 to 25 ms
    at 10^6 chunks with it. A result that carries the probe taken before and after its timed
    part compares with another only where their probes are close; side-by-side runs in one
    process need none. (In a function, as here, the loop runs ~2x faster than at top level.)
    """
    t0 = time.perf_counter()
    total = 0
    for i in range(additions):
        total += i
    return round(time.perf_counter() - t0, 3)


def write_json(name: str, data: Mapping[str, Any], out_dir: Path = OUT_DIR) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=2, default=str),
                    encoding="utf-8")
    return path


def add_child_arguments(ap: argparse.ArgumentParser) -> None:
    """The hidden options of a bench's child mode: one ingest run in a fresh process (so that
    imports, caches and RSS start clean), started by the bench itself."""
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--originals", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--profile-out", type=Path, help=argparse.SUPPRESS)
