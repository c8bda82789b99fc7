"""A synthetic household corpus with known answers, for eval tests and benches (deterministic).

Each *case* plants one fact in a target document and adds distractors: documents of the same
kind about something else (another company's contract), near-duplicates (the neighbouring
months' bills, a quote next to its invoice, an older rent letter, a forwarded copy of a mail)
and filler notes. Every case yields a question with `expected` evidence (the target's relative
path and a text snippet that holds the answer) and the `answer`.

    python -m tests.support.eval_synth OUT_DIR [--scale 1] [--seed 1]   # OUT_DIR/corpus + QUESTIONS.jsonl

Scale 1 gives 8 cases (~60 documents); `--scale 40` gives 2,000+ documents.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from tests.support.render import Doc, render

DOCS_PER_SCALE = 50
CASES_PER_SCALE = 8
ME = "Sam Becker"
ME_MAIL = "Sam Becker <sam.becker@example.org>"
CITIES = ["Berlin", "Hamburg", "Köln", "Leipzig", "Dresden", "Bremen", "Freiburg", "Bonn", "Kassel", "Ulm", "Mainz", "Potsdam"]
NAMES = ["Nord", "Süd", "Plus", "Direkt", "Regio", "Prima", "Stadt", "Land", "Blau", "Grün", "Alpha", "Delta", "Vita", "Nova"]
MONTHS_EN = (
    ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
)
MONTHS_DE = (
    ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"]
)
MERCHANTS = [
    "Bäckerei Kim",
    "Rewe Markt",
    "Apotheke am Park",
    "Buchhandlung Lesezeit",
    "Tankstelle Ost",
    "Drogerie Mai",
    "Café Central",
    "Baumarkt Holz",
    "Kino Lux",
    "Blumen Rosa",
    "Metzgerei Huber",
    "Fahrradladen Speiche",
]
FILLER_WORDS = ["garden", "plan", "shelf", "recipe", "pasta", "holiday", "packing", "router", "password", "hint", "school", "bike", "repair", "paint", "balcony", "plants", "wifi", "birthday", "gift", "list", "weekend", "trip", "tickets", "Einkaufsliste", "Gartenplan", "Regal", "Urlaub", "Fahrrad", "Reparatur", "Geburtstag", "Ausflug"]


@dataclass(frozen=True, slots=True)
class Question:
    question: str
    expected: list[str]
    answer: str | None
    kind: str
    lang: str

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "expected": self.expected,
            "answer": self.answer,
            "kind": self.kind,
            "lang": self.lang,
        }


class Household:
    """Draws names, dates, amounts and file paths; unique per corpus."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.counter = 0
        self.used: set[str] = set()

    def company(self, stem: str) -> str:
        for _ in range(1000):
            name = f"{stem} {self.rng.choice(NAMES)} {self.rng.choice(CITIES)}"
            if name not in self.used:
                self.used.add(name)
                return name
        name = f"{stem} {len(self.used)}"
        self.used.add(name)
        return name

    def path(self, folder: str, slug: str, fmt: str) -> str:
        self.counter += 1
        return f"{folder}/{self.counter:05d}-{slug}.{fmt}"

    def day(self, year: int = 2024) -> date:
        return date(year, 1, 1) + timedelta(days=self.rng.randrange(360))

    def amount(self, lo: float, hi: float) -> str:
        return f"{self.rng.uniform(lo, hi):.2f}"

    def ref(self, prefix: str) -> str:
        return f"{prefix}-{self.rng.randrange(100000, 999999)}"

    def fmt(self, *choices: str) -> str:
        return self.rng.choice(choices)


def _doc(
    h: Household,
    folder: str,
    slug: str,
    fmt: str,
    title: str,
    sender: str,
    sections: list[tuple[str, list[str]]],
    lang: str = "en",
    day: date | None = None,
    kind: str = "other",
    attachments: tuple[Doc, ...] = (),
) -> Doc:
    return Doc(
        path=h.path(folder, slug, fmt),
        kind=kind,
        title=title,
        day=day or h.day(),
        sender=sender,
        recipient=ME_MAIL if fmt == "eml" else ME,
        sections=sections,
        lang=lang,
        attachments=attachments,
    )


