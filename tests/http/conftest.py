"""Fixtures for the API tests: one ingested corpus per module, apps built around it, the stub LLM."""

from tests.http.corpus import client, corpus, make_client, openai_stub  # noqa: F401
from tests.http.household import hh_client, household  # noqa: F401
from tests.support.browser import browser  # noqa: F401 - headless Chromium, one per module
