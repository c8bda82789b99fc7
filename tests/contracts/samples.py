"""Synthetic contract texts (English and German) used across the contract tests."""

GERMAN_LEASE = """Mietvertrag

Zwischen Erika Mustermann, Hauptstraße 1, 50667 Köln (Vermieterin) und Max Müller (Mieter) wird folgender Vertrag geschlossen.

§ 2 Mietzeit. Das Mietverhältnis beginnt am 1. März 2024. Es wird zunächst für zwei Jahre fest abgeschlossen und verlängert sich jeweils um ein weiteres Jahr, wenn es nicht mit einer Frist von drei Monaten zum Ende der Laufzeit gekündigt wird.

§ 3 Miete. Die monatliche Kaltmiete beträgt 850,00 € und ist monatlich im Voraus zu zahlen. Die Nebenkostenvorauszahlung beträgt 180,00 EUR pro Monat.

§ 9 Gerichtsstand ist Köln.
"""

ENGLISH_SERVICE = """SERVICE AGREEMENT

This Service Agreement is entered into by and between Acme Storage Ltd ("Provider") and Jane Doe ("Customer").

1. Term. This Agreement is effective as of March 1, 2024 and has an initial term of twelve (12) months. It renews automatically for successive periods of 12 months unless either party gives at least 30 days' written notice before the end of the then-current term.

2. Fees. Customer shall pay a monthly fee of $19.99. A one-time setup fee of USD 49.00 applies.
"""

GERMAN_GYM = """Mitgliedsvertrag Fitnessstudio

Vertragspartner: Sportwelt GmbH
Kunde: Max Müller

Vertragsbeginn: 15.01.2023
Mindestlaufzeit: 12 Monate. Danach verlängert sich der Vertrag auf unbestimmte Zeit und kann mit einer Frist von einem Monat zum Monatsende gekündigt werden.
Der Monatsbeitrag beträgt 39,90 € monatlich.
"""

ENGLISH_FIXED = """Equipment Lease

This lease is made between Bright Rentals Inc and John Smith.
The lease commences on 2025-01-01 and ends on 2025-06-30. It ends automatically without notice.
The rent is GBP 120.00 per month.
"""
