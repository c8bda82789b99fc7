"""Regenerate the bundled synthetic sample household in app/sample/ (used by `homerag demo`).

Everything here is invented: names, addresses, IBANs (DE00 test numbers), amounts.
Run: .venv/bin/python scripts/make_sample.py   (needs the test extra: fpdf2, python-docx)
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "app" / "sample"


def pdf(path: Path, title: str, pages: list[list[str]]) -> bytes:
    from fpdf import FPDF

    doc = FPDF()
    doc.set_title(title)
    doc.set_author("homerag sample")
    doc.set_creation_date(datetime(2025, 1, 20, tzinfo=UTC))
    for lines in pages:
        doc.add_page()
        doc.set_font("Helvetica", size=11)
        for line in lines:
            if line.startswith("# "):
                doc.set_font("Helvetica", "B", 14)
                doc.multi_cell(0, 8, line[2:])
                doc.set_font("Helvetica", size=11)
            else:
                doc.multi_cell(0, 6, line)
            doc.ln(2)
    data = bytes(doc.output())
    if path is not None:
        path.write_bytes(data)
    return data


def gym_contract(path: Path) -> None:
    pdf(path, "FitLife Gym membership agreement", [
        [
            "# FitLife Gym - Membership Agreement",
            "Member: Alex Example, Musterstrasse 1, 12345 Beispielstadt",
            "Membership number: FL-2025-0042",
            "# 1. Start and term",
            "The membership starts on 1 February 2025 and runs for an initial term of 12 months.",
            "# 2. Renewal",
            "The membership renews automatically for a further 12 months at the end of each term "
            "unless it is cancelled in time.",
            "# 3. Notice period",
            "Either party may cancel with a notice period of three months before the end of the "
            "current term. Notice must be given in writing (letter or e-mail to "
            "cancel@fitlife.example).",
        ],
        [
            "# 4. Fees",
            "The monthly fee is EUR 39.90, payable in advance by direct debit on the first "
            "working day of each month. A one-off joining fee of EUR 19.00 is charged with the "
            "first payment.",
            "# 5. Price changes",
            "FitLife may raise the monthly fee once per year by up to 5 percent with two months "
            "notice. The member may then cancel with effect from the date of the increase.",
            "# 6. Pausing",
            "The membership can be paused for up to three months per year for medical reasons.",
            "Signed in Beispielstadt on 20 January 2025.",
        ],
    ])


def mobile_contract(path: Path) -> None:
    from docx import Document

    doc = Document()
    doc.core_properties.title = "Mobilfunkvertrag Tarif Smart 20"
    doc.core_properties.author = "homerag sample"
    doc.add_heading("Mobilfunkvertrag - Tarif Smart 20", level=1)
    doc.add_paragraph("Vertragspartner: Funknetz Beispiel GmbH und Alex Example, "
                      "Musterstraße 1, 12345 Beispielstadt.")
    doc.add_heading("§ 1 Vertragsbeginn und Laufzeit", level=2)
    doc.add_paragraph("Der Vertrag beginnt am 15. März 2025. Die Mindestvertragslaufzeit "
                      "beträgt 24 Monate.")
    doc.add_heading("§ 2 Verlängerung und Kündigung", level=2)
    doc.add_paragraph("Nach Ablauf der Mindestvertragslaufzeit verlängert sich der Vertrag auf "
                      "unbestimmte Zeit und kann jederzeit mit einer Kündigungsfrist von einem "
                      "Monat gekündigt werden.")
    doc.add_heading("§ 3 Entgelte", level=2)
    table = doc.add_table(rows=3, cols=2)
    for row, (a, b) in zip(table.rows, [("Grundgebühr monatlich", "19,99 EUR"),
                                        ("Datenvolumen", "20 GB"),
                                        ("Anschlusspreis einmalig", "39,99 EUR")], strict=True):
        row.cells[0].text, row.cells[1].text = a, b
    doc.add_paragraph("Die Abrechnung erfolgt monatlich per Lastschrift.")
    doc.save(path)


def landlord_letter(path: Path) -> None:
    path.write_text("""# Rent adjustment for Musterstrasse 1, flat 3

Beispielstadt, 2 September 2026

Dear Alex Example,

in accordance with the local rent index we are adjusting the net rent for your flat at
Musterstrasse 1, flat 3. From 1 December 2026 the monthly net rent rises from EUR 880.00
to EUR 950.00. Service charges stay at EUR 210.00 per month.

