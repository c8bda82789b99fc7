"""What CSV statement headers mean, in the languages banks export (EN, DE, NL, FR, ES, IT, PT,
PL, CS, the Nordic languages): header text -> role (pure data plus one lookup).

Headers are compared folded (lower case, accents removed, "(EUR)" and currency suffixes
dropped). A header may name a role its content then has to confirm: "Valuta" is a value date in
German and a currency in Dutch, so the column's values decide (`csvlayout`).
"""

from __future__ import annotations

import re
import unicodedata

ISO_CURRENCIES = frozenset((
    "EUR USD GBP CHF JPY CNY CAD AUD NZD SEK NOK DKK ISK PLN CZK HUF RON BGN HRK RSD TRY RUB "
    "UAH ZAR BRL MXN ARS CLP COP PEN INR IDR MYR SGD HKD TWD KRW THB PHP VND ILS AED SAR QAR "
    "KWD EGP MAD NGN KES GHS XOF XAF BAM MKD ALL GEL AMD AZN KZT DEM FRF NLG BEF ITL ESP ATS RUR"
).split())
_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "₣": "CHF", "zł": "PLN",
            "kč": "CZK", "kr": "SEK", "₹": "INR", "₽": "RUB"}


def fold(text: str) -> str:
    """Lower case, accents removed, whitespace collapsed."""
    t = unicodedata.normalize("NFKD", text.replace("\ufeff", ""))
    t = "".join(c for c in t if not unicodedata.combining(c)).lower()
    return " ".join(t.strip().strip('"').split())


_PAREN = re.compile(r"\s*[\(\[]([^)\]]*)[\)\]]\s*")


def header_currency(text: str) -> str | None:
    """"Amount (EUR)", "Betrag (€)", "Amount CZK", "Withdrawals (SGD)" -> the currency."""
    for m in _PAREN.finditer(text):
        inner = m.group(1).strip()
        if inner.upper() in ISO_CURRENCIES:
            return inner.upper()
        if inner.lower() in _SYMBOLS:
            return _SYMBOLS[inner.lower()]
    words = fold(text).split()
    if len(words) >= 2 and words[-1].upper() in ISO_CURRENCIES:
        return words[-1].upper()
    return None


def normalise(text: str) -> str:
    """The folded header without a currency in brackets or as its last word."""
    t = fold(_PAREN.sub(" ", text) if header_currency(text) else text)
    words = t.split()
    if len(words) >= 2 and words[-1].upper() in ISO_CURRENCIES:
        t = " ".join(words[:-1])
    return t.strip(" :.-_*")


def _set(*words: str) -> frozenset[str]:
    return frozenset(fold(w) for w in words)


