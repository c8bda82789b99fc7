"""Token usage and cost by model and month: the price table, `homerag status --usage`, and the
figures stored with each answer."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from app.core.errors import ConfigError
from app.services.usage import Price, load_prices

PRICES = """currency = "EUR"
[models."big-model"]
input = 0.5
output = 2.0
"""


def test_prices_file_read_and_refused_in_one_line(tmp_path):
    assert load_prices(tmp_path / "absent.toml").models == {}
    good = tmp_path / "prices.toml"
    good.write_text(PRICES, encoding="utf-8")
    table = load_prices(good)
    assert table.currency == "EUR" and table.models == {"big-model": Price(0.5, 2.0)}
    assert table.cost("big-model", 2_000_000, 1_000_000) == pytest.approx(3.0)
    assert table.cost("other", 10, 10) is None
    for body, field in (('[models."m"]\ninput = -1\n', "input"),
                        ('[models."m"]\noutput = "cheap"\n', "output"),
                        ('models = 3\n', "[models]"), ("currency = 'EUR\n", "not valid TOML")):
        bad = tmp_path / "bad.toml"
        bad.write_text(body, encoding="utf-8")
        with pytest.raises(ConfigError) as exc:
            load_prices(bad)
        assert str(bad) in str(exc.value) and field in str(exc.value)
        assert "\n" not in str(exc.value)


def _answer(s, days_ago: int, model: str | None, prompt: int | None, completion: int | None,
            mode: str = "llm") -> None:
    s.execute(text("INSERT INTO answers (created_at, question, mode, answer, model, "
                   "prompt_tokens, completion_tokens) VALUES (now() - make_interval(days => :w), 'q', "
                   ":mode, 'a', :m, :p, :c)"),
              {"w": days_ago, "m": model, "p": prompt, "c": completion, "mode": mode})


def test_status_usage_by_model_and_month(clean_db, settings):
    (settings.data_dir / "prices.toml").write_text(PRICES, encoding="utf-8")
    with clean_db.session() as s:
        _answer(s, 0, "big-model", 1_000_000, 100_000)
        _answer(s, 0, "big-model", 500_000, 50_000)
        _answer(s, 0, "small-model", 1_000, 10)
        _answer(s, 0, None, None, None, mode="retrieval-only")  # no model: not counted
        _answer(s, 40, "big-model", 2_000_000, 0)
    from app.cli import cli

    out = CliRunner().invoke(cli, ["status", "--usage", "--json"])
    assert out.exit_code == 0, out.output
    usage = json.loads(out.output)
    rows = {(r["month"], r["model"]): r for r in usage["months"]}
    with clean_db.session() as s:
        this, last = s.execute(text("SELECT to_char(now(), 'YYYY-MM'), "
                                    "to_char(now() - interval '40 days', 'YYYY-MM')")).one()
    big = rows[(this, "big-model")]
    assert (big["answers"], big["prompt_tokens"], big["completion_tokens"]) == (
        2, 1_500_000, 150_000)
    assert big["cost"] == pytest.approx(1.5 * 0.5 + 0.15 * 2.0)
    assert rows[(this, "small-model")]["cost"] is None  # no price for it
    assert rows[(last, "big-model")]["cost"] == pytest.approx(1.0)
    assert usage["currency"] == "EUR" and (this, None) not in rows
    text_out = CliRunner().invoke(cli, ["status", "--usage"])
    assert text_out.exit_code == 0
    assert "big-model" in text_out.output and "1.0500 EUR" in text_out.output
    assert "no price" in text_out.output