Please adjust your standing order accordingly. If you have questions, call us on
0123 456789 (Mondays to Thursdays, 9:00-12:00).

Kind regards,
Hausverwaltung Beispiel GmbH
""", encoding="utf-8")


def insurance_html(path: Path) -> None:
    path.write_text("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Household insurance renewal 2027</title>
<style>body{font-family:sans-serif}</style><script>console.log("tracking")</script></head>
<body>
<nav>Home | My policies | Contact</nav>
<h1>Your household insurance renewal</h1>
<p>Policy number HR-77-1234 for Alex Example renews on <b>1 January 2027</b>.</p>
<h2>Premium</h2>
<table><tr><th>Cover</th><th>Annual premium</th></tr>
<tr><td>Household contents (EUR 60,000)</td><td>EUR 148.20</td></tr>
<tr><td>Bicycle theft add-on</td><td>EUR 36.00</td></tr></table>
<p>The total annual premium rises from EUR 171.40 to EUR 184.20 (plus 7.5%).</p>
<h2>Cancellation</h2>
<p>You can cancel the policy with one month's notice before the renewal date, i.e. by
30 November 2026, or within one month of receiving a premium increase.</p>
</body></html>
""", encoding="utf-8")


def electricity_mail(path: Path) -> None:
    msg = EmailMessage()
    msg["From"] = "Stadtwerke Beispielstadt <rechnung@stadtwerke.example>"
    msg["To"] = "Alex Example <alex@example.org>"
    msg["Subject"] = "Ihre Stromabrechnung 2026 / Your electricity bill 2026"
    msg["Date"] = format_datetime(datetime(2026, 10, 28, 9, 15, tzinfo=UTC))
    msg["Message-ID"] = "<bill-2026-4711@stadtwerke.example>"
    msg.set_content("""Guten Tag Alex Example,

anbei erhalten Sie Ihre Jahresabrechnung für Strom (Zählernummer 1ESY-0815).
Ihr Verbrauch lag bei 2.310 kWh. Die Nachzahlung beträgt 86,40 EUR und wird am
15. November 2026 abgebucht. Der neue monatliche Abschlag beträgt 78,00 EUR
(bisher 71,00 EUR) ab Dezember 2026.

Mit freundlichen Grüßen
Ihre Stadtwerke Beispielstadt

> Am 1. Oktober schrieb Alex Example:
> Bitte senden Sie mir die Abrechnung per E-Mail.
""")
    invoice = pdf(None, "Stromabrechnung 2026", [[
        "# Stadtwerke Beispielstadt - Jahresabrechnung Strom 2026",
        "Kunde: Alex Example, Musterstrasse 1, 12345 Beispielstadt",
        "Abrechnungszeitraum: 01.10.2025 - 30.09.2026",
        "Verbrauch: 2.310 kWh zu 0,3290 EUR/kWh = 759,99 EUR",
        "Grundpreis: 12 x 11,70 EUR = 140,40 EUR",
        "Summe brutto: 900,39 EUR; geleistete Abschläge: 12 x 71,00 EUR = 852,00 EUR",
        "Nachzahlung: 48,39 EUR zuzüglich Messstellenbetrieb 38,01 EUR = 86,40 EUR",
        "Neuer Abschlag ab Dezember 2026: 78,00 EUR monatlich.",
    ]])
    msg.add_attachment(invoice, maintype="application", subtype="pdf",
                       filename="Stromabrechnung-2026.pdf")
    path.write_bytes(bytes(msg))


