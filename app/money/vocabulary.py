"""The words money questions are made of, apart from names: words that carry no subject
(question, money, time and filler words in English and German), and words a household writes
in either language, tried as alternatives of each other ("back-payment" / "Nachzahlung"). Pure.
"""

from __future__ import annotations

NOISE = frozenset("""
a about above after again ago all almost also altogether am amount amounts an and any anything
approximately are around as at average back be because been before being between both but by
bill bills can cent cents combined could currently day days did do does doing done due during
each either else entire ever every everything exactly far few find for from get gets getting
give got had has have having he her here him his how however i i'd i'm i've if in into invoice
invoices is it it's its just last lately least less let like list many may me might mine more
most much must my myself need never new next no nor not now of off old on once only or other
our ours out over overall own per please pretty quite rather really receipt receipts recently
same say show since so some something still such tell than that the their them then there these
they this those through thus till time times to today together too total totals under until up
upon us value very was we week weeks were what whatever when where whether which while who whom
whose why will with within without would year years yesterday yet you your yours month months
amounts price prices expenditure expenditures transfer transfers transferred booking bookings
owe owed cost costed payed paying pays spends buying buy purchased earnings receiving receive
refund refunds refunded went go goes gone going come came make made take took want
wanted
high low big small large expensive cheap cheaper dearer rose risen increased changed
hoch hohe höhe teuer teurer billiger gestiegen geändert
statement statements account accounts dollar dollars euro euros eur usd gbp chf
wie viel viele oft was wer wann wo warum welche welcher welches welchen habe hab hast hat haben
hatte hatten ich mir mich mein meine meinem meinen meiner du wir uns unser unsere für fur an bei
von vom zu zum zur im in am um auf aus mit nach seit bis über unter ein eine einen einem einer
eines der die das den dem des denn dann doch ja nein nicht noch schon so sehr auch als oder und
aber insgesamt gesamt summe betrag beträge kostet kostete zahlen zahle zahlte bezahle bezahlte
überwiesen war waren ist sind wurde wurden wird werden letzte letzten letzter letztes diese
diesen dieser dieses jahr jahre monat monate woche wochen tag tage heute gestern bisher zeige zeig
liste alle allen etwa ungefähr ca eigentlich mal rechnung rechnungen beleg belege quittung
bestellt gekauft kaufte kaufen überwiesen bekommen erhalten geschickt gemacht dafür davon
""".split())

# Words a household writes in either language, tried as alternatives of each other.
GLOSSARY: tuple[tuple[str, ...], ...] = (
    ("back-payment", "back payment", "additional payment", "balance due", "nachzahlung"),
    ("refund", "reimbursement", "rückerstattung", "erstattung", "rückzahlung", "gutschrift"),
    ("advance payment", "instalment", "installment", "abschlag", "abschlagszahlung",
     "vorauszahlung"),
    ("annual bill", "annual statement", "jahresabrechnung"),
    ("electricity", "power", "strom"),
    ("heating", "heizung", "heizkosten"),
    ("water", "wasser"),
    ("rent", "miete"),
    ("deposit", "kaution"),
    ("membership", "mitgliedsbeitrag", "mitgliedschaft"),
    ("gym", "fitness", "fitnessstudio"),
    ("bike", "bicycle", "fahrrad"),
    ("car", "auto", "kfz"),
    ("tax", "taxes", "steuer", "finanzamt"),
    ("salary", "wages", "gehalt", "lohn"),
    ("parking", "parken", "parkhaus", "parkticket"),
    ("bakery", "bäckerei", "backerei"),
    ("pharmacy", "apotheke"),
    ("doctor", "arzt", "praxis"),
    ("insurance", "versicherung"),
    ("phone", "mobile", "mobilfunk", "handy", "telefon"),
    ("order", "bestellung"),
    ("interest", "zinsen"),
    ("dividend", "dividende", "ausschüttung"),
    ("fee", "gebühr", "entgelt"),
    ("subscription", "abo", "abonnement"),
    ("tv", "television", "fernseher"),
    ("card", "karte", "kartenzahlung"),
    ("haircut", "hairdresser", "friseur"),
    ("ticket", "fahrkarte"),
)


def alternatives(word: str) -> tuple[str, ...]:
    """A question word and what else a statement may write for it: the singular, and the
    other language's word ("back-payment" -> "nachzahlung")."""
    low = word.lower().strip("'’")
    forms = [low]
    if low.endswith(("'s", "’s")):
        forms.append(low[:-2])
    elif low.endswith("ies") and len(low) > 4:
        forms.append(low[:-3] + "y")
    elif low.endswith("s") and not low.endswith("ss") and len(low) > 3:
        forms.append(low[:-1])
    out = dict.fromkeys(forms)
    norm = {f.replace("-", " ") for f in forms}
    for group in GLOSSARY:
        if norm & {g.replace("-", " ") for g in group}:
            out.update(dict.fromkeys(group))
    return tuple(out)
