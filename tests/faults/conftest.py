"""Fixtures of the fault tests: the API corpus and the loopback LLM stub (tests/http/corpus.py)."""

from tests.http.corpus import corpus, make_client, openai_stub  # noqa: F401
