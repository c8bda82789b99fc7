"""Real statement files (tests/data/bank, see tests/data/README.md) through the ingest path:
detection, the parsers' scores, parse. Each is exact (count, money in, money out per currency,
investment transactions, positions) or fails with a one-line reason.

Every figure below agrees with an expectation made independently of this code: the source
project's own tests where it has them, else sums computed from the file by hand or by a plain
script (the corpus notes in /work/staging/statements/expected.json). One deliberate difference:
`actual_camt053_v04_vrbank.xml` has a batch entry of two direct debits (2.25 + 1.20) that we
split into its two transactions (7 rows, the corpus counts 6 entries; the money is the same).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.money.realworld import import_file

DATA = Path(__file__).resolve().parents[1] / "data" / "bank"

# name: (transactions, {currency: (money in, money out)}, investment transactions, positions)
#    or the start of the one-line error after "<name>: "
EXPECTED: dict[str, tuple[int, dict[str, tuple[str, str]], int, int] | str] = {
    "actual_8859-1.qfx": (1, {"CAD": ("0", "-20.00")}, 0, 0),
    "actual_camt053_v04_vrbank.xml": (7, {"EUR": ("5.75", "-169.85")}, 0, 0),
    "actual_data_fr.sta": (6, {"EUR": ("1200.00", "-203.29")}, 0, 0),
    "actual_data_with_categories.qif": (3, {"XXX": ("0", "-161.33")}, 0, 0),
    "bank2ynab_aib_ie_header_only.csv": "CSV statement with a header ('Posted Account', '",
    "bank2ynab_bank_of_ireland.csv": (27, {"XXX": ("3841.22", "-4260.83")}, 0, 0),
    "bank2ynab_bunq_nl.csv": (7, {"XXX": ("15.86", "-39.68")}, 0, 0),
    "bank2ynab_cz_TH_anonymised.csv": "date '1111/11/11' (year 1111) is not a plausible",
    "bank2ynab_cz_movements_cp1250.csv": (1, {"CZK": ("0", "-1.00")}, 0, 0),
    "bank2ynab_dbs_sg_noheader.csv": (1, {"XXX": ("0", "-7.80")}, 0, 0),
    "bank2ynab_extrato_br_header_only_latin1.csv": "CSV statement with a header ('DATA LANÇAMENTO', ",
    "bank2ynab_kbc_mastercard_be.csv": (3, {"EUR": ("35.77", "-33.04")}, 0, 0),
    "bank2ynab_kta_ei_at_pipe.dat": (11, {"EUR": ("0", "-6152.22")}, 0, 0),
    "bank2ynab_monzo_uk.csv": (1, {"GBP": ("0", "-10.00")}, 0, 0),
    "bank2ynab_n26_de.csv": (1, {"EUR": ("0", "-59.99")}, 0, 0),
    "bank2ynab_ocbc_sg_preamble_masked.csv": 'rows have dates but no readable amounts (row 7: ',
    "bank2ynab_rabobank_nl_broken_quote.csv": (3, {"EUR": ("50.00", "-1087.49")}, 0, 0),
    "bank2ynab_raiffeisen_at_IO_flag.csv": "ow 72: debit/credit indicator 'EUR' is neither a",
    "bank2ynab_sparkasse_de_umsatz.csv": (1, {"EUR": ("0", "-36.99")}, 0, 0),
    "csv2ofx_capitalone_us_card.csv": (2, {"XXX": ("1000.00", "-1000.00")}, 0, 0),
    "csv2ofx_creditunion_cr_only.csv": "all amounts in 'Amount' are positive and no colu",
    "csv2ofx_gls_de.csv": (1, {"EUR": ("0", "-98.76")}, 0, 0),
    "csv2ofx_ing_es.csv": (10, {"XXX": ("1901.00", "-1550.79")}, 0, 0),
    "csv2ofx_n26_fr.csv": (2, {"EUR": ("328.00", "-328.00")}, 0, 0),
    "csv2ofx_pc_mastercard_ca.csv": (2, {"XXX": ("0", "-50.31")}, 0, 0),
    "csv2ofx_schwab_checking_us.csv": (4, {"USD": ("20.00", "-235.27")}, 0, 0),
    "csv2ofx_ubs_ch_fr.csv": (3, {"CHF": ("240.00", "-210.00")}, 0, 0),
    "genkgo_camt052_v02_batch.xml": (1, {"SEK": ("0", "-200000.00")}, 0, 0),
    "genkgo_camt052_v08_sts_cd.xml": (1, {"SEK": ("0", "-200000.00")}, 0, 0),
    "genkgo_camt053_v02_two_statements.xml": (2, {"EUR": ("8.85", "-7.00")}, 0, 0),
    "genkgo_camt054_v02_multi_txdtls.xml": (1, {"SEK": ("0", "-200000.00")}, 0, 0),
    "ofxparse_bank_medium.ofx": (3, {"CAD": ("0", "-345.27")}, 0, 0),
    "ofxparse_bank_small_empty.ofx": 'OFX file holds no bank, card or investment state',
    "ofxparse_chase_cc.qfx": (1, {"USD": ("0", "-10.00")}, 0, 0),
    "ofxparse_fidelity_brokerage.ofx": (2, {"USD": ("50.0000", "-50.0100")}, 2, 0),
    "ofxparse_multiple_accounts.ofx": (5, {"EUR": ("472.33", "-166.20")}, 0, 0),
    "ofxparse_tiaacref_401k.ofx": (0, {}, 1, 6),
    "ofxparse_v102_empty_tags.ofx": (1, {"AUD": ("12.34", "0")}, 0, 0),
    "ofxparse_vanguard_inv.ofx": (0, {}, 1, 2),
    "phpmt940_btrl_ro.sta": (2, {"RON": ("1398.79", "0")}, 0, 0),
    "phpmt940_hsbc_hk.sta": (1, {"HKD": ("0", "-20000.00")}, 0, 0),
    "phpmt940_kontist_de.sta": (6, {"EUR": ("515.95", "-120.19")}, 0, 0),
    "phpmt940_zenith_ng.sta": (8, {"NGN": ("220000.00", "-223743.91")}, 0, 0),
    "quiffen_split_2digit_year.qif": (1, {"XXX": ("0", "-10.00")}, 0, 0),
    "quiffen_test_wikipedia.qif": (5, {"XXX": ("99.50", "-135.00")}, 1, 0),
    "two_accounts.ofx": (4, {"USD": ("2500.00", "-24.99")}, 0, 0),
    "wolph_citi_us_spaces_entrydate.txt": (5, {"USD": ("0", "-1142.75")}, 0, 0),
    "wolph_mbank_pl_mt942.sta": (3, {"PLN": ("0.03", "0")}, 0, 0),
}


def test_every_file_in_the_folder_has_an_expectation() -> None:
    names = {p.name for p in DATA.iterdir() if p.is_file() and p.suffix != ".md"}
    assert names == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_file_is_exact_or_a_one_line_error(name: str) -> None:
    files, errors = import_file((DATA / name).read_bytes(), name)
    want = EXPECTED[name]
    if isinstance(want, str):
        assert not files and len(errors) == 1
        assert errors[0].startswith(f"{name}") and want in errors[0]
        assert "\n" not in errors[0] and "<_io" not in errors[0] and "object at 0x" not in errors[0]
        return
    assert not errors, errors
    count, money, investments, positions = want
    txs = [t for sf in files for s in sf.statements for t in s.transactions]
    got: dict[str, list[Decimal]] = {}
    for t in txs:
        pair = got.setdefault(t.currency, [Decimal(0), Decimal(0)])
        pair[0 if t.amount > 0 else 1] += t.amount if t.amount else 0
    assert len(txs) == count
    assert {c: (str(a), str(b)) for c, (a, b) in got.items()} == money
    assert sum(len(s.investments) for sf in files for s in sf.statements) == investments
    assert sum(len(s.positions) for sf in files for s in sf.statements) == positions
