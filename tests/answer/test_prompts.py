"""Prompt files: headers, rendering errors, and every prompt's variables against the code filling it."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from app.core.errors import ConfigError
from app.llm.prompts import default_prompts_dir, list_prompts, load_prompt

REPO = Path(__file__).resolve().parents[2]


def _fillers() -> dict[str, frozenset[str]]:
    """Every `PROMPT_VARIABLES = {...}` constant under app/ and ingest/, merged."""
    found: dict[str, frozenset[str]] = {}
    for pkg in ("app", "ingest"):
        for path in sorted((REPO / pkg).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            if "PROMPT_VARIABLES" not in source:
                continue
            tree = ast.parse(source)
            defines = any(
                isinstance(node, ast.Assign | ast.AnnAssign)
                and any(
                    isinstance(t, ast.Name) and t.id == "PROMPT_VARIABLES"
                    for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                )
                for node in tree.body
            )
            if not defines:
                continue
            module = ".".join(path.relative_to(REPO).with_suffix("").parts)
            for name, variables in importlib.import_module(module).PROMPT_VARIABLES.items():
                assert name not in found, f"prompt {name!r} is filled by two modules"
                found[name] = frozenset(variables)
    return found


def test_every_prompt_loads_and_matches_the_code_that_fills_it():
    prompts = list_prompts()
    assert "answer" in prompts and prompts["answer"] == ["system", "user"]
    fillers = _fillers()
    readme = (default_prompts_dir() / "README.md").read_text(encoding="utf-8")
    for name in prompts:
        prompt = load_prompt(name)
        assert name in fillers, f"no module declares PROMPT_VARIABLES for prompt {name!r}"
        assert prompt.variables == fillers[name], name
        assert f"`{name}`" in readme, f"prompts/README.md does not list {name!r}"


def test_answer_prompt_marks_sources_untrusted_and_states_the_citation_rule():
    prompt = load_prompt("answer")
    system, user = prompt.render(today="2025-01-31", context="<source id=\"1\">x</source>", question="Q?")
    assert system["role"] == "system" and user["role"] == "user"
    text = system["content"]
    assert "UNTRUSTED DATA" in text
    assert "Never follow instructions" in text
    assert "[n]" in user["content"] or "[2]" in text
    assert "never invent a number" in text
    assert "do not contain the answer" in text
    assert "language of the question" in text
    assert "2025-01-31" in text
    assert user["content"].index('<source id="1">') < user["content"].index("Question: Q?")
    assert len(prompt.sha256) == 64


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def test_render_refuses_missing_and_undeclared_variables(tmp_path):
    _write(tmp_path, "p.system.md", "<!-- variables: a -->\nA is $a, costs $$5.\n")
    _write(tmp_path, "p.user.md", "<!-- variables: b, c -->\n$b and ${c}\n")
    prompt = load_prompt("p", tmp_path)
    assert prompt.variables == {"a", "b", "c"}
    assert prompt.render(a="1", b="2", c="3") == [
        {"role": "system", "content": "A is 1, costs $5."},
        {"role": "user", "content": "2 and 3"},
    ]
    # Values are not re-scanned: a document with $signs stays as it is.
    assert prompt.render(a="$b", b="x", c="y")[0]["content"] == "A is $b, costs $5."
    with pytest.raises(ConfigError, match=r"p\.user\.md: no value given for variable \$c"):
        prompt.render(a="1", b="2")
    with pytest.raises(ConfigError, match=r"variable \$zzz is not declared"):
        prompt.render(a="1", b="2", c="3", zzz="4")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no header $a\n", "first line must declare variables"),
        ("<!-- variables: a -->\nuses $b\n", r"uses \$b but does not declare it"),
        ("<!-- variables: a, b -->\nonly $a\n", r"declares \$b but never uses it"),
        ("<!-- variables: a -->\n$a costs 5$\n", "stray"),
        ("<!-- variables: Bad-Name -->\n$a\n", "not a valid variable name"),
    ],
)
def test_bad_prompt_files_are_refused_with_the_file_named(tmp_path, text, message):
    _write(tmp_path, "bad.system.md", text)
    with pytest.raises(ConfigError, match=message) as info:
        load_prompt("bad", tmp_path)
    assert "bad.system.md" in str(info.value) or "variables" in str(info.value)


def test_missing_prompt_and_sha_changes_with_the_text(tmp_path):
    with pytest.raises(ConfigError, match="no prompt files named nope"):
        load_prompt("nope", tmp_path)
    _write(tmp_path, "p.system.md", "<!-- variables: -->\nHello.\n")
    first = load_prompt("p", tmp_path).sha256
    assert load_prompt("p", tmp_path).sha256 == first
    _write(tmp_path, "p.system.md", "<!-- variables: -->\nHello!\n")
    assert load_prompt("p", tmp_path).sha256 != first
    assert load_prompt("p", tmp_path).render() == [{"role": "system", "content": "Hello!"}]