# -- cases: each returns (documents, question) -----------------------------------------------------
def case_contract(h: Household) -> tuple[list[Doc], Question]:
    de = h.rng.random() < 0.5
    subject = h.rng.choice(
        ["Fitnessstudio-Vertrag", "Mobilfunkvertrag", "Stromliefervertrag"]
        if de
        else ["gym membership", "mobile phone plan", "electricity contract"]
    )
    docs, target = [], None
    for i in range(2):  # the target and another provider's contract of the same kind
        company = h.company(h.rng.choice(["FitLife", "Telco", "Voltwerk", "NetWave"]))
        months = 1 + i + h.rng.randrange(5) if i == 0 else 7 + h.rng.randrange(5)
        if de:
            snippet = f"Kündigungsfrist von {months} Monaten"
            sections = [
                ("Laufzeit", [f"Der {subject} mit {company} beginnt am {h.day():%d.%m.%Y}."]),
                (
                    "Kündigung",
                    [
                        f"Es gilt eine {snippet} zum Ende der Laufzeit.",
                        "Die Kündigung bedarf der Textform.",
                    ],
                ),
                ("Entgelt", [f"Das monatliche Entgelt beträgt {h.amount(9, 80)} EUR."]),
            ]
            title = f"{subject} {company}"
        else:
            snippet = f"notice period of {months} months"
            sections = [
                ("Term", [f"The {subject} with {company} starts on {h.day():%Y-%m-%d}."]),
                (
                    "Cancellation",
                    [
                        f"Either party may cancel with a {snippet}.",
                        "Notice must be given in writing.",
                    ],
                ),
                ("Fees", [f"The monthly fee is {h.amount(9, 80)} EUR."]),
            ]
            title = f"{company} {subject} contract"
        doc = _doc(
            h,
            "contracts",
            f"contract-{i}",
            h.fmt("pdf", "docx", "html", "md"),
            title,
            company,
            sections,
            "de" if de else "en",
            kind="contract",
        )
        docs.append(doc)
        if i == 0:
            target = (doc, company, snippet, months)
    doc, company, snippet, months = target  # type: ignore[misc]
    q = (
        f"Welche Kündigungsfrist hat mein {subject} bei {company}?"
        if de
        else f"What is the notice period of my {subject} with {company}?"
    )
    answer = f"{months} Monate" if de else f"{months} months"
    return docs, Question(q, [doc.path, snippet], answer, "contract", "de" if de else "en")


def case_bill(h: Household) -> tuple[list[Doc], Question]:
    company = h.company("Stadtwerke")
    year = 2023 + h.rng.randrange(2)
    start = h.rng.randrange(10)
    docs, totals = [], []
    for m in range(start, start + 3):  # three near-identical monthly bills
        total = h.amount(40, 140)
        kwh = h.rng.randrange(150, 450)
        sections = [
            (
                "Electricity bill",
                [
                    f"Customer {ME}, meter reading {kwh} kWh.",
                    f"Total for {MONTHS_EN[m]} {year}: {total} EUR.",
                    "The amount will be debited on the 15th.",
                ],
            )
        ]
        docs.append(
            _doc(
                h,
                "bills",
                f"bill-{MONTHS_EN[m].lower()}-{year}",
                h.fmt("pdf", "txt", "html"),
                f"{company} electricity bill {MONTHS_EN[m]} {year}",
                company,
                sections,
                day=date(year, m + 1, 28),
                kind="other",
            )
        )
        totals.append((MONTHS_EN[m], total))
    pick = h.rng.randrange(3)
    month, total = totals[pick]
    q = f"How much was the {company} electricity bill for {month} {year}?"
    return docs, Question(
        q, [docs[pick].path, f"Total for {month} {year}: {total} EUR"], f"{total} EUR", "bill", "en"
    )


def case_statement(h: Household) -> tuple[list[Doc], Question]:
    bank = h.company("Sparkasse")
    merchant = h.rng.choice(MERCHANTS)
    year, month = 2024, 1 + h.rng.randrange(10)
    docs, target_line, target_amount = [], "", ""
    for k in range(2):  # this month's statement and next month's (same merchant, other amount)
        lines = []
        for _ in range(8):
            d = date(year, month + k, 1 + h.rng.randrange(27))
            shop = h.rng.choice([m for m in MERCHANTS if m != merchant])
            lines.append(f"{d:%d.%m.%Y} Kartenzahlung {shop} -{h.amount(3, 90)} EUR")
        d = date(year, month + k, 1 + h.rng.randrange(27))
        amount = h.amount(3, 90)
        line = f"{d:%d.%m.%Y} Kartenzahlung {merchant} -{amount} EUR"
        lines.insert(h.rng.randrange(len(lines)), line)
        sections = [("Umsätze", lines), ("", [f"Neuer Saldo: {h.amount(200, 3000)} EUR"])]
        docs.append(
            _doc(
                h,
                "statements",
                f"kontoauszug-{year}-{month + k:02d}",
                h.fmt("txt", "pdf"),
                f"Kontoauszug {MONTHS_DE[month + k - 1]} {year} {bank}",
                bank,
                sections,
                "de",
                date(year, month + k, 28),
                "statement",
            )
        )
        if k == 0:
            target_line, target_amount, target_day = line, amount, d
    q = f"Wie viel habe ich am {target_day:%d.%m.%Y} bei {merchant} bezahlt?"
    snippet = target_line.split(" Kartenzahlung ")[1]
    return docs, Question(q, [docs[0].path, snippet], f"{target_amount} EUR", "statement", "de")


