"""Which columns of a CSV statement hold what, found from its structure, not a list of banks.

A statement table is rows with a date column and money: one signed amount column, a debit and
a credit column, or an unsigned amount with a debit/credit indicator column. The header (found
above the first such row, after any preamble) names columns in any language `csvvocab` knows;
the values confirm each role (a "Valuta" column holding dates is a value date, one holding
"EUR" a currency). Whatever cannot be decided without a guess fails with the columns seen and a
sample row, and the owner can write a profile (`csvguess.guess_profile` drafts one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.core.errors import UnsupportedFormatError
from ingest.money import csvvocab as V
from ingest.money.amounts import AmountError, parse_amount, sniff_decimal
from ingest.money.conventions import is_indicator
from ingest.money.csvsniff import DATE_CELL, MONEY_CELL
from ingest.money.dates import fitting_formats

_ID_LIKE = re.compile(r"^0\d{5,}$|^\d{10,}$")
_ACCOUNT_LIKE = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9 ]{8,30}$|^[\d .\-/]{6,}[A-Z]?$")


class MappingError(UnsupportedFormatError):
    """A CSV that looks like a statement but whose columns cannot be mapped without a guess."""


@dataclass
class Layout:
    header_row: int | None  # index of the header record, None for headerless files
    first_row: int  # index of the first data record
    width: int
    header: list[str]
    roles: dict[str, list[int]] = field(default_factory=dict)
    sign: str = "signed"  # signed | pair | indicator | card_positive | direction (profiles)
    decimal: str = "."
    notes: list[str] = field(default_factory=list)
    card: bool = False
    # What a profile adds (the structural layout leaves these at their defaults).
    profile_name: str = "generic"
    institution: str | None = None
    account_id: str | None = None
    default_currency: str | None = None
    negate: bool = False
    debit_values: tuple[str, ...] = ()
    date_format: str | None = None
    pending_values: tuple[str, ...] = ()
    skip_values: tuple[str, ...] = ()

    def col(self, role: str) -> int | None:
        cols = self.roles.get(role)
        return cols[0] if cols else None


def _is_date(cell: str) -> bool:
    return bool(DATE_CELL.match(cell)) and any(ch.isdigit() for ch in cell)


def _is_money(cell: str) -> bool:
    c = cell.strip()
    return bool(c) and bool(MONEY_CELL.match(c)) and any(ch.isdigit() for ch in c) \
        and not _is_date(c)


_SCAN = 3000  # records looked at to find and type the table (the rest are read, not sniffed)


def data_rows(records: list[list[str]]) -> list[int]:
    """Indexes of records (among the first _SCAN) holding a date cell and another money cell."""
    out = []
    for i, rec in enumerate(records[:_SCAN]):
        if len(rec) < 2:
            continue
        dates = [j for j, c in enumerate(rec) if _is_date(c)]
        if dates and any(_is_money(c) for j, c in enumerate(rec) if j not in dates):
            out.append(i)
    return out


def _header_like(rec: list[str]) -> bool:
    cells = [c for c in rec if c.strip()]
    return len(cells) >= 2 and sum(_is_date(c) or _is_money(c) for c in cells) <= 1


def find_table(records: list[list[str]]) -> tuple[int | None, int, int]:
    """(header index or None, first data index, table width)."""
    rows = data_rows(records)
    if not rows:
        dated = [i for i, rec in enumerate(records) if len(rec) >= 2
                 and any(_is_date(c) for c in rec)]
        if dated:
            rec = records[dated[0]]
            raise MappingError(f"rows have dates but no readable amounts (row {dated[0] + 1}: "
                               f"{';'.join(c.strip() for c in rec)[:120]!r})")
        for rec in records[:40]:
            if _header_like(rec) and _statement_header(rec):
                raise _header_only(rec)
        widest = max(records[:30], key=len) if records else []
        seen = ", ".join(repr(c.strip()) for c in widest if c.strip()) or "none"
        raise MappingError(f"no row holds a date and an amount; columns seen: {seen}")
    widths: dict[int, int] = {}
    for i in rows:
        widths[len(records[i])] = widths.get(len(records[i]), 0) + 1
    width = max(widths.items(), key=lambda kv: (kv[1], -kv[0]))[0]
    first = next(i for i in rows if len(records[i]) == width)
    header = None
    j = first - 1
    while j >= 0 and not any(c.strip() for c in records[j]):
        j -= 1
    if j >= 0 and _header_like(records[j]) and len(records[j]) >= width - 1:
        header = j
    return header, first, width


def _statement_header(rec: list[str]) -> bool:
    names = [V.normalise(c) for c in rec]
    folded = [V.fold(c) for c in rec]
    dated = any(n in V.VALUE_DATE or V.rank(n, V.DATE) is not None
                or V.rank(n, V.BOOKING_DATE) is not None or "date" in f or "datum" in f
                for n, f in zip(names, folded, strict=True))
    money = any(n in V.AMOUNT_SET or n in V.DEBIT or n in V.CREDIT for n in names)
    return dated and money


def _header_only(rec: list[str]) -> Exception:
    from app.core.errors import EmptyDocumentError

    names = ", ".join(repr(c.strip()) for c in rec if c.strip())
    return EmptyDocumentError(f"CSV statement with a header ({names}) but no transaction rows")


@dataclass
class _Col:
    index: int
    name: str  # normalised header ("" when none)
    raw: str
    values: list[str]
    kind: str = "text"  # date | amount | indicator | currency | empty | text
    date_formats: list[str] = field(default_factory=list)
    negatives: bool = False
    mostly_positive: bool = False


def _type_column(col: _Col, decimal: str) -> None:
    vals = col.values
    if not vals:
        col.kind = "empty"
        return
    if all(_is_date(v) for v in vals):
        fits, _ = fitting_formats(vals)
        if fits:
            col.kind, col.date_formats = "date", fits
            return
    if all(v.strip().upper() in V.ISO_CURRENCIES for v in vals):
        col.kind = "currency"
        return
    indicators = [v for v in vals if is_indicator(v)]
    share = 0.5 if col.name in V.INDICATOR else 0.8  # a named D/C column may hold a stray value
    if len({v.strip().lower() for v in vals}) <= 4 and len(indicators) >= share * len(vals) \
            and not all(_is_money(v) for v in vals):
        col.kind = "indicator"
        return
    money = [v for v in vals if _is_money(v)]
    named = col.name in V.AMOUNT_SET or col.name in V.DEBIT or col.name in V.CREDIT \
        or col.name in V.BALANCE
    if len(money) >= 0.95 * len(vals) and (named or not all(_ID_LIKE.match(v.strip())
                                                              for v in money)):
        try:
            parsed = [parse_amount(v, decimal=decimal) for v in money]
        except AmountError:
            return
        col.kind = "amount"
        col.negatives = any(p < 0 for p in parsed)
        col.mostly_positive = sum(p > 0 for p in parsed) > len(parsed) / 2
        return
    if named and money:  # an amount column with unreadable values: still the amount (the
        col.kind = "amount"  # bad value fails its row, naming it)
        col.negatives = any(v.strip().startswith(("-", "(", "−")) or v.strip().endswith("-")
                            for v in vals)


def detect_layout(records: list[list[str]], *, name: str, card_hint: bool = False) -> Layout:
    """The layout of a CSV statement. Raises MappingError (with the columns and a sample row)
    or EmptyDocumentError (a header without rows)."""
    try:
        header_i, first, width = find_table(records)
    except MappingError as exc:
        raise MappingError(f"{name}: {exc}") from None
    header = [c.strip() for c in records[header_i]] if header_i is not None else []
    header += [""] * (width - len(header))
    table = [records[i] for i in data_rows(records) if i >= first and len(records[i]) == width]
    sample = table[:500]
    cols = [_Col(j, V.normalise(header[j]), header[j],
                 [r[j].strip() for r in sample if r[j].strip()]) for j in range(width)]
    decimal = sniff_decimal([v for c in cols for v in c.values if _is_money(v)][:3000])
    for c in cols:
        _type_column(c, decimal)
    layout = Layout(header_row=header_i, first_row=first, width=width, header=header,
                    decimal=decimal)
    try:
        _assign(layout, cols, card_hint=card_hint)
    except MappingError as exc:
        raise MappingError(f"{name}: {exc}; columns seen: {_columns(header, cols)}; "
                           f"sample row: {';'.join(c.strip() for c in sample[0])[:200]!r}") from None
    return layout


def _columns(header: list[str], cols: list[_Col]) -> str:
    return ", ".join(f"{h or f'#{c.index + 1}'} ({c.kind})" for h, c in zip(header, cols,
                                                                            strict=True))


def _by_rank(cols: list[_Col], words: tuple[str, ...]) -> list[_Col]:
    ranked = [(V.rank(c.name, words), c.index, c) for c in cols]
    return [c for r, _, c in sorted((x for x in ranked if x[0] is not None),
                                    key=lambda x: (x[0], x[1]))]


def _assign(layout: Layout, cols: list[_Col], *, card_hint: bool) -> None:
    roles = layout.roles
    dates = [c for c in cols if c.kind == "date"]
    if not dates:
        raise MappingError("no column holds only dates")
    booking = _by_rank(dates, V.BOOKING_DATE) + _by_rank(dates, V.DATE)
    booking = [c for c in booking if c.name not in V.VALUE_DATE] or booking
    chosen = booking[0] if booking else next(
        (c for c in dates if c.name not in V.VALUE_DATE), dates[0])
    roles["date"] = [chosen.index]
    value = [c for c in dates if c is not chosen and c.name in V.VALUE_DATE]
    if value:
        roles["value_date"] = [value[0].index]
    # An amount with an empty header right after a currency column takes that column's name
    # (DEGIRO: "Mutatie" holds EUR, the next, unnamed column the amount).
    for c in cols:
        if c.kind == "amount" and not c.name and c.index > 0 \
                and cols[c.index - 1].kind == "currency":
            c.name = cols[c.index - 1].name
            cols[c.index - 1].name = "currency"
    amounts = [c for c in cols if c.kind == "amount" and c.name not in V.IGNORE
               and not _foreign(c.raw)]
    balance = [c for c in amounts if c.name in V.BALANCE]
    signed = _by_rank([c for c in amounts if c not in balance], V.AMOUNT)
    debit = [c for c in amounts if c.name in V.DEBIT]
    credit = [c for c in amounts if c.name in V.CREDIT]
    indicator = [c for c in cols if c.kind == "indicator"]
    if balance:
        roles["balance"] = [balance[0].index]
    layout.card = card_hint or any(c.name in V.CARD for c in cols)
    if signed:
        amount = signed[0]
        roles["amount"] = [amount.index]
        if not amount.negatives and indicator:
            roles["indicator"] = [indicator[0].index]
            layout.sign = "indicator"
        elif not amount.negatives and not (debit and credit):
            _unsigned(layout, amount)
        elif layout.card and amount.mostly_positive:
            _unsigned(layout, amount)  # a card export: purchases positive, payments negative
    elif debit and credit:
        roles["debit"], roles["credit"] = [debit[0].index], [credit[0].index]
        layout.sign = "pair"
    else:
        _by_content(layout, [c for c in amounts if c not in balance], cols, indicator)
    _text_roles(layout, cols)


def _foreign(raw: str) -> bool:
    f = V.fold(raw)
    return any(w in f for w in ("fremdw", "foreign", "original", "oorspr", "local_", "origin"))


def _unsigned(layout: Layout, amount: _Col) -> None:
    """A signed-amount column without a single negative value."""
    if layout.card:
        layout.sign = "card_positive"
        layout.notes.append("card export printing purchases as positive amounts: read as money "
                            "out, negative rows as payments and refunds")
        return
    if len(amount.values) <= 1:
        return  # one row says nothing about the convention; read as printed
    raise MappingError(f"all amounts in {amount.raw or 'the amount column'!r} are positive and "
                       "no column says which are money out (a debit/credit indicator or "
                       "separate debit and credit columns)")


def _by_content(layout: Layout, amounts: list[_Col], cols: list[_Col],
                indicator: list[_Col]) -> None:
    """Headerless (or unknown-header) files: decide from the values alone."""
    roles = layout.roles
    if len(amounts) == 1:
        amount = amounts[0]
        roles["amount"] = [amount.index]
        if amount.negatives:
            return
        if indicator:
            roles["indicator"] = [indicator[0].index]
            layout.sign = "indicator"
            return
        nxt = cols[amount.index + 1] if amount.index + 1 < len(cols) else None
        if nxt is not None and nxt.kind == "empty" and layout.header_row is None:
            del roles["amount"]
            roles["debit"], roles["credit"] = [amount.index], [nxt.index]
            layout.sign = "pair"
            layout.notes.append(f"no header: columns {amount.index + 1} and {nxt.index + 1} "
                                "read as debit and credit (debit first, as exports order them)")
            return
        _unsigned(layout, amount)
        return
    if not amounts:
        raise MappingError("no column holds amounts")
    raise MappingError(f"{len(amounts)} columns hold amounts and none is named as the "
                       "amount, debit or credit")


def _text_roles(layout: Layout, cols: list[_Col]) -> None:
    roles, taken = layout.roles, {i for v in layout.roles.values() for i in v}
    free = [c for c in cols if c.index not in taken]
    payee = [c for c in free if c.name in V.PAYEE and c.kind in ("text", "empty")]
    if payee:
        roles["counterparty"] = [payee[0].index]
    desc = [c.index for c in free if (c.name in V.DESCRIPTION or V.is_vwz(c.name))
            and c.kind in ("text", "empty", "amount") and c not in payee[:1]]
    if not desc and not payee:  # headerless: the longest text column
        texts = sorted((c for c in free if c.kind == "text"),
                       key=lambda c: -sum(len(v) for v in c.values))
        desc = [texts[0].index] if texts else []
    if desc:
        roles["description"] = desc
    currency = [c for c in free if c.kind == "currency"]
    named = [c for c in currency if c.name not in ("", "currency")] + currency
    if named:
        roles["currency"] = [named[0].index]
    for c in free:
        distinct = set(c.values)
        if c.name in V.OWN_ACCOUNT and c.kind == "text" and distinct \
                and len(distinct) <= max(1, len(c.values) // 3) \
                and all(_ACCOUNT_LIKE.match(v) for v in distinct):
            roles.setdefault("account", [c.index])
        elif c.name in V.REFERENCE and c.values and len(distinct) == len(c.values):
            roles.setdefault("reference", [c.index])
        elif c.name in V.STATUS and c.kind == "text" and len(distinct) <= 6:
            roles.setdefault("status", [c.index])
        elif c.name in V.CARD:
            roles.setdefault("card", [c.index])
