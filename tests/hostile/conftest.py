"""Fixtures for the hostile-input suite: the API corpus and apps (tests/http/corpus.py)."""

from tests.http.corpus import client, corpus, make_client, openai_stub  # noqa: F401
