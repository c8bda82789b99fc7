"""Household text for the synthetic bench corpus: contracts, letters, invoices, notes and mails in
English and German, deterministic from a seed (pure: no I/O).

The text is built from clause templates with filled slots (companies, people, places, amounts,
dates) plus a long tail of generated names and compound words, so word frequencies look like a
real household's (a few very common terms, many rare ones) and full-text and vector search
behave realistically. `corpus.py` renders the `DocSpec`s into PDF, DOCX, HTML, text and .eml.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

KINDS = ("contract", "letter", "invoice", "note", "email")

FIRST = ("Alex Anna Ben Clara David Emma Felix Greta Hannah Jonas Julia Karl Lena Lukas Marie "
         "Max Mia Noah Paul Sophie Tom Laura Moritz Nina Oskar Ida Theo Frieda Elias").split()
LAST = ("Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter "
        "Klein Wolf Neumann Schwarz Braun Zimmermann Krüger Hartmann Lange Werner Krause").split()
CITIES = ("Berlin Hamburg München Köln Frankfurt Leipzig Dresden Hannover Bremen Freiburg Bonn "
          "Münster Augsburg Kassel Potsdam Rostock Ulm Mainz").split()
STREETS = ("Hauptstraße Bahnhofstraße Gartenweg Lindenallee Schulstraße Bergstraße Mühlenweg "
           "Kirchplatz Rosenstraße Am Markt").split()
SYLL = ("ka lo mi ne ru ta be so fi da ge ho li ma no pe ra se ti vo wa ze bu ke").split()

# Per kind: (company stems, products or subjects) in each language.
DOMAINS = {
    "en": {
        "contract": (("FitLife", "Telco", "HomeShield", "Voltwerk", "NetWave", "AutoLease",
                      "Allsure", "Greenpower"),
                     ("gym membership", "mobile phone plan", "household insurance",
                      "electricity supply", "broadband internet", "car lease",
                      "liability insurance", "apartment lease", "streaming subscription")),
        "letter": (("Tax Office", "City Council", "Sparkasse", "Primary School", "Dr. Practice",
                    "Landlord", "Employer HR", "Health Insurer"),
                   ("rent adjustment", "tax assessment", "annual account statement",
                    "school trip", "appointment reminder", "salary statement",
                    "contribution increase", "meter reading")),
        "invoice": (("Plumbing", "Dental Clinic", "Electric", "Garage", "Shop", "Gardening",
                     "Chimney Sweep", "Optician"),
                    ("repair of the kitchen tap", "dental treatment", "replacement of fuse box",
                     "annual car service", "online order", "hedge trimming",
                     "chimney inspection", "new glasses")),
        "note": (("Home", "Family", "Garden", "Travel", "Kitchen"),
                 ("home network and appliances", "holiday packing list", "garden plan",
                  "recipe collection", "meeting notes", "car maintenance log",
                  "passwords hint list", "moving checklist")),
        "email": (("Stadtwerke", "Parcel", "School", "Neighbours", "Club"),
                  ("your monthly bill", "delivery update", "parents evening",
                   "street party", "membership renewal", "booking confirmation")),
    },
    "de": {
        "contract": (("FitLife", "Telco", "HausSchutz", "Voltwerk", "NetzWelle", "AutoLeasing",
                      "Allsicher", "Grünstrom"),
                     ("Fitnessstudio-Mitgliedschaft", "Mobilfunkvertrag", "Hausratversicherung",
                      "Stromliefervertrag", "Internetanschluss", "Leasingvertrag",
                      "Haftpflichtversicherung", "Mietvertrag", "Zeitschriftenabonnement")),
        "letter": (("Finanzamt", "Stadtverwaltung", "Sparkasse", "Grundschule", "Arztpraxis",
                    "Hausverwaltung", "Personalabteilung", "Krankenkasse"),
                   ("Mieterhöhung", "Steuerbescheid", "Jahreskontoauszug", "Klassenfahrt",
                    "Terminerinnerung", "Gehaltsabrechnung", "Beitragserhöhung",
                    "Zählerablesung")),
        "invoice": (("Sanitär", "Zahnarztpraxis", "Elektro", "Autowerkstatt", "Versandhandel",
                     "Gartenbau", "Schornsteinfeger", "Optiker"),
                    ("Reparatur des Küchenwasserhahns", "Zahnbehandlung",
                     "Austausch des Sicherungskastens", "Jahresinspektion",
                     "Onlinebestellung", "Heckenschnitt", "Schornsteinprüfung",
                     "neue Brille")),
        "note": (("Haushalt", "Familie", "Garten", "Reise", "Küche"),
                 ("Heimnetz und Geräte", "Packliste Urlaub", "Gartenplan", "Rezeptsammlung",
                  "Besprechungsnotizen", "Wartungsheft Auto", "Umzugscheckliste")),
        "email": (("Stadtwerke", "Paketdienst", "Schule", "Nachbarn", "Verein"),
                  ("Ihre Monatsrechnung", "Zustellung Ihres Pakets", "Elternabend",
                   "Straßenfest", "Verlängerung der Mitgliedschaft", "Buchungsbestätigung")),
    },
}

# Section headings and clause templates. Slots: {company} {subject} {amount} {months} {date}
# {person} {city} {street} {ref} {word} {percent} {day}.
SECTIONS = {
    "en": {
        "contract": [
            ("Term", ["The {subject} starts on {date} and runs for an initial term of {months} months.",
                      "After the initial term the {subject} renews automatically for a further {months} months.",
                      "The contract number is {ref}; please quote it in all correspondence."]),
            ("Notice period", ["Either party may cancel with a notice period of {months} months before the end of the term.",
                               "Notice must be given in writing to {company}, {street}, {city}.",
                               "A cancellation by e-mail is accepted if it is confirmed by {company}."]),
            ("Fees", ["The monthly fee is {amount} EUR, payable in advance by direct debit.",
                      "A one-off activation fee of {amount} EUR is charged with the first invoice.",
                      "Late payments incur a reminder fee of {amount} EUR."]),
            ("Price changes", ["{company} may raise the fee once per year by up to {percent} percent.",
                               "The customer may cancel with effect from the date of a price increase."]),
            ("Liability", ["{company} is liable for damage caused by gross negligence only.",
                           "Claims must be reported within {months} months of the {word} incident."]),
            ("Data protection", ["Personal data is processed only to perform this contract.",
                                 "The customer may request a copy of the stored data at any time."]),
        ],
        "letter": [
            ("", ["Dear {person},", "we are writing to you regarding your {subject} (reference {ref}).",
                  "From {date} the amount changes to {amount} EUR per month.",
                  "Please check the enclosed {word} statement and contact us if anything is unclear.",
                  "If you disagree you may object within {months} weeks of receiving this letter."]),
            ("Details", ["The calculation is based on the figures of {date} and the {word} index.",
                         "Payments already made will be credited against the new amount.",
                         "Our office in {city} is open Monday to Friday from 9 to 16."]),
            ("", ["Kind regards,", "{company}, {street}, {city}"]),
        ],
        "invoice": [
            ("Invoice", ["Invoice number {ref} dated {date} for {subject}.",
                         "Customer: {person}, {street}, {city}.",
                         "Work carried out on {date} by {company}."]),
            ("Items", ["Labour {day} hours at {amount} EUR per hour.",
                       "Material: {word} parts, total {amount} EUR.",
                       "Travel costs flat rate {amount} EUR.",
                       "Subtotal {amount} EUR plus VAT {percent} percent."]),
            ("Payment", ["The total of {amount} EUR is due within {day} days without deduction.",
                         "Please transfer the amount quoting invoice number {ref}."]),
        ],
        "note": [
            ("", ["Notes on {subject}, last updated {date}.",
                  "The {word} router is in the hallway cupboard; the admin sticker is on the back.",
                  "Remember to renew the {word} filter every {months} months.",
                  "{person} has the spare key; the code for the garage is written in the blue folder."]),
            ("To do", ["Call {company} about the {word} before {date}.",
                       "Buy {word} and {word} for the weekend in {city}.",
                       "Check whether the warranty of the {word} ends on {date}."]),
        ],
        "email": [
            ("", ["Hello {person},", "thank you for your message about the {subject}.",
                  "The amount of {amount} EUR will be collected on {date} from your account.",
                  "Your customer number is {ref}.",
                  "See you on {date} in {city}; bring the {word} please.",
                  "Best wishes, {company}"]),
        ],
    },
    "de": {
        "contract": [
            ("Laufzeit", ["Die {subject} beginnt am {date} und hat eine Mindestlaufzeit von {months} Monaten.",
                          "Danach verlängert sich der Vertrag automatisch um jeweils {months} Monate.",
                          "Die Vertragsnummer lautet {ref}; bitte geben Sie sie bei jeder Anfrage an."]),
            ("Kündigung", ["Die Kündigungsfrist beträgt {months} Monate zum Ende der Laufzeit.",
                           "Die Kündigung muss schriftlich an {company}, {street}, {city} erfolgen.",
                           "Eine Kündigung per E-Mail gilt erst nach Bestätigung durch {company}."]),
            ("Entgelt", ["Der monatliche Beitrag beträgt {amount} EUR und wird per Lastschrift eingezogen.",
                         "Einmalig wird eine Anschlussgebühr von {amount} EUR berechnet.",
                         "Für Mahnungen wird eine Gebühr von {amount} EUR erhoben."]),
            ("Preisänderungen", ["{company} darf den Beitrag einmal jährlich um bis zu {percent} Prozent erhöhen.",
                                 "Bei einer Preiserhöhung besteht ein Sonderkündigungsrecht."]),
            ("Haftung", ["{company} haftet nur für Schäden aus grober Fahrlässigkeit.",
                         "Schäden sind innerhalb von {months} Monaten nach dem {word} zu melden."]),
            ("Datenschutz", ["Personenbezogene Daten werden nur zur Vertragserfüllung verarbeitet.",
                             "Sie können jederzeit Auskunft über die gespeicherten Daten verlangen."]),
        ],
        "letter": [
            ("", ["Sehr geehrte Frau {person},", "wir schreiben Ihnen wegen Ihrer {subject} (Aktenzeichen {ref}).",
                  "Ab dem {date} ändert sich der Betrag auf {amount} EUR monatlich.",
                  "Bitte prüfen Sie die beigefügte {word} und melden Sie sich bei Fragen.",
                  "Gegen diesen Bescheid können Sie innerhalb von {months} Wochen Einspruch einlegen."]),
            ("Einzelheiten", ["Grundlage der Berechnung sind die Werte vom {date} und der {word}.",
                              "Bereits geleistete Zahlungen werden mit dem neuen Betrag verrechnet.",
                              "Unser Büro in {city} ist montags bis freitags von 9 bis 16 Uhr geöffnet."]),
            ("", ["Mit freundlichen Grüßen", "{company}, {street}, {city}"]),
        ],
        "invoice": [
            ("Rechnung", ["Rechnungsnummer {ref} vom {date} für {subject}.",
                          "Kunde: {person}, {street}, {city}.",
                          "Leistung erbracht am {date} durch {company}."]),
            ("Positionen", ["Arbeitszeit {day} Stunden zu je {amount} EUR.",
                            "Material: {word}, gesamt {amount} EUR.",
                            "Anfahrtspauschale {amount} EUR.",
                            "Zwischensumme {amount} EUR zuzüglich {percent} Prozent Mehrwertsteuer."]),
            ("Zahlung", ["Der Gesamtbetrag von {amount} EUR ist innerhalb von {day} Tagen ohne Abzug fällig.",
                         "Bitte überweisen Sie den Betrag unter Angabe der Rechnungsnummer {ref}."]),
        ],
        "note": [
            ("", ["Notizen zu {subject}, zuletzt aktualisiert am {date}.",
                  "Der {word} steht im Flurschrank; das Passwort klebt auf der Rückseite.",
                  "Den {word} alle {months} Monate wechseln.",
                  "{person} hat den Ersatzschlüssel; der Code für die Garage steht im blauen Ordner."]),
            ("Zu erledigen", ["{company} wegen {word} vor dem {date} anrufen.",
                              "{word} und {word} fürs Wochenende in {city} besorgen.",
                              "Prüfen, ob die Garantie für den {word} am {date} endet."]),
        ],
        "email": [
            ("", ["Hallo {person},", "vielen Dank für Ihre Nachricht zur {subject}.",
                  "Der Betrag von {amount} EUR wird am {date} von Ihrem Konto abgebucht.",
                  "Ihre Kundennummer lautet {ref}.",
                  "Bis zum {date} in {city}; bitte bring den {word} mit.",
                  "Viele Grüße, {company}"]),
        ],
    },
}

# Open-class words for the long tail; German ones also combine into compounds.
WORDS = {
    "en": ("heating boiler washing machine dishwasher fridge freezer router printer laptop "
           "bicycle window roof balcony cellar garage water meter gas smoke detector insurance "
           "policy premium deductible claim receipt warranty guarantee appointment prescription "
           "vaccination passport tenancy deposit mortgage pension allowance childcare tuition "
           "subscription voucher refund invoice reminder installment fuel tyre battery solar "
           "panel thermostat radiator chimney gutter hedge lawn mower parcel courier "
           "neighbour ladder drill carpet curtain mattress sofa lamp kettle").split(),
    "de": ("Heizung Kessel Waschmaschine Spülmaschine Kühlschrank Gefrierschrank Router Drucker "
           "Fahrrad Fenster Dach Balkon Keller Garage Wasserzähler Gas Rauchmelder Versicherung "
           "Police Prämie Selbstbeteiligung Schaden Quittung Garantie Termin Rezept Impfung "
           "Reisepass Kaution Hypothek Rente Kindergeld Betreuung Gutschein Erstattung Mahnung "
           "Rate Reifen Batterie Solaranlage Thermostat Heizkörper Schornstein Dachrinne Hecke "
           "Rasenmäher Paket Nachbar Leiter Bohrmaschine Teppich Vorhang Matratze Lampe").split(),
}
_DE_PARTS = ("Haus Miet Kranken Strom Wasser Garten Auto Steuer Kinder Urlaub Hof Fenster "
             "Wohn Kauf Lohn Zins").split()
_DE_HEADS = ("vertrag versicherung rechnung abrechnung frist bescheid zahlung kosten beitrag "
             "nummer termin schreiben konto").split()

_FILLER = {
    "en": ["The {word} was checked on {date} and no further {word} is needed.",
           "According to {person}, the {word} in {city} should be replaced by {date}.",
           "We compared the offers of {company} and decided on the {word} option.",
           "The previous {word} cost {amount} EUR, which is {percent} percent less.",
           "A copy of the {word} is kept in the folder labelled {ref}.",
           "{person} asked whether the {word} also covers the {word} in the {word}."],
    "de": ["Der {word} wurde am {date} geprüft; eine weitere {word} ist nicht nötig.",
           "Laut {person} soll die {word} in {city} bis zum {date} ersetzt werden.",
           "Wir haben die Angebote von {company} verglichen und uns für die {word} entschieden.",
           "Die bisherige {word} kostete {amount} EUR, also {percent} Prozent weniger.",
           "Eine Kopie der {word} liegt im Ordner mit der Aufschrift {ref}.",
           "{person} fragte, ob die {word} auch den {word} im {word} abdeckt."],
}


@dataclass
class DocSpec:
    """One generated document: kind, language, title, date, sections and (mails) header facts."""

    kind: str
    lang: str
    title: str
    day: date
    company: str
    person: str
    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    sender: str = ""
    recipient: str = ""

    def paragraphs(self) -> list[str]:
        return [p for _, paras in self.sections for p in paras]

    def text(self) -> str:
        out: list[str] = []
        for heading, paras in self.sections:
            if heading:
                out.append(heading)
            out.extend(paras)
        return "\n\n".join(out)


class HouseholdWriter:
    """Deterministic household documents from one `random.Random`."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        # A long tail of made-up brand and place names, drawn with Zipf-like weights.
        self.rare = ["".join(rng.choice(SYLL) for _ in range(rng.randint(2, 4))).capitalize()
                     for _ in range(3000)]
        self.rare_weights = [1.0 / (i + 1) for i in range(len(self.rare))]

    def _rare(self) -> str:
        return self.rng.choices(self.rare, weights=self.rare_weights, k=1)[0]

    def _word(self, lang: str) -> str:
        r = self.rng.random()
        if r < 0.12:
            return self._rare()
        if lang == "de" and r < 0.40:
            return self.rng.choice(_DE_PARTS) + self.rng.choice(_DE_HEADS)
        return self.rng.choice(WORDS[lang])

    def _fill(self, template: str, spec: DocSpec) -> str:
        rng = self.rng
        slots = {
            "company": spec.company, "subject": spec.title.split(" - ")[-1], "person": spec.person,
            "city": rng.choice(CITIES), "street": f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
            "amount": f"{rng.randint(5, 2400)}.{rng.randint(0, 99):02d}",
            "months": str(rng.choice((1, 2, 3, 6, 12, 24))), "percent": str(rng.randint(2, 19)),
            "day": str(rng.randint(2, 30)), "ref": f"{rng.choice('ABCDEFKLMRSTVW')}"
            f"{rng.choice('ABCDEFKLMRSTVW')}-{rng.randint(1000, 999999)}",
            "date": _fmt_date(spec.day + timedelta(days=rng.randint(-400, 400)), spec.lang),
        }
        out = template
        while "{word}" in out:  # each {word} gets its own word
            out = out.replace("{word}", self._word(spec.lang), 1)
        return out.format(**slots)

    def document(self, kind: str | None = None, lang: str | None = None, *,
                 size: float = 1.0) -> DocSpec:
        """One document; `size` scales its length (about 1 = one to two printed pages)."""
        rng = self.rng
        kind = kind or rng.choices(KINDS, weights=(2, 3, 2, 2, 3))[0]
        lang = lang or ("de" if rng.random() < 0.45 else "en")
        companies, subjects = DOMAINS[lang][kind]
        company = f"{rng.choice(companies)} {self._rare()}"
        subject = rng.choice(subjects)
        person = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        day = date(2019, 1, 1) + timedelta(days=rng.randint(0, 7 * 365))
        spec = DocSpec(kind=kind, lang=lang, title=f"{company} - {subject}", day=day,
                       company=company, person=person)
        # Lengths vary a lot in a household (a two-line note, a 20-page contract).
        repeats = max(1, round(rng.lognormvariate(0.0, 0.7) * size))
        for _ in range(repeats):
            for heading, templates in SECTIONS[lang][kind]:
                paras = [self._fill(t, spec) for t in templates if rng.random() < 0.85]
                fillers = rng.randint(0, 3)
                paras += [" ".join(self._fill(rng.choice(_FILLER[lang]), spec)
                                   for _ in range(rng.randint(2, 5))) for _ in range(fillers)]
                if paras:
                    spec.sections.append((heading, paras))
        spec.sender = f"{company.split()[0].lower()}@{self._rare().lower()}.example"
        spec.recipient = f"{person.split()[0].lower()}@home.example"
        return spec


