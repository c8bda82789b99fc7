"""Prompt files: `prompts/<name>.<role>.md` with `$variables` declared on their first line (reads files).

    <!-- variables: question, context -->
    Question: $question ...

The header lists every variable the file uses; loading checks the two agree, and rendering fails on
a missing or undeclared variable. `$$` is a literal dollar sign. `Prompt.sha256` (over all role
files of the name) is what the answer log stores.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from app.core.errors import ConfigError

ROLES = ("system", "user", "assistant")
HEADER_RE = re.compile(r"\A<!--\s*variables:\s*(?P<names>[^>]*?)\s*-->[ \t]*\r?\n")
NAME_RE = re.compile(r"[a-z_][a-z0-9_]*\Z")


def default_prompts_dir() -> Path:
    """The bundled prompt files (the repository's `prompts/`, or the wheel's copy)."""
    from app.core.resources import prompts_dir

    return prompts_dir()


@dataclass(frozen=True, slots=True)
class PromptFile:
    """One role's template, its declared variables and its file."""

    role: str
    path: Path
    template: Template
    variables: frozenset[str]
    raw: str

    def render(self, values: dict[str, Any]) -> str:
        missing = sorted(self.variables - values.keys())
        if missing:
            raise ConfigError(f"{self.path}: no value given for variable ${missing[0]}")
        return self.template.substitute({k: str(values[k]) for k in self.variables})


@dataclass(frozen=True, slots=True)
class Prompt:
    """All role files of one prompt name, in role order (system, user, assistant)."""

    name: str
    files: tuple[PromptFile, ...]
    sha256: str

    @property
    def variables(self) -> frozenset[str]:
        return frozenset().union(*(f.variables for f in self.files))

    def render(self, **values: Any) -> list[dict[str, str]]:
        """Chat messages `[{"role", "content"}]`; every declared variable must be given, no others."""
        extra = sorted(values.keys() - self.variables)
        if extra:
            raise ConfigError(
                f"prompt {self.name!r}: variable ${extra[0]} is not declared in any of its files"
            )
        return [{"role": f.role, "content": f.render(values).strip()} for f in self.files]


def parse_prompt_file(path: Path, role: str) -> PromptFile:
    """Read and check one file: header present, names valid, header == variables used."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read prompt file ({exc.__class__.__name__})") from exc
    m = HEADER_RE.match(raw)
    if not m:
        raise ConfigError(f"{path}: first line must declare variables, e.g. <!-- variables: question -->")
    declared = {n.strip() for n in m.group("names").split(",") if n.strip()}
    bad = sorted(n for n in declared if not NAME_RE.match(n))
    if bad:
        raise ConfigError(f"{path}: {bad[0]!r} is not a valid variable name")
    template = Template(raw[m.end() :])
    if not template.is_valid():
        raise ConfigError(f"{path}: stray '$' in prompt text (write $$ for a dollar sign)")
    used = set(template.get_identifiers())
    if used - declared:
        raise ConfigError(f"{path}: uses ${sorted(used - declared)[0]} but does not declare it")
    if declared - used:
        raise ConfigError(f"{path}: declares ${sorted(declared - used)[0]} but never uses it")
    return PromptFile(role=role, path=path, template=template, variables=frozenset(declared), raw=raw)


def load_prompt(name: str, prompts_dir: Path | None = None) -> Prompt:
    """Load `<name>.<role>.md` files from `prompts_dir` (default: the bundled folder)."""
    folder = prompts_dir or default_prompts_dir()
    files = [
        parse_prompt_file(folder / f"{name}.{role}.md", role)
        for role in ROLES
        if (folder / f"{name}.{role}.md").is_file()
    ]
    if not files:
        raise ConfigError(f"{folder}: no prompt files named {name}.<system|user>.md")
    digest = hashlib.sha256()
    for f in files:
        digest.update(f"{f.role}\0".encode())
        digest.update(f.raw.encode("utf-8"))
        digest.update(b"\0")
    return Prompt(name=name, files=tuple(files), sha256=digest.hexdigest())


def list_prompts(prompts_dir: Path | None = None) -> dict[str, list[str]]:
    """Prompt names in a folder with their roles, e.g. {"answer": ["system", "user"]}."""
    folder = prompts_dir or default_prompts_dir()
    out: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.md")):
        parts = path.name.split(".")
        if len(parts) == 3 and parts[1] in ROLES:
            out.setdefault(parts[0], []).append(parts[1])
    return out
