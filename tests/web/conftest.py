"""Fixtures for the web tests: the API tests' corpus, apps and stub LLM."""

from tests.api.corpus import client, corpus, make_client, openai_stub  # noqa: F401
