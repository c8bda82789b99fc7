"""Statement parse and store throughput (transactions/s) for OFX, CSV, MT940, CAMT.053 and QIF.

Synthetic files with N transactions each (5 accounts for the multi-account formats) are parsed by
`ingest.money.parse_statement_file`, then stored through the statement hook's upsert
(accounts, statements, transactions with dedup keys, occurrences, categories) into an embedded
PostgreSQL; the same files are stored a second time under new names (every row a dedup hit).
Targets: >= 20,000 tx/s parse, >= 5,000 tx/s stored. Parse figures are given twice: per
wall-clock second and per CPU second of this process (the one to compare on a shared machine,
where other processes take the cores).

    .venv/bin/python bench/bank_parse.py [N]          (default N = 50000)
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_workdir, embedded_database, machine, print_table, write_json
from ingest.money import parse_statement_file
from tests.support.statements_synth import (
    Acct,
    camt053,
    csv_signed,
    mt940,
    ofx_sgml,
    qif,
    random_history,
)

RUN_ALL = True


def make_files(n: int) -> dict[str, tuple[str, bytes]]:
    per_account = n // 5
    accounts = []
    for i in range(5):
        txs = random_history(start=date(2021, 1, 1), days=4000, seed=i, per_day=2.5,
                             account=f"A{i}")[:per_account]
        accounts.append(Acct(f"DE{i:02d}370400440532013{i:03d}", txs))
    flat = [t for a in accounts for t in a.txs]
    return {
        "ofx": ("bench.ofx", ofx_sgml(accounts)),
        "csv": ("bench.csv", csv_signed(flat, german=True, encoding="cp1252")),
        "mt940": ("bench.sta", mt940(accounts)),
        "camt053": ("bench.xml", camt053(accounts)),
        "qif": ("bench.qif", qif(accounts)),
    }


def main(n: int = 50_000) -> dict[str, object]:
    files = make_files(n)
    rows, figures = [], {}
    parsed = {}
    for fmt, (name, data) in files.items():
        start, cpu = time.perf_counter(), time.process_time()
        sf = parse_statement_file(data, name=name)
        seconds, cpu_s = time.perf_counter() - start, time.process_time() - cpu
        parsed[fmt] = sf
        figures[fmt] = {"transactions": sf.transaction_count, "bytes": len(data),
                        "parse_s": round(seconds, 3),
                        "parse_tx_per_s": round(sf.transaction_count / seconds),
                        "parse_tx_per_cpu_s": round(sf.transaction_count / cpu_s)}
    with bench_workdir() as root, embedded_database(root / "pg") as db:
        from tests.support.statements_seed import store_file

        for fmt, sf in parsed.items():
            for attempt, label in ((1, "store_tx_per_s"), (2, "restore_dedup_tx_per_s")):
                start = time.perf_counter()
                with db.session() as s:
                    store_file(s, sf, origin=f"/bench/{fmt}-{attempt}")
                seconds = time.perf_counter() - start
                figures[fmt][label] = round(sf.transaction_count / seconds)
        with db.session() as s:
            from sqlalchemy import func, select

            from app.core.models import Transaction

            stored = s.scalar(select(func.count()).select_from(Transaction))
    for fmt, f in figures.items():
        rows.append([fmt, f["transactions"], f["bytes"], f["parse_tx_per_s"],
                     f["parse_tx_per_cpu_s"], f["store_tx_per_s"], f["restore_dedup_tx_per_s"]])
    print_table(f"Statement parse/store throughput ({n} transactions per file; targets "
                ">= 20,000/s parse, >= 5,000/s stored)", rows,
                ["format", "tx", "bytes", "parse tx/s", "parse tx/cpu-s", "store tx/s",
                 "re-store (dedup) tx/s"])
    print(f"distinct transactions stored: {stored} ({len(files)} formats x {n}, deduplicated "
          "per account and format)")
    result = {"n": n, "formats": figures, "stored_rows": stored, "machine": machine()}
    write_json("bank_parse", result)
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
