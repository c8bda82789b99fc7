"""unstructured runs offline: our local spaCy loader, no model download, no telemetry."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ingest.unstructured_offline import (
    PRIVACY_ENV,
    VERB_TAGGER,
    ModelDownloadRefusedError,
    ensure_offline_unstructured,
    is_patched,
    load_local_pipeline,
)

REPO = Path(__file__).resolve().parents[2]


def test_loader_in_use_is_ours_and_download_path_is_refused():
    ensure_offline_unstructured()
    ensure_offline_unstructured()  # idempotent
    from unstructured.nlp import tokenize

    assert is_patched()
    assert tokenize._load_spacy_model is load_local_pipeline
    nlp = tokenize._get_nlp()
    assert nlp.pipe_names == ["sentencizer", VERB_TAGGER]
    assert nlp.meta["name"] == "pipeline"  # a blank pipeline, not en_core_web_sm
    with pytest.raises(ModelDownloadRefusedError):
        tokenize._install_spacy_model()


def test_text_heuristics_work_without_the_model():
    ensure_offline_unstructured()
    from unstructured.nlp.tokenize import pos_tag, sent_tokenize
    from unstructured.partition.text_type import is_possible_narrative_text, is_possible_title

    assert sent_tokenize("First sentence here. Second one follows.") == [
        "First sentence here.", "Second one follows."]
    assert ("pays", "VBZ") in pos_tag("The tenant pays the rent.")
    # One-sentence paragraphs need a verb to count as narrative (else they become titles).
    assert is_possible_narrative_text("The tenant pays the rent on time.")
    assert is_possible_narrative_text("We agreed to extend the lease.")
    assert not is_possible_narrative_text("Mutual Non-Disclosure Agreement")
    assert is_possible_title("Mutual Non-Disclosure Agreement")


def test_partition_text_classifies_with_the_local_pipeline():
    ensure_offline_unstructured()
    from unstructured.partition.text import partition_text

    elements = partition_text(text="LEASE AGREEMENT\n\nThe tenant shall pay the rent monthly.\n")
    assert [(type(e).__name__, e.text) for e in elements] == [
        ("Title", "LEASE AGREEMENT"), ("NarrativeText", "The tenant shall pay the rent monthly.")]


def test_privacy_environment_is_forced(monkeypatch):
    for key in PRIVACY_ENV:
        monkeypatch.setenv(key, "")
    ensure_offline_unstructured()
    for key, value in PRIVACY_ENV.items():
        assert os.environ[key] == value


def test_fresh_process_makes_no_connection_and_loads_no_model():
    """Without the test suite's env vars: our function alone keeps unstructured quiet."""
    script = textwrap.dedent(
        """
        import socket, sys, urllib.request
        attempts = []
        def refuse(self, address, *a):
            attempts.append(address)
            raise OSError("blocked by test")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        real_getaddrinfo = socket.getaddrinfo
        def no_dns(host, *a, **k):
            attempts.append(host)
            raise OSError("blocked by test")
        socket.getaddrinfo = no_dns
        from ingest.unstructured_offline import ensure_offline_unstructured
        ensure_offline_unstructured()
        from unstructured.partition.text import partition_text
        els = partition_text(text="Heading\\n\\nThe landlord receives the deposit. It is kept safe.")
        import spacy.util
        assert not spacy.util.is_package("en_core_web_sm")
        assert "en_core_web_sm" not in sys.modules
        print("ATTEMPTS", attempts)
        print("ELEMENTS", [type(e).__name__ for e in els])
        """
    )
    env = {k: v for k, v in os.environ.items()
           if k not in PRIVACY_ENV and not k.startswith(("HF_", "TRANSFORMERS_"))}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, cwd=REPO, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ATTEMPTS []" in result.stdout
    assert "ELEMENTS ['Title', 'NarrativeText']" in result.stdout
    assert "Thank you for using Unstructured" not in result.stdout + result.stderr