def statement_csv(path: Path) -> None:
    """ING (Germany) CSV export layout: 3 months of a synthetic current account."""
    rng = random.Random(7)
    rows: list[tuple[date, str, str, str, float]] = []
    for month in range(4):
        first = date(2026, 8 + month, 1)
        rows.append((first, "FitLife Gym", "Lastschrift", "Mitgliedsbeitrag FL-2025-0042", -39.90))
        rows.append((first + timedelta(days=2), "Hausverwaltung Beispiel GmbH", "Dauerauftrag",
                     "Miete Musterstr. 1 Whg 3", -1090.00))
        rows.append((first + timedelta(days=4), "Streamflix", "Lastschrift", "Abo Premium",
                     -13.99 if month < 2 else -17.99))
        rows.append((first + timedelta(days=14), "Funknetz Beispiel", "Lastschrift",
                     "Tarif Smart 20", -19.99))
        rows.append((first + timedelta(days=27), "Arbeitgeber Beispiel AG", "Gehalt",
                     f"Gehalt {first:%m/%Y}", 3450.00))
        rows.append((first + timedelta(days=9), "Stadtwerke Beispielstadt", "Lastschrift",
                     "Abschlag Strom", -71.00))
        for _ in range(8):
            day = first + timedelta(days=rng.randrange(0, 28))
            shop = rng.choice(["Rewe", "Edeka", "Aldi Süd", "Bäckerei Korn"])
            rows.append((day, shop, "Kartenzahlung", "Einkauf", -round(rng.uniform(8, 95), 2)))
    # Unusual things for the spending report: a double charge and a first-time merchant.
    rows.append((date(2026, 10, 17), "Elektro Blitz Online", "Kartenzahlung", "Bestellung 99812",
                 -649.00))
    rows.append((date(2026, 10, 21), "Parkhaus Zentrum", "Kartenzahlung", "Parkticket", -12.50))
    rows.append((date(2026, 10, 22), "Parkhaus Zentrum", "Kartenzahlung", "Parkticket", -12.50))
    rows.append((date(2026, 11, 15), "Stadtwerke Beispielstadt", "Lastschrift",
                 "Nachzahlung Jahresabrechnung", -86.40))
    rows = [r for r in rows if r[0] <= date(2026, 11, 20)]
    rows.sort(key=lambda r: r[0])
    opening = 2500.00
    closing = round(opening + sum(r[4] for r in rows), 2)
    balance = opening
    lines = [
        "Umsatzanzeige;Datei erstellt am: 20.11.2026 08:00",
        "",
        "IBAN;DE00 1234 5678 9012 3456 78",
        "Kontoname;Girokonto",
        "Bank;ING",
        "Kunde;Alex Example",
        "Zeitraum;01.08.2026 - 20.11.2026",
        f"Saldo;{closing:.2f}".replace(".", ",") + ";EUR",
        "",
        "Buchung;Valuta;Auftraggeber/Empfänger;Buchungstext;Verwendungszweck;Saldo;Währung;"
        "Betrag;Währung",
    ]
    body = []
    for day, who, kind, purpose, amount in rows:
        balance = round(balance + amount, 2)
        fmt = lambda v: f"{v:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")  # noqa: E731
        body.append(f"{day:%d.%m.%Y};{day:%d.%m.%Y};{who};{kind};{purpose};{fmt(balance)};EUR;"
                    f"{fmt(amount)};EUR")
    lines.extend(reversed(body))  # ING lists the newest first
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8-sig"))


def notes(path: Path) -> None:
    path.write_text("""Home network and appliances

Router: the Wi-Fi network is called "Example-Home"; the guest network password is on the
fridge. Internet contract with Netz Beispiel: 100 Mbit/s, EUR 34.99 per month, cancellable
with one month's notice.

Washing machine: bought 12 March 2024 at Elektro Blitz, two-year warranty until
12 March 2026, extended warranty until 12 March 2028 (receipt in the blue folder).

Heating: annual maintenance every October by Heizung Muster (last visit 8 October 2026).
""", encoding="utf-8")


def main() -> None:
    home = ROOT / "household"
    for sub in ("contracts", "letters", "mail", "statements", "notes"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    gym_contract(home / "contracts" / "fitlife-gym-membership.pdf")
    mobile_contract(home / "contracts" / "mobilfunkvertrag-smart20.docx")
    landlord_letter(home / "letters" / "2026-09-02-rent-adjustment.md")
    insurance_html(home / "letters" / "household-insurance-renewal.html")
    electricity_mail(home / "mail" / "2026-10-28-stadtwerke-bill.eml")
    statement_csv(home / "statements" / "ing-girokonto-2026-08-to-11.csv")
    notes(home / "notes" / "home-network-and-appliances.txt")
    (ROOT / "README.md").write_text(
        "Synthetic sample household for `homerag demo`. Every name, address, account number "
        "and amount is invented. Regenerate with `scripts/make_sample.py`.\n", encoding="utf-8")
    for p in sorted(ROOT.rglob("*")):
        if p.is_file():
            print(f"{p.relative_to(ROOT)}  {p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