def case_rent(h: Household) -> tuple[list[Doc], Question]:
    landlord = h.company("Hausverwaltung")
    docs, rents = [], []
    for year in (2022, 2024):  # an older increase letter is the near-duplicate
        rent = h.amount(650, 1400)
        snippet = f"beträgt die Nettokaltmiete ab dem 01.03.{year} {rent} EUR"
        sections = [
            (
                "",
                [
                    "Sehr geehrte Mieterin, sehr geehrter Mieter,",
                    f"gemäß § 558 BGB {snippet} monatlich.",
                    "Bitte passen Sie Ihren Dauerauftrag an.",
                ],
            ),
            ("", ["Mit freundlichen Grüßen", landlord]),
        ]
        docs.append(
            _doc(
                h,
                "letters",
                f"mieterhoehung-{year}",
                h.fmt("docx", "pdf", "txt"),
                f"Mieterhöhung zum 01.03.{year}",
                landlord,
                sections,
                "de",
                date(year, 1, 10),
                "letter",
            )
        )
        rents.append((year, rent, snippet))
    year, rent, snippet = rents[1]
    q = f"Wie hoch ist die Miete ab März {year} laut {landlord}?"
    return docs, Question(q, [docs[1].path, snippet], f"{rent} EUR", "letter", "de")


def case_mail(h: Household) -> tuple[list[Doc], Question]:
    school = h.company("Grundschule")
    other = h.company("Gymnasium")
    d = h.day(2025)
    room = h.rng.randrange(101, 330)
    snippet = f"parents' evening takes place on {d:%d %B %Y} at 19:00 in room {room}"
    body = [
        (
            "",
            [
                "Dear parents,",
                f"the {snippet}.",
                "We look forward to seeing you.",
                f"Best regards, {school}",
            ],
        )
    ]
    target = _doc(
        h,
        "mail",
        "parents-evening",
        "eml",
        f"Parents' evening at {school}",
        f"{school} <office@school.example.org>",
        body,
        day=d - timedelta(days=14),
        kind="email",
    )
    fwd = _doc(
        h,
        "mail",
        "fwd-parents-evening",
        "eml",
        f"Fwd: Parents' evening at {school}",
        "Alex Becker <alex.becker@example.org>",
        [("", ["FYI, see below.", "---------- Forwarded message ----------", *body[0][1]])],
        day=d - timedelta(days=12),
        kind="email",
    )
    d2 = h.day(2025)
    distractor = _doc(
        h,
        "mail",
        "sports-day",
        "eml",
        f"Sports day at {other}",
        f"{other} <office@school.example.org>",
        [
            (
                "",
                [
                    "Dear parents,",
                    f"the sports day takes place on {d2:%d %B %Y} at 9:00.",
                    f"Best regards, {other}",
                ],
            )
        ],
        day=d2 - timedelta(days=10),
        kind="email",
    )
    q = f"When is the parents' evening at {school}?"
    return [target, fwd, distractor], Question(
        q, [target.path, snippet], f"{d:%d %B %Y}", "email", "en"
    )


def case_policy(h: Household) -> tuple[list[Doc], Question]:
    insurer = h.company("Allsure")
    docs, refs = [], []
    for product in ("household insurance", "personal liability insurance"):
        ref = h.ref("HP" if product.startswith("household") else "LP")
        sections = [
            (
                "Policy schedule",
                [
                    f"Insurer: {insurer}. Policyholder: {ME}.",
                    f"Your {product} policy number is {ref}.",
                    f"Annual premium: {h.amount(60, 300)} EUR.",
                ],
            )
        ]
        docs.append(
            _doc(
                h,
                "insurance",
                product.split()[0],
                h.fmt("pdf", "docx", "html"),
                f"{insurer} {product} policy",
                insurer,
                sections,
                kind="contract",
            )
        )
        refs.append(ref)
    q = f"What is the policy number of my {insurer} household insurance?"
    return docs, Question(
        q,
        [docs[0].path, f"household insurance policy number is {refs[0]}"],
        refs[0],
        "contract",
        "en",
    )


