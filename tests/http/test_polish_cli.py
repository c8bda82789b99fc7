"""`homerag ask --new-conversation` / `--conversation ID` (app/cli/ask.py): a conversation started
and continued from the command line on the sample household (real database, no LLM: the
follow-up's filters are carried over), the id printed, bad ids and flag combinations refused."""

# ruff: noqa: F811
from __future__ import annotations

import json
import re

from click.testing import CliRunner

from tests.mcp.household import household, make_runtime, serve_app  # noqa: F401

FIRST = "How much did I spend at Rewe in September 2026?"


def test_a_conversation_started_and_continued_from_the_cli(household, settings):
    from app.cli import cli
    from app.services.conversations import get_conversation
    from app.services.runtime import open_runtime

    run = CliRunner().invoke
    out = run(cli, ["ask", "--new-conversation", FIRST])
    assert out.exit_code == 0, out.output
    m = re.search(r"^Conversation (\d+), turn 1: ask a follow-up with homerag ask "
                  r"--conversation \1 ", out.output, re.MULTILINE)
    assert m, out.output
    conv = int(m.group(1))
    assert "Rewe" in out.output and "Sources:" in out.output

    out = run(cli, ["ask", "--conversation", str(conv), "and in August 2026?"])
    assert out.exit_code == 0, out.output
    understood = re.search(r"^understood as: (.+)$", out.output, re.MULTILINE)
    assert understood and "rewe" in understood.group(1).lower(), out.output
    assert f"Conversation {conv}, turn 2:" in out.output

    out = run(cli, ["ask", "--conversation", str(conv), "--json",
                    "which of those were over 20 euros?"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.output)
    assert body["conversation"] == {"id": conv, "turn": 3}
    assert "rewe" in body["understood_as"].lower()
    rows = [c for c in body["citations"] if c["kind"] == "transaction"]
    assert rows and all("Rewe" in c["text"] and " 2026-08-" in f" {c['text']}" for c in rows)

    with open_runtime() as rt:
        stored = get_conversation(rt, conv)
    assert stored["origin"] == "cli"
    assert [t["question"] for t in stored["turns"]] == [
        FIRST, "and in August 2026?", "which of those were over 20 euros?"]


def test_bad_conversation_ids_and_both_flags_are_refused(household, settings):
    from app.cli import cli

    run = CliRunner().invoke
    out = run(cli, ["ask", "--conversation", "999999999", "and in October?"])
    assert out.exit_code == 1 and "conversation 999999999 does not exist" in out.output
    assert "Traceback" not in out.output
    out = run(cli, ["ask", "--conversation", "1", "--new-conversation", "x"])
    assert out.exit_code == 2 and "give one of them" in out.output
    out = run(cli, ["ask", "--conversation", "0", "x"])
    assert out.exit_code == 2
    # Without either flag nothing is stored (as before).
    before = run(cli, ["conversations", "list", "--json"]).output
    assert run(cli, ["ask", FIRST]).exit_code == 0
    assert run(cli, ["conversations", "list", "--json"]).output == before


def test_the_terminal_path_streams_the_turn_and_prints_the_id(household, settings, monkeypatch):
    import sys
    import types

    from app.cli import cli

    class Tty:
        """sys.stdout as seen by `ask` (a terminal); writes go to whatever stdout is now."""

        def isatty(self) -> bool:
            return True

        def __getattr__(self, name: str):
            return getattr(sys.stdout, name)

    monkeypatch.setattr("app.cli.ask.sys", types.SimpleNamespace(stdout=Tty()))
    run = CliRunner().invoke
    out = run(cli, ["ask", "--new-conversation", FIRST])
    assert out.exit_code == 0, out.output
    conv = int(re.search(r"^Conversation (\d+), turn 1:", out.output, re.MULTILINE).group(1))
    out = run(cli, ["ask", "--conversation", str(conv), "and in August 2026?"])
    assert out.exit_code == 0, out.output
    assert re.search(r"^understood as: .*Rewe", out.output, re.MULTILINE | re.IGNORECASE)
    assert f"Conversation {conv}, turn 2:" in out.output and "Sources:" in out.output
