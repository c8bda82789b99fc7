"""Run every bench script in bench/ with small defaults and print their figures.

A bench script is a `bench/*.py` with a `__main__` block; helper modules say `RUN_ALL = False`.
Scripts that accept `--quick` get it (unless `--full`); the others run with no arguments.
Each runs in its own process with a time limit; a failing bench is reported and the rest go on.

    .venv/bin/python bench/run_all.py [--full] [--only core,parse_docx] [--timeout 900]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RUN_ALL = False  # this runner itself
_OPT_OUT = re.compile(r"^RUN_ALL\s*=\s*False", re.MULTILINE)


def discover(bench_dir: Path = BENCH) -> list[Path]:
    """Bench scripts in `bench_dir`, by name."""
    found = []
    for path in sorted(bench_dir.glob("*.py")):
        if path.name.startswith("_"):
            continue
        source = path.read_text(encoding="utf-8")
        if "__main__" in source and not _OPT_OUT.search(source):
            found.append(path)
    return found


def command(path: Path, *, full: bool) -> list[str]:
    quick = not full and "--quick" in path.read_text(encoding="utf-8")
    return [sys.executable, str(path), *(["--quick"] if quick else [])]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="full-size runs (no --quick)")
    ap.add_argument("--only", help="comma-separated bench names (file names without .py)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per bench")
    args = ap.parse_args(argv)
    scripts = discover()
    if args.only:
        wanted = {n.strip() for n in args.only.split(",") if n.strip()}
        scripts = [p for p in scripts if p.stem in wanted]
    results: list[tuple[str, str, float]] = []
    for path in scripts:
        cmd = command(path, full=args.full)
        print(f"\n=== {path.stem}: {' '.join(Path(c).name if i < 2 else c for i, c in enumerate(cmd))}",
              flush=True)
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=BENCH.parent, timeout=args.timeout, check=False)
            status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}"
        except subprocess.TimeoutExpired:
            status = f"timed out after {args.timeout:.0f} s"
        results.append((path.stem, status, time.perf_counter() - t0))
    print("\n=== summary")
    for name, status, secs in results:
        print(f"{name:<24} {status:<24} {secs:8.1f} s")
    return 0 if all(status == "ok" for _, status, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
