"""Weekly spending report over 5 years x 5 accounts (~50,000 transactions), end to end, no LLM.

Builds the history (synthetic, with a few planted anomalies in the last week), stores it into an
embedded PostgreSQL, then times `build_and_store_report` for the last week: the database read,
every detector, the three matplotlib charts, Markdown + HTML rendering and the store.
Target: <= 2 s end to end. Also times the monthly report and a deterministic money question.

    .venv/bin/python bench/bank_report.py [RUNS]       (default 5 runs; the median is reported)
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_workdir, embedded_database, machine, print_table, write_json
from tests.support.statements_synth import Acct, Tx, random_history

RUN_ALL = True
START = date(2021, 1, 4)
DAYS = 5 * 365 + 1  # five years
ACCOUNTS = 5


def history() -> list[Acct]:
    accounts = []
    for i in range(ACCOUNTS):
        txs = random_history(start=START, days=DAYS, seed=100 + i, per_day=5.0,
                             account=f"B{i}")
        accounts.append(Acct(f"DE{i:02d}500105170000000{i:03d}", txs))
    last = START + timedelta(days=DAYS - 1)
    monday = last - timedelta(days=last.weekday())
    accounts[0].txs.extend([
        Tx(monday, Decimal("-899.00"), "Luxus Uhren Berlin", "Uhr", ref="X1"),
        Tx(monday + timedelta(days=1), Decimal("-249.00"), "IKEA", "Regal", ref="X2"),
        Tx(monday + timedelta(days=2), Decimal("-249.00"), "IKEA", "Regal", ref="X3"),
    ])
    return accounts


def main(runs: int = 5) -> dict[str, object]:
    from app.money.ask import answer_money_question
    from app.money.periods import month_period, previous_week
    from app.services.report import build_and_store_report
    from ingest.money.types import ParsedStatement, StatementFile
    from tests.support.statements_seed import store_file

    accounts = history()
    total = sum(len(a.txs) for a in accounts)
    today = START + timedelta(days=DAYS + 1)
    week = previous_week(today)
    last_month_end = today.replace(day=1) - timedelta(days=1)
    month = month_period(last_month_end.year, last_month_end.month)
    timings: dict[str, list[float]] = {"weekly report": [], "monthly report": [],
                                       "money question": []}
    with bench_workdir() as root, embedded_database(root / "pg") as db:
        from ingest.money.csvparse import parse_csv
        from tests.support.statements_synth import csv_signed

        t0 = time.perf_counter()
        for i, acct in enumerate(accounts):
            sf = parse_csv(csv_signed(acct.txs), name=f"a{i}.csv")
            stmt = sf.statements[0]
            sf = StatementFile(format="csv", statements=(ParsedStatement(
                account=acct_ref(acct), transactions=stmt.transactions,
                currency=stmt.currency, period_start=stmt.period_start,
                period_end=stmt.period_end),))
            with db.session() as s:
                store_file(s, sf, origin=f"/bench/account-{i}.csv")
        load_s = time.perf_counter() - t0
        for _ in range(runs):
            for label, period, kind in (("weekly report", week, "week"),
                                        ("monthly report", month, "month")):
                start = time.perf_counter()
                with db.session() as s:
                    _, content, _, html = build_and_store_report(s, period, kind=kind)
                timings[label].append(time.perf_counter() - start)
                flags = len(content["flags"])
                assert "data:image/png" in html
            start = time.perf_counter()
            with db.session() as s:
                answer = answer_money_question(
                    "Show me all expenses from last month that were unusual", s, today=today)
            timings["money question"].append(time.perf_counter() - start)
            assert answer is not None
    rows = [[label, round(statistics.median(v), 3), round(max(v), 3)]
            for label, v in timings.items()]
    print_table(f"Spending report over {total:,} transactions ({ACCOUNTS} accounts x 5 years; "
                f"target <= 2 s weekly, no LLM); {runs} runs", rows,
                ["what", "median s", "max s"])
    print(f"history loaded in {load_s:.1f} s ({total / load_s:,.0f} tx/s); last weekly report "
          f"{week.label} flagged {flags} items")
    result = {"transactions": total, "runs": runs,
              "seconds": {k: {"median": statistics.median(v), "max": max(v)}
                          for k, v in timings.items()},
              "machine": machine()}
    write_json("bank_report", result)
    return result


def acct_ref(acct: Acct):
    from ingest.money.types import AccountRef

    return AccountRef(identifier=acct.number, currency=acct.currency)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
