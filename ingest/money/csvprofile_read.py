"""A CSV profile (the owner's, or a named bank layout) applied to a file's header: -> Layout.

The owner's profiles are tried first, then the built-in bank layouts; the first profile whose
required headers are all present decides the columns. Without one, `csvlayout` reads the
structure.
"""

from __future__ import annotations

from ingest.money.csvlayout import Layout
from ingest.money.csvprofiles import CsvOptions, CsvProfile
from ingest.money.csvvocab import fold

_HEADER_SCAN = 40
_ROLES = ("date", "amount", "debit", "credit", "fee", "direction", "counterparty",
          "counterparty_in", "counterparty_out", "description", "value_date", "currency",
          "reference", "balance", "status", "account")


def _resolve(profile: CsvProfile, header: list[str]) -> dict[str, list[int]] | None:
    names = [fold(h) for h in header]
    if profile.required and not all(fold(r) in names for r in profile.required):
        return None
    cols: dict[str, list[int]] = {}
    amount_at = -1
    for role in _ROLES:
        found: list[int] = []
        for wanted in profile.columns(role):
            idx = [i for i, n in enumerate(names) if n == fold(wanted)]
            if not idx:
                continue
            if role == "currency" and len(idx) > 1 and amount_at >= 0:
                # ING: "Saldo;Währung;Betrag;Währung" - the amount's currency follows it.
                idx = [next((i for i in idx if i > amount_at), idx[0])]
            found.append(idx[0])
            if role not in ("description", "date"):
                break  # first matching alternative wins; descriptions are joined, and the
                # date alternatives are tried in order per row (Revolut: completed, started)
        if found:
            cols[role] = found
            if role == "amount":
                amount_at = found[0]
    if "date" not in cols or not ("amount" in cols or "debit" in cols or "credit" in cols):
        return None
    return cols


def profile_layout(records: list[list[str]], options: CsvOptions) -> Layout | None:
    """The layout of the first profile that fits a header row in the file's first lines."""
    for i, rec in enumerate(records[:_HEADER_SCAN]):
        if len(rec) < 2:
            continue
        for profile in options.all_profiles:
            cols = _resolve(profile, rec)
            if cols is None:
                continue
            roles = dict(cols)
            if "direction" in roles:
                roles["indicator"] = roles.pop("direction")
            if "counterparty" not in roles and ("counterparty_in" in roles
                                                or "counterparty_out" in roles):
                roles["counterparty"] = roles.get("counterparty_out", []) + roles.get(
                    "counterparty_in", [])
            from ingest.money.amounts import sniff_decimal

            money_cells = [r[j] for r in records[i + 1:i + 2001] for role in
                           ("amount", "debit", "credit", "balance") for j in roles.get(role, [])
                           if j < len(r) and r[j].strip()]
            return Layout(
                header_row=i, first_row=i + 1, width=len(rec), header=[c.strip() for c in rec],
                roles=roles, sign="direction" if "indicator" in roles else (
                    "pair" if "amount" not in roles else "signed"),
                decimal=profile.decimal or sniff_decimal(money_cells),
                profile_name=profile.name, institution=profile.institution,
                account_id=profile.account_id, default_currency=profile.default_currency,
                negate=profile.negate, debit_values=tuple(fold(v) for v in profile.debit_values),
                date_format=profile.date_format,
                pending_values=tuple(fold(v) for v in profile.pending_values),
                skip_values=tuple(fold(v) for v in profile.skip_values),
            )
    return None
