"""IMAP no-change sync time: 10 folders x 2,000 messages on a loopback Dovecot.

A throwaway Dovecot (as in the tests) gets a maildir of F folders with M messages each, written
straight to disk. The ledger a previous full sync leaves behind (every origin with its
UIDVALIDITY and UID) is built from one UID SEARCH per folder; then `ImapSource.scan` runs with
nothing new on the server, several times, and we report the time and the IMAP commands sent
(target: about one round trip per folder). With `--pipeline` the whole thing also goes through
the real pipeline: a full first sync into an embedded PostgreSQL, then timed no-change runs.

    .venv/bin/python bench/imap_nochange.py [--quick] [--folders 10] [--messages 2000] [--pipeline]
"""

from __future__ import annotations

import argparse
import imaplib
import os
import pwd
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, print_table, write_json

RUN_ALL = True
USER, PASSWORD = "bench", "bench-pw"


def populate(maildir: Path, folders: int, messages: int) -> list[str]:
    """Maildir++ folders `.F01` ... with `messages` files each, owned by the mail user."""
    names = [f"F{i:02d}" for i in range(1, folders + 1)]
    body = ("Subject: bench {n}\r\nFrom: a@example.org\r\nMessage-ID: <{f}-{n}@bench>\r\n"
            "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nBody of message {n} in {f}.\r\n")
    for name in names:
        folder = maildir / f".{name}"
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        (folder / "maildirfolder").touch()
        for n in range(1, messages + 1):
            (folder / "cur" / f"1700000000.M{n}P1.bench:2,S").write_text(
                body.format(n=n, f=name))
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        for dirpath, _dirs, filenames in os.walk(maildir):
            os.chown(dirpath, nobody.pw_uid, nobody.pw_gid)
            for f in filenames:
                os.chown(os.path.join(dirpath, f), nobody.pw_uid, nobody.pw_gid)
    return names


def ledger(port: int, names: list[str], source) -> dict:  # type: ignore[no-untyped-def]
    """What a finished full sync leaves in the ledger: every origin, indexed."""
    from app.core.protocols import LedgerEntry

    conn = imaplib.IMAP4("127.0.0.1", port)
    conn.login(USER, PASSWORD)
    known = {}
    for name in names:
        conn.select(name, readonly=True)
        validity = int(conn.response("UIDVALIDITY")[1][0])
        uids = conn.uid("SEARCH", "ALL")[1][0].split()
        for uid in uids:
            origin = source.origin(name, validity, int(uid))
            known[origin] = LedgerEntry(origin=origin, status="indexed", sha256=None, size=None,
                                        mtime=None, transient=False, cursor={})
    conn.logout()
    return known


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folders", type=int, default=10)
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--pipeline", action="store_true", help="also a full pipeline sync")
    ap.add_argument("--quick", action="store_true", help="10 folders x 200 messages")
    args = ap.parse_args()
    if args.quick:
        args.messages = 200
    from ingest.sources.imap import ImapSource
    from tests.mail.dovecot import CountingIMAP4, Dovecot

    with tempfile.TemporaryDirectory(prefix="hrb-imap-", dir="/tmp") as tmp:
        server = Dovecot(Path(tmp))
        server.add_user(USER, PASSWORD)
        (Path(tmp) / "mail").mkdir(parents=True)
        names = populate(Path(tmp) / "mail" / USER, args.folders, args.messages)
        server.start()
        try:
            counter: Counter[str] = Counter()

            def connect() -> imaplib.IMAP4:
                conn = CountingIMAP4("127.0.0.1", server.port, timeout=60, commands=counter)
                conn.login(USER, PASSWORD)
                return conn

            source = ImapSource("bench", host="127.0.0.1", username=USER,
                                password=lambda: PASSWORD, folders=names, security="none",
                                mirror_deletions=True, connector=connect)
            t = time.perf_counter()
            known = ledger(server.port, names, source)  # also lets Dovecot index every folder
            index_s = time.perf_counter() - t
            times = []
            for _ in range(args.runs):
                counter.clear()
                t = time.perf_counter()
                events = list(source.scan(known))
                times.append(time.perf_counter() - t)
                assert events == [], events[:3]
            commands = dict(counter)
            rows = [("scan, no change (median)", len(known), statistics.median(times) * 1000,
                     ", ".join(f"{k} {v}" for k, v in sorted(commands.items())))]
            figures = {"folders": args.folders, "messages_per_folder": args.messages,
                       "known": len(known), "first_index_s": round(index_s, 2),
                       "scan_ms": [round(x * 1000, 1) for x in times],
                       "scan_median_ms": round(statistics.median(times) * 1000, 1),
                       "commands": commands}
            if args.pipeline:
                figures["pipeline"] = pipeline_runs(source, counter, rows)
        finally:
            server.stop()
    print_table(f"IMAP no-change sync, {args.folders} folders x {args.messages:,} messages, "
                f"loopback Dovecot ({machine()['cpus']} CPUs)", rows,
                ["what", "messages", "ms", "IMAP commands per sync"])
    print(f"\nfigures: {write_json('imap_nochange', figures)}")


def pipeline_runs(source, counter: Counter[str], rows: list) -> dict:  # type: ignore[no-untyped-def]
    from bench.common import bench_workdir, embedded_database
    from ingest.embedders.lexical import LexicalHashEmbedder
    from ingest.pipeline import IngestOptions, Pipeline

    with bench_workdir() as work, embedded_database(work / "pg") as db:
        pipe = Pipeline(db, embedder=LexicalHashEmbedder(), options=IngestOptions())
        t = time.perf_counter()
        first = pipe.run(source)
        full_s = time.perf_counter() - t
        rows.append(("pipeline: first full sync", first.counts["indexed"], full_s * 1000,
                     f"{first.counts['indexed'] / full_s:.0f} msg/s"))
        times = []
        for _ in range(3):
            counter.clear()
            t = time.perf_counter()
            again = pipe.run(source)
            times.append(time.perf_counter() - t)
            assert again.counts["indexed"] == 0
        rows.append(("pipeline: no-change sync (median)", first.counts["indexed"],
                     statistics.median(times) * 1000,
                     ", ".join(f"{k} {v}" for k, v in sorted(counter.items()))))
        return {"first_sync_s": round(full_s, 1), "indexed": first.counts["indexed"],
                "nochange_ms": [round(x * 1000, 1) for x in times]}


if __name__ == "__main__":
    main()