def case_invoice(h: Household) -> tuple[list[Doc], Question]:
    firm = h.company("Plumbing")
    service = h.rng.choice(
        [
            "repair of the kitchen tap",
            "replacement of the boiler valve",
            "unblocking of the bathroom drain",
        ]
    )
    quote = h.amount(80, 400)
    total = h.amount(80, 400)
    ref = h.ref("INV")
    inv = Doc(
        path=h.path("invoices", "invoice", "pdf"),
        kind="other",
        title=f"Invoice {ref}",
        day=h.day(),
        sender=firm,
        recipient=ME,
        sections=[
            (
                "Invoice",
                [
                    f"Invoice {ref} from {firm} for the {service}.",
                    f"Total amount due for the {service}: {total} EUR.",
                ],
            )
        ],
    )
    mail = _doc(
        h,
        "mail",
        "invoice-mail",
        "eml",
        f"Your invoice {ref}",
        f"{firm} <billing@trade.example.org>",
        [("", ["Dear customer,", "please find your invoice attached.", firm])],
        day=inv.day,
        kind="email",
        attachments=(inv,),
    )
    quote_doc = _doc(
        h,
        "invoices",
        "quote",
        h.fmt("docx", "html"),
        f"Quote from {firm}",
        firm,
        [
            (
                "Quote",
                [
                    f"Estimated cost for the {service}: {quote} EUR.",
                    "This quote is valid for 30 days.",
                ],
            )
        ],
        kind="other",
    )
    q = f"How much did {firm} invoice for the {service}?"
    name = inv.path.rsplit("/", 1)[1]
    return [mail, quote_doc], Question(
        q,
        [name, f"Total amount due for the {service}: {total} EUR"],
        f"{total} EUR",
        "invoice",
        "en",
    )


CASES: tuple[Callable[[Household], tuple[list[Doc], Question]], ...] = (
    case_contract,
    case_bill,
    case_statement,
    case_rent,
    case_mail,
    case_policy,
    case_invoice,
    case_contract,
)


def filler(h: Household) -> Doc:
    words = [h.rng.choice(FILLER_WORDS) for _ in range(h.rng.randrange(30, 120))]
    paras = [" ".join(words[i : i + 15]).capitalize() + "." for i in range(0, len(words), 15)]
    return _doc(
        h,
        "notes",
        "note",
        h.fmt("md", "txt", "html"),
        f"Note {h.counter}",
        ME,
        [("", paras)],
        kind="note",
    )


def build(scale: int = 1, seed: int = 1) -> tuple[list[Doc], list[Question]]:
    """All documents and questions of a corpus (pure: nothing written)."""
    if scale < 1:
        raise ValueError(f"scale must be at least 1, got {scale}")
    h = Household(random.Random(seed))
    docs: list[Doc] = []
    questions: list[Question] = []
    for i in range(CASES_PER_SCALE * scale):
        case_docs, q = CASES[i % len(CASES)](h)
        docs.extend(case_docs)
        questions.append(q)
    while len(docs) < DOCS_PER_SCALE * scale:
        docs.append(filler(h))
    return docs, questions


def iter_files(docs: list[Doc]) -> Iterator[tuple[str, bytes]]:
    for d in docs:
        yield d.path, render(d)


def generate(out: Path, *, scale: int = 1, seed: int = 1) -> dict[str, Any]:
    """Write OUT/corpus/<kind>/<file> and OUT/QUESTIONS.jsonl; return a summary."""
    docs, questions = build(scale, seed)
    corpus = out / "corpus"
    formats: Counter[str] = Counter()
    for rel, data in iter_files(docs):
        path = corpus / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        formats[rel.rsplit(".", 1)[1]] += 1
    qfile = out / "QUESTIONS.jsonl"
    qfile.write_text(
        "".join(json.dumps(q.to_json(), ensure_ascii=False) + "\n" for q in questions),
        encoding="utf-8",
    )
    return {
        "corpus": str(corpus),
        "questions": str(qfile),
        "documents": len(docs),
        "question_count": len(questions),
        "formats": dict(sorted(formats.items())),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description="Write a synthetic household corpus with known answers."
    )
    ap.add_argument("out", type=Path)
    ap.add_argument("--scale", type=int, default=1, help=f"{DOCS_PER_SCALE} documents per unit")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    print(json.dumps(generate(args.out, scale=args.scale, seed=args.seed), indent=2))


if __name__ == "__main__":
    main()