def _fmt_date(d: date, lang: str) -> str:
    return d.strftime("%d.%m.%Y") if lang == "de" else d.strftime("%d %B %Y")


@dataclass(frozen=True, slots=True)
class BenchQuery:
    """A search the bench runs: its text, its flavour, and optional filters (as plain values)."""

    text: str
    flavour: str  # keyword | question | german | filtered
    kinds: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None


_QUESTIONS_EN = [
    "What is the notice period of my {subject}?", "How much is the monthly fee for the {subject}?",
    "When does the {subject} with {company} end?", "Who has the spare key for the garage?",
    "How much did the {subject} cost?", "When is the invoice for the {subject} due?",
    "What did {company} write about the {subject}?", "Where is the {word} kept?",
]
_QUESTIONS_DE = [
    "Wie lange ist die Kündigungsfrist für den {subject}?", "Wie hoch ist der Beitrag für die {subject}?",
    "Wann endet der {subject} bei {company}?", "Wer hat den Ersatzschlüssel für die Garage?",
    "Was kostete die {subject}?", "Bis wann muss die Rechnung für {subject} bezahlt werden?",
    "Was schreibt {company} zur {subject}?", "Wo steht der {word}?",
]


def bench_queries(count: int, seed: int = 7) -> list[BenchQuery]:
    """A realistic query mix: short keywords, English questions, German, and filtered ones."""
    rng = random.Random(seed)
    writer = HouseholdWriter(random.Random(seed + 1))
    out: list[BenchQuery] = []
    for i in range(count):
        flavour = ("keyword", "question", "german", "filtered")[i % 4]
        lang = "de" if flavour == "german" or (flavour != "question" and rng.random() < 0.4) else "en"
        kind = rng.choice(KINDS)
        companies, subjects = DOMAINS[lang][kind]
        subject, company = rng.choice(subjects), rng.choice(companies)
        word = writer._word(lang)
        if flavour == "keyword":
            pick = rng.choice([f"{subject}", f"{company} {word}", f"{word} {rng.randint(2019, 2025)}",
                               f"{rng.choice(LAST)} {word}", writer._rare()])
            out.append(BenchQuery(pick, flavour))
            continue
        templates = _QUESTIONS_DE if lang == "de" else _QUESTIONS_EN
        text = rng.choice(templates).format(subject=subject, company=company, word=word)
        if flavour == "filtered":
            start = date(2019, 1, 1) + timedelta(days=rng.randint(0, 5 * 365))
            if rng.random() < 0.5:
                out.append(BenchQuery(text, flavour, kinds=(rng.choice(("email", "note")),)))
            else:
                out.append(BenchQuery(text, flavour, date_from=start,
                                      date_to=start + timedelta(days=rng.choice((30, 180, 365)))))
        else:
            out.append(BenchQuery(text, flavour))
    return out
