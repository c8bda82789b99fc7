"""Draft a `[[profile]]` stanza for a CSV statement from its structure, for the owner to check
and save in statement_profiles.toml (`homerag tx profile FILE` prints it).

The draft says what the structural reader would do, and where it cannot decide (two amount
columns, all amounts positive, an ambiguous date order), it fills in its best reading and marks
the line with a `# CHECK:` comment instead of failing, because here a person reads it.
"""

from __future__ import annotations

import re

from app.core.errors import EmptyDocumentError
from ingest.money import csvvocab as V
from ingest.money.csvlayout import Layout, MappingError, detect_layout, find_table
from ingest.money.csvsniff import decode, read_records, sniff_delimiter
from ingest.money.dates import DateError, decide_format


def _toml(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _names(layout: Layout, role: str) -> list[str]:
    return [layout.header[i] for i in layout.roles.get(role, []) if i < len(layout.header)
            and layout.header[i]]


def guess_profile(data: bytes, *, name: str = "statement.csv") -> str:
    """A ready-to-edit TOML [[profile]] table for the file. Raises MappingError or
    EmptyDocumentError when the file has no header to name columns by."""
    text, _ = decode(data)
    delimiter = sniff_delimiter(text)
    records = read_records(text, delimiter)
    checks: list[str] = []
    try:
        layout = detect_layout(records, name=name)
    except MappingError as exc:
        layout = _fallback(records, name)
        checks.append(str(exc).split(";")[0].split(": ", 1)[-1])
    if layout.header_row is None:
        raise MappingError(f"{name}: no header row, so a profile cannot name the columns; "
                           "use the file's own layout or add a header")
    stem = re.sub(r"[^a-z0-9]+", "-", V.fold(name.rsplit("/", 1)[-1].rsplit(".", 1)[0]))
    lines = ["[[profile]]", f"name = {_toml(stem.strip('-') or 'my-bank')}"]
    for role in ("date", "value_date", "amount", "debit", "credit", "counterparty",
                 "description", "currency", "balance", "reference", "status", "account"):
        cols = _names(layout, role)
        if cols:
            lines.append(f"{role} = [{', '.join(_toml(c) for c in cols)}]")
    if layout.roles.get("indicator"):
        lines.append(f"direction = [{', '.join(_toml(c) for c in _names(layout, 'indicator'))}]")
        values = sorted({r[layout.roles['indicator'][0]].strip().lower() for r in
                         records[layout.first_row:] if len(r) > layout.roles["indicator"][0]
                         and r[layout.roles["indicator"][0]].strip()})
        lines.append(f"debit_values = [{', '.join(_toml(v) for v in values[:1])}]"
                     f"  # CHECK: which of {values} means money out")
    if layout.sign == "card_positive":
        lines.append("negate = true  # card export: purchases are printed positive")
    lines.append(f"decimal = {_toml(layout.decimal)}")
    col = layout.col("date")
    values = [r[col] for r in records[layout.first_row:] if col is not None and len(r) > col
              and r[col].strip()]
    hint = True if layout.decimal == "," or delimiter == ";" else None
    try:
        fmt, note = decide_format(values, day_first_hint=hint)
        lines.append(f"date_format = {_toml(fmt)}" + (f"  # CHECK: {note}" if note else ""))
    except DateError as exc:
        sep = next((c for c in (values[0] if values else "") if c in "./-"), "/")
        lines.append(f'date_format = "%d{sep}%m{sep}%Y"  # CHECK: {exc}')
    required = (_names(layout, "date") + _names(layout, "amount") + _names(layout, "debit")
                + _names(layout, "credit"))
    lines.append(f"required = [{', '.join(_toml(c) for c in required)}]")
    if not layout.roles.get("currency"):
        lines.append('default_currency = "EUR"  # CHECK: the account\'s currency')
    if checks and "positive" in checks[0]:
        lines.append("negate = false  # CHECK: true when these positive amounts are money out")
    lines += [f"# CHECK: {c}" for c in checks]
    return "\n".join(x for x in lines if x) + "\n"


def _fallback(records: list[list[str]], name: str) -> Layout:
    """The header and the first date column, for a draft of a file the reader refuses."""
    try:
        header_i, first, width = find_table(records)
    except (MappingError, EmptyDocumentError) as exc:
        raise MappingError(f"{name}: {exc}") from None
    header = [c.strip() for c in records[header_i]] if header_i is not None else [""] * width
    layout = Layout(header_row=header_i, first_row=first, width=width, header=header)
    rows = [r for r in records[first:] if len(r) == width]
    for j in range(width):
        cells = [r[j] for r in rows if r[j].strip()]
        if cells and "date" not in layout.roles and all(re.search(r"\d", c) for c in cells) \
                and V.normalise(header[j]) in V.VALUE_DATE | {V.fold(w) for w in V.DATE}:
            layout.roles["date"] = [j]
        elif V.normalise(header[j]) in V.AMOUNT_SET and "amount" not in layout.roles:
            layout.roles["amount"] = [j]
    return layout