# Ranked lists (earlier = preferred when several columns fit).
BOOKING_DATE = (
    "booking date", "posting date", "posted date", "posted", "buchungstag", "buchungsdatum",
    "buchung", "boekdatum", "boekingsdatum", "date de comptabilisation", "date comptable",
    "fecha contable", "data contabile", "data ksiegowania", "bokforingsdag", "bokforingsdatum",
    "bogforingsdato", "bokfort dato", "kirjauspaiva", "datum zauctovani", "data lancamento",
    "completed date", "settlement date", "datum provedeni",
)
DATE = (
    "date", "datum", "fecha", "data", "dato", "paivamaara", "datum verrichting",
    "transaction date", "trans date", "txn date", "trade date", "date operation",
    "date d'operation", "date de l'operation", "fecha operacion", "fecha de operacion",
    "data operazione", "data operacji", "data transakcji", "transaktionsdatum", "transactiedatum",
    "data movimento", "created", "started date", "time", "posting", "datetime", "date/time",
    "tradedate", "transaktionstag", "umsatztag", "belegdatum", "posting date time",
)
AMOUNT_SET: frozenset[str] = frozenset()  # filled below, after AMOUNT
VALUE_DATE = _set(
    "value date", "valuta", "valutadatum", "wertstellung", "wert", "rentedatum", "valuedate",
    "date de valeur", "date valeur", "fecha valor", "data valuta", "valuteringsdag",
    "valordato", "valordag", "arvopaiva", "valutadatum/wertstellung", "wertstellungsdatum",
    "value", "datum valuty",
)
AMOUNT = (
    "amount", "betrag", "bedrag", "montant", "importe", "importo", "kwota", "belopp", "beløb",
    "belob", "belop", "summa", "summe", "umsatz", "mutatie", "transaction amount", "valor",
    "valore", "net", "net amount", "castka", "zauctovana castka", "osszeg", "suma", "iznos",
    "transactiebedrag", "amount in account currency", "bedrag in eur", "montant en euros",
    "gross", "betrag in eur", "umsatzbetrag", "buchungsbetrag", "kwota operacji", "tradeMoney",
    "total", "importe eur", "monto", "saldo movimento",
)
AMOUNT_SET = _set(*AMOUNT)
DEBIT = _set(
    "debit", "debits", "debit amount", "withdrawal", "withdrawals", "paid out", "money out",
    "out", "soll", "ausgang", "belastung", "debet", "af", "debito", "cargo", "cargos",
    "addebiti", "addebito", "uscite", "obciazenia", "wn", "uttag", "utbetalning",
    "udbetaling", "nosto", "charges", "spent", "ausgaben", "withdrawal amount", "debit amt",
    "outflow", "payments", "charge", "amount debit", "debet bedrag", "montant debit",
)
CREDIT = _set(
    "credit", "credits", "credit amount", "deposit", "deposits", "paid in", "money in", "in",
    "haben", "eingang", "gutschrift", "bij", "abono", "abonos", "accrediti", "entrate",
    "uznania", "ma", "insattning", "indbetaling", "pano", "received", "einnahmen",
    "deposit amount", "credit amt", "inflow", "amount credit", "credit bedrag", "montant credit",
)
BALANCE = _set(
    "balance", "running balance", "runningbalance", "saldo", "solde", "kontostand",
    "saldo na trn", "balance after", "saldo disponible", "nuevo saldo", "saldo dopo",
    "saldo po operacji", "kontosaldo", "stand", "saldo na transactie", "account balance",
    "closing balance", "ledger balance", "saldo contable", "zustand", "balance (eur)",
)
INDICATOR = _set(
    "debit/credit", "credit/debit", "d/c", "c/d", "dr/cr", "cr/dr", "s/h", "soll/haben",
    "af bij", "af/bij", "bij/af", "d/k", "debet/credit", "credit/debet", "sens", "cdtdbtind",
    "in/out", "direction", "debit credit", "debit or credit", "credit or debit", "dc",
    "soll haben", "sh", "type", "transaction type", "art", "kennzeichen",
)
PAYEE = _set(
    "payee", "counterparty", "counter party", "beneficiary", "name", "merchant",
    "merchant name", "empfanger", "empfaenger", "auftraggeber/empfanger",
    "begunstigter / auftraggeber", "beguenstigter/zahlungspflichtiger", "zahlungsempfanger",
    "naam tegenpartij", "naam / omschrijving", "tegenpartij", "naam", "beneficiaire", "tiers",
    "beneficiario", "ordenante", "destinatario", "kontrahent", "odbiorca", "mottagare",
    "modtager", "saaja", "partner name", "handelaar", "counteraccount name",
    "nazev protiuctu", "other party", "payer/payee", "name / description",
    "auftraggeber / empfanger", "empfanger/auftraggeber", "zahlungspflichtige*r",
    "zahlungsempfanger*in", "auftraggeber", "payer", "nazev uctu protistrany",
)
DESCRIPTION = _set(
    "description", "details", "memo", "narrative", "purpose", "payment reference",
    "verwendungszweck", "buchungstext", "omschrijving", "omschrijving-1", "omschrijving-2",
    "omschrijving-3", "mededelingen", "libelle", "libelle operation", "description 1",
    "description 2", "description 3", "concepto", "descripcion", "causale", "descrizione",
    "tytul", "opis", "meddelande", "text", "tekst", "beskrivelse", "viesti", "selite",
    "message", "zprava", "transaction details", "umsatzart", "transaction description",
    "notes", "note", "message for payee", "reference", "remittance information",
    "informations complementaires", "toelichting", "opis operacji", "detalle",
    "transactieomschrijving", "booking text", "booking details", "desc", "item title",
)
STATUS = _set("status", "state", "info", "stav", "etat", "estado", "stato", "transaction status")
OWN_ACCOUNT = _set(
    "account", "account number", "iban", "konto", "auftragskonto", "kontonummer", "rekening",
    "rekeningnummer", "iban/bban", "compte", "numero de compte", "cuenta", "conto",
    "rachunek", "posted account", "produit", "account name", "cislo uctu", "tilinumero",
    "kontonr", "konto nr", "own account", "account iban", "iban kontoinhaber", "product",
)
REFERENCE = _set(
    "transaction id", "transaction reference", "id", "fitid", "transaktions-id",
    "transactiereferentie", "reference number", "n de transaction", "no de transaction",
    "transaktionsreferenz", "id transakce", "transaction number", "ref", "bank reference",
    "kundenreferenz", "referenz", "volgnr", "numero d'operation", "numero operacion",
)
CARD = _set(
    "card", "card no", "card no.", "card number", "card used for transaction", "kaart",
    "kaartnummer", "karte", "kartennummer", "carte", "numero de carte", "tarjeta", "carta",
    "kort", "kortnummer", "card member", "kredietkaart", "kaarthouder", "cardholder",
    "card holder", "karteninhaber", "extended details",
)
IGNORE = _set(
    "category", "kategorie", "categorie", "categoria", "kategoria", "class", "subcategory",
    "original amount", "oorspr bedrag", "oorspr munt", "local_amount", "local_currency",
    "betrag (fremdwahrung)", "fremdwahrung", "wechselkurs", "exchange rate", "koers", "fx",
    "fremde gebuhren", "emoji", "receipt", "image", "time zone", "tijd", "uhrzeit", "heure",
    "hora", "ora", "batch id", "code", "bic", "bic tegenpartij", "blz", "check number",
    "checknumber", "cheque number", "mandatsreferenz", "glaubiger id", "anzahl der auftrage",
    "anzahl der schecks", "kosten op verrichting", "amount in eur", "address", "shipping address",
)
INVESTMENT = _set(
    "quantity", "shares", "no. of shares", "units", "stuck", "stueck", "anzahl", "aantal",
    "price", "price / share", "unit price", "kurs", "tradeprice", "isin", "wkn", "symbol",
    "ticker", "security", "security name", "buy/sell", "action",
)

_RANK_CACHE: dict[tuple[str, ...], dict[str, int]] = {}


def rank(name: str, words: tuple[str, ...]) -> int | None:
    """Position of a folded header in a ranked vocabulary (lower is better), else None."""
    table = _RANK_CACHE.get(words)
    if table is None:
        table = {fold(w): i for i, w in enumerate(words)}
        _RANK_CACHE[words] = table
    return table.get(name)


def is_vwz(name: str) -> bool:
    """GLS/Volksbank style "VWZ1" .. "VWZ14" purpose columns."""
    return bool(re.fullmatch(r"(vwz|verwendungszweck|purpose|omschrijving|description)[ -]?\d+",
                             name))
