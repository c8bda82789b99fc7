"""Mail ingest throughput: mbox and maildir, parse only and parse + chunk + embed + store.

A synthetic archive of N messages (default 20,000; `--quick` 2,000) mixes what a household
mailbox holds: plain and HTML-only mails, replies with quoted text and signatures, RFC 2047
subjects, German and English, 8-bit bodies, one in eight with a small text attachment (no OCR).
It is written once as an mbox and once as a maildir, and each is ingested as a first import
(its own fresh embedded PostgreSQL) with the lexical embedder. Large first imports build their
HNSW indexes at the end (ingest/bulk.py); the build is included in the time.
Target: >= 300 messages/s parse + store. Also reported: the no-change re-sync.

    .venv/bin/python bench/mail_ingest.py [--quick] [-n N]
"""

from __future__ import annotations

import argparse
import mailbox
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_workdir, embedded_database, machine, print_table, write_json

RUN_ALL = True
PEOPLE = ["Anna Schmidt <anna@example.de>", "Ben Müller <ben@example.de>",
          "Carol Jones <carol@example.com>", "Stadtwerke <service@stadtwerke.example>",
          "Versicherung AG <kunden@versicherung.example>", "Dave Brown <dave@example.com>"]
TOPICS_DE = ["Nebenkostenabrechnung", "Kündigung Stromvertrag", "Termin Heizungswartung",
             "Rechnung März", "Elternabend", "Urlaubsplanung", "Reparatur Waschmaschine"]
TOPICS_EN = ["Invoice for March", "Meeting on Thursday", "Insurance renewal", "Flight booking",
             "School trip", "Boiler service", "Your order has shipped"]
SENTENCES = [
    "Bitte überweisen Sie den Betrag bis zum Monatsende.",
    "Die Zählerstände wurden am Montag abgelesen.",
    "Der Vertrag verlängert sich um ein weiteres Jahr.",
    "Please find the details below and let me know if anything is missing.",
    "The appointment is confirmed for next week at 10 am.",
    "We have received your payment, thank you.",
    "Die Kündigungsfrist beträgt drei Monate zum Ende der Laufzeit.",
    "The total amount due is 184.20 EUR.",
]


def make_message(i: int, rng: random.Random, prefix: str) -> bytes:
    german = rng.random() < 0.5
    topic = rng.choice(TOPICS_DE if german else TOPICS_EN)
    reply = rng.random() < 0.3
    msg = EmailMessage(policy=SMTP)
    msg["From"] = rng.choice(PEOPLE)
    msg["To"] = rng.choice(PEOPLE)
    msg["Subject"] = ("Re: " if reply else "") + f"{topic} #{i}"
    msg["Date"] = format_datetime(datetime(2019, 1, 1, tzinfo=UTC) + timedelta(hours=i * 3))
    msg["Message-ID"] = f"<{prefix}{i}@bench.example>"
    if reply:
        msg["In-Reply-To"] = f"<{prefix}{max(0, i - 1)}@bench.example>"
    body = " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(3, 12)))
    if reply:
        body += "\n\nOn Mon, someone wrote:\n" + "\n".join(
            f"> {rng.choice(SENTENCES)}" for _ in range(rng.randint(2, 8)))
    body += "\n\n-- \n" + ("Viele Grüße\nAnna" if german else "Best\nCarol")
    if rng.random() < 0.2:
        msg.set_content(f"<html><body><p>{body.replace(chr(10), '<br>')}</p></body></html>",
                        subtype="html")
    else:
        msg.set_content(body)
    if rng.random() < 0.125:
        msg.add_attachment(f"Posten;Betrag\nStrom;{rng.randint(20, 200)},00\n".encode(),
                           maintype="text", subtype="csv", filename=f"posten-{i}.csv")
    return msg.as_bytes()


def write_mbox(path: Path, messages: list[bytes]) -> None:
    with path.open("wb") as fh:
        for data in messages:
            fh.write(b"From bench@example Mon Jan  1 00:00:00 2024\n")
            for line in data.replace(b"\r\n", b"\n").split(b"\n"):
                fh.write((b">" + line if line.startswith(b"From ") else line) + b"\n")
            fh.write(b"\n")


def write_maildir(path: Path, messages: list[bytes]) -> None:
    box = mailbox.Maildir(path, create=True)
    for data in messages:
        box.add(data)


def parse_only(messages: list[bytes]) -> float:
    from app.core.types import ParseInput, RawItem
    from ingest.parsers.email import EmailParser

    parser = EmailParser()
    t0 = time.perf_counter()
    for i, data in enumerate(messages):
        item = RawItem(origin=f"m{i}", name=f"m{i}.eml", data=data)
        parser.parse(ParseInput.of(item, data, "message/rfc822"))
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=20000)
    ap.add_argument("--quick", action="store_true", help="2,000 messages")
    args = ap.parse_args()
    n = 2000 if args.quick else args.n
    rng = random.Random(42)
    t0 = time.perf_counter()
    mbox_msgs = [make_message(i, rng, "mb") for i in range(n)]
    maildir_msgs = [make_message(i, rng, "md") for i in range(n)]
    gen_s = time.perf_counter() - t0
    from ingest.embedders.lexical import LexicalHashEmbedder
    from ingest.pipeline import IngestOptions, Pipeline
    from ingest.sources.maildir import MaildirSource
    from ingest.sources.mbox import MboxSource

    rows, figures = [], {"messages": n, "generate_s": round(gen_s, 1)}
    parse_s = parse_only(mbox_msgs)
    rows.append(("parse only (EmailParser)", n, parse_s, n / parse_s))
    with bench_workdir() as work:
        mbox_path = work / "archive.mbox"
        write_mbox(mbox_path, mbox_msgs)
        write_maildir(work / "Maildir", maildir_msgs)
        # Each archive is a first import into its own fresh database, as an owner's would be.
        for label, source in (("mbox", MboxSource("bench-mbox", mbox_path)),
                              ("maildir", MaildirSource("bench-maildir", work / "Maildir"))):
            with embedded_database(work / f"pg-{label}") as db:
                pipe = Pipeline(db, embedder=LexicalHashEmbedder(), options=IngestOptions())
                t = time.perf_counter()
                report = pipe.run(source)
                took = time.perf_counter() - t
                done = report.counts["indexed"]
                rows.append((f"{label}: parse + store", done, took, done / took))
                t = time.perf_counter()
                again = pipe.run(source)
                resync = time.perf_counter() - t
                rows.append((f"{label}: no-change re-sync", again.counts["unchanged"], resync,
                             again.counts["unchanged"] / resync))
                figures[label] = {"indexed": done, "failed": report.counts["failed"],
                                  "index_build_s": report.index_build_s,
                                  "chunks": report.counts["chunks"], "seconds": round(took, 2),
                                  "msgs_per_s": round(done / took, 1),
                                  "resync_s": round(resync, 2)}
    figures["parse_only_msgs_per_s"] = round(n / parse_s, 1)
    print_table(f"Mail ingest, {n:,} messages per format, lexical embedder ({machine()['cpus']} "
                "CPUs); target >= 300 msg/s parse + store",
                [(a, b, round(c, 2), round(d, 1)) for a, b, c, d in rows],
                ["step", "messages", "seconds", "msg/s"])
    print(f"\nfigures: {write_json('mail_ingest', figures)}")


if __name__ == "__main__":
    main()
