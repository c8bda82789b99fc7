"""Fixtures for the metrics tests: the API tests' corpus, apps around it and the stub LLM."""

from tests.http.corpus import client, corpus, make_client, openai_stub  # noqa: F401
