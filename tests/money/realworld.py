"""Run the statement importer over real statement files and compare with their expected figures.

Each file goes the way ingest takes it: media-type detection, the parsers' scores (a statement
file that the statement or archive parser does not claim would be indexed as plain text: a
*silent* miss), then parse. The outcome is one of:

- exact:  count, money in, money out (and the currency, where the file states it) as expected;
- error:  a one-line IngestError (a visible failure; right for files that cannot be used);
- wrong:  parsed, but the figures differ (the worst case: believed and wrong);
- silent: not claimed as a statement, or parsed into nothing without an error.

Expected figures come from `expected.json` next to the files (a list of objects or a mapping
from relative path to object, with `count`, `money_in`, `money_out`, `currency`), else from
`_tools/meta.jsonl`. Run as a script to print the table:

    PYTHONPATH=. python tests/money/realworld.py [FOLDER ...]
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve()
STAGING = Path(os.environ.get("HOMERAG_STATEMENTS_CORPUS", "/work/staging/statements"))


def realworld_dir() -> Path | None:
    """The shared real-world corpus (`shared/realworld`), wherever this checkout sits."""
    candidates = [os.environ.get("HOMERAG_REALWORLD"), _HERE.parents[2] / "shared" / "realworld",
                  _HERE.parents[3] / "shared" / "realworld", Path("/work/shared/realworld")]
    for c in candidates:
        if c and Path(c).is_dir():
            return Path(c)
    return None


@dataclass
class Outcome:
    name: str
    status: str  # exact | error | wrong | silent
    detail: str
    count: int | None = None
    money_in: Decimal | None = None
    money_out: Decimal | None = None


def load_expected(folder: Path) -> dict[str, dict[str, Any]]:
    """Expectations by relative path."""
    path = folder / "expected.json"
    items: list[dict[str, Any]] = []
    if path.is_file():
        raw = json.loads(path.read_text())
        if isinstance(raw, dict):
            items = [{"path": k, **v} for k, v in raw.items()] if not raw.get("files") \
                else list(raw["files"])
        else:
            items = list(raw)
    elif (folder / "_tools" / "meta.jsonl").is_file():
        items = [json.loads(ln) for ln in (folder / "_tools" / "meta.jsonl").read_text()
                 .splitlines() if ln.strip()]
    return {str(i.get("path") or i.get("file")): i for i in items}


def _decimal(value: Any) -> Decimal | dict[str, Decimal] | None:
    """A figure, or per currency ("EUR 189.39; USD 101.38") a mapping."""
    if value is None:
        return None
    per = re.findall(r"\b([A-Z]{3})\s+([-+]?\d+(?:\.\d+)?)", str(value))
    if per:
        return {c: Decimal(v) for c, v in per}
    m = re.match(r"\s*([-+]?\d+(?:\.\d+)?)", str(value))
    return Decimal(m.group(1)) if m else None


def _currency(value: Any) -> list[str] | None:
    """The stated currencies; None where the corpus says they are only implied."""
    if not value or "implied" in str(value):
        return None
    head = str(value).split("(")[0]
    codes = re.findall(r"\b([A-Z]{3})\b", head)
    return sorted(set(codes)) if codes else None


def _parsers():
    from ingest.money.csvprofiles import CsvOptions
    from ingest.parsers.archive import ArchiveParser
    from ingest.parsers.statement import StatementParser

    statement = StatementParser(CsvOptions())
    return statement, ArchiveParser()


def import_file(data: bytes, name: str) -> tuple[list[Any], list[str]]:
    """(statement files, errors) for one file as ingest reads it; archives are unpacked."""
    from app.core.errors import IngestError
    from app.core.types import ParseInput, RawItem
    from ingest.mediatypes import detect_media_type

    statement, archive = _parsers()
    item = RawItem(origin=name, name=name, data=data)
    inp = ParseInput.of(item, data, detect_media_type(name, data[:4096], None))
    scores = [(p.score(inp) or 0, p) for p in (statement, archive)]
    score, parser = max(scores, key=lambda sp: sp[0])
    if score <= 0:
        return [], []
    try:
        doc = parser.parse(inp)
    except IngestError as exc:
        return [], [str(exc)]
    files, errors = ([doc.extras["statement"]] if "statement" in doc.extras else []), []
    for child in doc.children:
        sub, err = import_file(child.read_bytes(), child.origin)
        files += sub
        errors += err
    errors += [str(e) for e in doc.extras.get("child_errors", ())]
    return files, errors


def evaluate(path: Path, expected: dict[str, Any] | None) -> Outcome:
    name = path.name
    files, errors = import_file(path.read_bytes(), name)
    if errors and not files:
        one = len(errors) == 1 and "\n" not in errors[0] and len(errors[0]) < 400
        return Outcome(name, "error" if one else "wrong", errors[0][:160])
    if not files:
        return Outcome(name, "silent", "not claimed as a statement")
    txs = [t for sf in files for s in sf.statements for t in s.transactions]
    invs = [i for sf in files for s in sf.statements for i in s.investments]
    # Investment files are counted two ways in expectations: the cash rows alone (OFX
    # INVBANKTRAN), or every row with its cash effect (broker CSV exports). Either reading
    # must match the expectation exactly; both are computed.
    readings = [[(t.amount, t.currency) for t in txs]]
    if invs:
        readings.append(readings[0] + [(i.cash, i.currency) for i in invs])
    best: Outcome | None = None
    for pairs in readings:
        out = _judge(name, [a for a, _ in pairs], sorted({c for _, c in pairs}), expected,
                     errors, pairs)
        if best is None or (out.status == "exact" and best.status != "exact"):
            best = out
    assert best is not None
    return best


def _judge(name: str, amounts: list[Decimal], currencies: list[str],
           expected: dict[str, Any] | None, errors: list[str],
           by_ccy: list[tuple[Decimal, str]] | None = None) -> Outcome:
    money_in = sum((a for a in amounts if a > 0), Decimal(0))
    money_out = sum((a for a in amounts if a < 0), Decimal(0))
    out = Outcome(name, "exact",
                  f"{len(amounts)} tx {money_in} / {money_out} {','.join(currencies)}",
                  len(amounts), money_in, money_out)
    if errors:
        out.status, out.detail = "wrong", f"partly failed: {errors[0][:120]}"
        return out
    if not expected:
        return out
    problems = []
    if expected.get("count") is not None and int(expected["count"]) != len(amounts):
        problems.append(f"count {len(amounts)} != {expected['count']}")
    for key, got, sign in (("money_in", money_in, 1), ("money_out", money_out, -1)):
        want = _decimal(expected.get(key))
        if isinstance(want, dict):
            per = {c: sum((a for a, cc in by_ccy or [] if cc == c and a * sign > 0), Decimal(0))
                   for c in want}
            if per != want:
                problems.append(f"{key} {per} != {want}")
        elif want is not None and want != got:
            problems.append(f"{key} {got} != {want}")
    want_ccy = _currency(expected.get("currency"))
    if want_ccy and amounts and currencies != want_ccy:
        problems.append(f"currency {currencies} != {want_ccy}")
    if problems:
        out.status, out.detail = "wrong", "; ".join(problems)
    return out


STATEMENT_SUFFIXES = (".ofx", ".qfx", ".qbo", ".qif", ".csv", ".sta", ".mt940", ".940", ".xml",
                      ".txt", ".dat", ".pdf", ".zip", ".camt", ".052", ".053", ".054", ".tsv",
                      ".mta", ".942", "")


def corpus_files(folder: Path) -> list[Path]:
    """Statement files under `folder` (not the corpus tools, not expectation files)."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")
                  and "_tools" not in p.parts and ".expected" not in p.name
                  and p.name not in ("MANIFEST.md", "expected.json", "save.py")
                  and p.suffix.lower() in STATEMENT_SUFFIXES)


def run(folders: list[Path]) -> list[Outcome]:
    outcomes = []
    for folder in folders:
        expected = load_expected(folder)
        for path in corpus_files(folder):
            rel = str(path.relative_to(folder))
            outcomes.append(evaluate(path, expected.get(rel)))
    return outcomes


def table(outcomes: list[Outcome]) -> str:
    width = max((len(o.name) for o in outcomes), default=10)
    lines = [f"{'file':<{width}}  {'result':<6}  detail"]
    lines += [f"{o.name:<{width}}  {o.status:<6}  {o.detail}" for o in outcomes]
    exact = sum(o.status == "exact" for o in outcomes)
    lines.append(f"{exact}/{len(outcomes)} exact, "
                 f"{sum(o.status == 'error' for o in outcomes)} clear errors, "
                 f"{sum(o.status == 'wrong' for o in outcomes)} wrong, "
                 f"{sum(o.status == 'silent' for o in outcomes)} silent")
    return "\n".join(lines)


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:]]
    if not args:
        rw = realworld_dir()
        args = [p for p in (rw / "statements" if rw else None, STAGING)
                if p is not None and p.is_dir()]
    print(table(run(args)))
