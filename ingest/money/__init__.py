"""Bank statements as data: pure parsers (OFX, CAMT.053, MT940, CSV, PDF), dedup keys, balance
checks and categorisation rules; `hook` stores the results inside the document's transaction."""

from ingest.money.detect import detect_format, parse_statement_file
from ingest.money.types import (
    AccountRef,
    BalanceCheck,
    Location,
    ParsedStatement,
    ParsedTransaction,
    StatementFile,
)

__all__ = [
    "AccountRef",
    "BalanceCheck",
    "Location",
    "ParsedStatement",
    "ParsedTransaction",
    "StatementFile",
    "detect_format",
    "parse_statement_file",
]
