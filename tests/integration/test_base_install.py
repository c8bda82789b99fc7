"""Every command works on the base install (no `bge` extra), or says in one line what it needs.

The base install is simulated in a subprocess: a sitecustomize module makes torch, transformers,
FlagEmbedding and huggingface_hub unimportable, as they are without `pip install .[bge]`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

# Tier `slow`: starts servers or processes (`make test-fast` leaves it out).
pytestmark = pytest.mark.slow

# None in sys.modules: `import torch` raises ModuleNotFoundError and importlib.util.find_spec
# answers None, exactly as when the package is not installed.
BLOCKER = '''
import sys

for name in ("torch", "transformers", "FlagEmbedding", "huggingface_hub",
             "sentence_transformers"):
    sys.modules[name] = None
'''


@pytest.fixture
def base_install(tmp_path: Path, pg_url: str, clean_db) -> dict[str, str]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCKER)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMERAG_")}
    env.update(PYTHONPATH=os.pathsep.join([str(site), str(REPO)]), HOMERAG_DATABASE_URL=pg_url,
               HOMERAG_DATA_DIR=str(tmp_path / "data"), HOMERAG_EMBEDDER="auto",
               HF_HUB_OFFLINE="1")
    return env


def homerag(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_commands_run_on_the_base_install(base_install, tmp_path: Path) -> None:
    env = base_install
    probe = homerag(env, "status", "--json")
    assert probe.returncode == 0, probe.stderr
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "gym.txt").write_text("The gym membership has a notice period of three months.\n")
    (docs / "rent.txt").write_text("The monthly rent is 950 euros, due on the first.\n")
    ingest = homerag(env, "ingest", str(docs), "--json")
    assert ingest.returncode == 0, ingest.stderr
    runs = json.loads(ingest.stdout)["runs"]
    assert runs[0]["counts"]["indexed"] == 2 and "lexical-hash" in runs[0]["embedder"]
    search = homerag(env, "search", "gym notice period", "--json")
    assert search.returncode == 0 and json.loads(search.stdout)[0]["path"].endswith("gym.txt")
    ask = homerag(env, "ask", "What is the gym notice period?", "--json")
    assert ask.returncode == 0 and json.loads(ask.stdout)["mode"] == "retrieval-only"

    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "gym notice period",
                                     "expected": ["gym.txt"]}) + "\n")
    ev = homerag(env, "eval", str(questions), "--json")
    assert ev.returncode == 0, ev.stderr
    assert "Traceback" not in ev.stderr
    modes = {r["mode"]: r for r in json.loads(ev.stdout)["results"]}
    assert modes["hybrid"]["metrics"]["recall@1"] == 1.0
    # The modes that need the extra say so in one line instead of crashing.
    assert "homerag[bge]" in modes["rerank"]["error"]
    assert "\n" not in modes["rerank"]["error"]


def test_forcing_bge_m3_without_the_extra_is_one_line(base_install) -> None:
    env = {**base_install, "HOMERAG_EMBEDDER": "bge-m3"}
    done = homerag(env, "search", "anything")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "bge" in done.stderr
