"""CSV statement layouts: built-in profiles for common bank exports and the owner's TOML profiles (pure).

A file that no profile fits is read by its structure (`csvlayout`); profiles are for layouts the
structure alone cannot decide, and for the owner's own corrections.

A profile names, for each role (date, amount, payee ...), the header(s) that hold it. The owner
adds layouts in a small TOML file, for example::

    [[profile]]
    name = "my-credit-union"
    date = ["Posted"]
    amount = ["Amount"]
    description = ["Memo", "Details"]
    date_format = "%m/%d/%Y"      # optional: sniffed when absent
    decimal = "."                  # optional
    currency = "USD"
    account = "credit-union-checking"
    negate = false                 # true for card exports where a purchase is positive
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from app.core.errors import ConfigError
from app.core.toml_file import read_toml
from ingest.money.pdfprofiles import PdfProfile

ROLES = (
    "date", "value_date", "amount", "debit", "credit", "fee", "direction", "counterparty",
    "counterparty_in", "counterparty_out", "description", "currency", "reference", "balance",
    "status", "account",
)


@dataclass(frozen=True, slots=True)
class CsvProfile:
    """One CSV layout. Header names are matched case-insensitively after trimming."""

    name: str
    date: tuple[str, ...]
    amount: tuple[str, ...] = ()
    debit: tuple[str, ...] = ()
    credit: tuple[str, ...] = ()
    fee: tuple[str, ...] = ()  # subtracted from the amount (Revolut)
    direction: tuple[str, ...] = ()  # a column saying debit/credit (S/H) for unsigned amounts
    counterparty: tuple[str, ...] = ()
    counterparty_in: tuple[str, ...] = ()  # who paid us (DKB: separate payer/payee columns)
    counterparty_out: tuple[str, ...] = ()  # whom we paid
    description: tuple[str, ...] = ()  # several columns are joined
    value_date: tuple[str, ...] = ()
    currency: tuple[str, ...] = ()
    reference: tuple[str, ...] = ()  # a bank id, unique per account
    balance: tuple[str, ...] = ()  # running balance after the row
    status: tuple[str, ...] = ()
    account: tuple[str, ...] = ()
    # headers that must all be present for this profile to apply (identify the bank)
    required: tuple[str, ...] = ()
    pending_values: tuple[str, ...] = ("pending", "vorgemerkt", "umsatz vorgemerkt", "ausstehend")
    skip_values: tuple[str, ...] = ("reverted", "declined", "failed", "storniert")
    debit_values: tuple[str, ...] = ("debit", "dr", "d", "s", "soll", "belastung", "out")
    date_format: str | None = None
    decimal: str | None = None
    default_currency: str | None = None
    account_id: str | None = None  # fixed account identifier when the file has none
    institution: str | None = None
    negate: bool = False

    def columns(self, role: str) -> tuple[str, ...]:
        return tuple(getattr(self, role))


def _t(*names: str) -> tuple[str, ...]:
    return names


BUILTIN_PROFILES: tuple[CsvProfile, ...] = (
    CsvProfile(
        name="sparkasse",
        required=_t("auftragskonto", "buchungstag", "beguenstigter/zahlungspflichtiger", "betrag"),
        date=_t("buchungstag"), value_date=_t("valutadatum"), amount=_t("betrag"),
        counterparty=_t("beguenstigter/zahlungspflichtiger"),
        description=_t("buchungstext", "verwendungszweck"), currency=_t("waehrung"),
        status=_t("info"), account=_t("auftragskonto"), institution="Sparkasse",
        decimal=",", date_format="%d.%m.%y",
    ),
    CsvProfile(
        name="ing-de",
        required=_t("buchung", "valuta", "auftraggeber/empfänger", "verwendungszweck", "betrag"),
        date=_t("buchung"), value_date=_t("valuta"), amount=_t("betrag"),
        counterparty=_t("auftraggeber/empfänger"), description=_t("buchungstext",
        "verwendungszweck"), currency=_t("währung"), balance=_t("saldo"), institution="ING",
        decimal=",", date_format="%d.%m.%Y",
    ),
    CsvProfile(
        name="dkb",
        required=_t("buchungsdatum", "zahlungspflichtige*r", "zahlungsempfänger*in", "betrag (€)"),
        date=_t("buchungsdatum"), value_date=_t("wertstellung"), amount=_t("betrag (€)"),
        counterparty_in=_t("zahlungspflichtige*r"), counterparty_out=_t("zahlungsempfänger*in"),
        description=_t("verwendungszweck"), status=_t("status"), reference=(),
        institution="DKB", decimal=",", default_currency="EUR",
    ),
    CsvProfile(
        name="n26",
        required=_t("booking date", "partner name", "amount (eur)"),
        date=_t("booking date"), value_date=_t("value date"), amount=_t("amount (eur)"),
        counterparty=_t("partner name"), description=_t("payment reference"),
        institution="N26", decimal=".", default_currency="EUR", date_format="%Y-%m-%d",
    ),
    CsvProfile(
        name="revolut",
        required=_t("type", "started date", "completed date", "description", "amount", "state"),
        date=_t("completed date", "started date"), amount=_t("amount"), fee=_t("fee"),
        counterparty=_t("description"), currency=_t("currency"), balance=_t("balance"),
        status=_t("state"), institution="Revolut", decimal=".",
    ),
    CsvProfile(
        name="chase",
        required=_t("details", "posting date", "description", "amount", "type", "balance"),
        date=_t("posting date"), amount=_t("amount"), counterparty=_t("description"),
        balance=_t("balance"), institution="Chase", decimal=".", date_format="%m/%d/%Y",
        default_currency="USD",
    ),
)


def load_profiles(path: Path | None) -> tuple[CsvProfile, ...]:
    """The owner's profiles from a TOML file ([[profile]] tables); none if the file is absent.

    Raises ConfigError naming the file and the problem.
    """
    data = read_toml(path)
    if data is None:
        return ()
    return tuple(profile_from_dict(p, where=str(path)) for p in data.get("profile", []))


def profile_from_dict(raw: dict[str, Any], *, where: str = "profile") -> CsvProfile:
    """Build a profile from a mapping (one [[profile]] table); lists or single strings."""
    known = {f.name for f in fields(CsvProfile)}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{where}: unknown profile key(s) {', '.join(sorted(unknown))}")
    name = raw.get("name")
    if not name or not raw.get("date"):
        raise ConfigError(f"{where}: a profile needs a name and a date column")
    if not (raw.get("amount") or raw.get("debit") or raw.get("credit")):
        raise ConfigError(f"{where}: profile {name!r} needs amount or debit/credit columns")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ROLES or key in ("required", "pending_values", "skip_values", "debit_values"):
            items = [value] if isinstance(value, str) else list(value)
            values[key] = tuple(str(v).strip().lower() for v in items)
        else:
            values[key] = value
    if "required" not in values:  # an owner profile applies when all its columns are there
        values["required"] = tuple(
            values[r][0] for r in ("date", "amount", "debit", "credit") if values.get(r)
        )
    return CsvProfile(**values)


@dataclass(frozen=True, slots=True)
class CsvOptions:
    """What the CSV parser is given: the owner's profiles (tried first) and a fallback currency.

    The owner's PDF layouts ride along: they come from the same file, read at the same time.
    """

    profiles: tuple[CsvProfile, ...] = ()
    pdf_profiles: tuple[PdfProfile, ...] = ()  # tried before the built-in PDF profiles
    default_currency: str | None = None
    profiles_file: str | None = None  # named in the "unrecognised layout" message
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def all_profiles(self) -> tuple[CsvProfile, ...]:
        return self.profiles + BUILTIN_PROFILES
