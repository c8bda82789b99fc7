"""`homerag tx top --by merchant` prints the payee as the statement writes it ("Bäckerei
Korn"), not the folded grouping key ("backerei korn"); the JSON carries both."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from click.testing import CliRunner

from app.cli import cli
from ingest.money.mt940 import parse_mt940
from tests.support.statements_seed import store_file
from tests.support.statements_synth import Acct, Tx, mt940

D = Decimal


def test_top_merchants_show_the_display_name(clean_db, settings) -> None:
    txs = [Tx(date(2026, 3, 2), D("-12.40"), "Bäckerei Korn", "Brot"),
           Tx(date(2026, 3, 9), D("-8.10"), "Bäckerei Korn", "Brötchen"),
           Tx(date(2026, 3, 10), D("-30.00"), "Müller Drogerie", "Seife")]
    with clean_db.session() as s:
        store_file(s, parse_mt940(mt940([Acct("DE89370400440532013000", txs)]), name="g.sta"),
                   origin="/home/me/bank/giro.sta")
    result = CliRunner().invoke(cli, ["tx", "top", "--by", "merchant", "--period", "2026-03"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].endswith("1x  Müller Drogerie")
    assert lines[1].endswith("2x  Bäckerei Korn")
    result = CliRunner().invoke(cli, ["tx", "top", "--by", "merchant", "--period", "2026-03",
                                      "--json"], catch_exceptions=False)
    groups = json.loads(result.output)["groups"]
    assert [(g["key"], g["label"]) for g in groups] == [
        ("muller drogerie", "Müller Drogerie"), ("backerei korn", "Bäckerei Korn")]
