"""The pure answering modules import no I/O libraries; the service loads `openai` only when used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_answer_modules_import_nothing_heavy():
    code = (
        "import sys\n"
        "import app.answer.context, app.answer.citations, app.llm.thinking, app.answer.types\n"
        "import app.core.chat\n"
        "pure = [m for m in ('sqlalchemy', 'httpx', 'httpx2', 'openai', 'torch') if m in sys.modules]\n"
        "import app.answer.service, app.answer.tools, app.llm.client, app.llm.prompts\n"
        "service = [m for m in ('openai', 'torch', 'FlagEmbedding') if m in sys.modules]\n"
        "print(pure, service)\n"
    )
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo)
    assert out.stdout.strip() == "[] []"
