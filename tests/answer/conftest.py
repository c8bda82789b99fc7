"""Fixtures for the answering tests: the loopback OpenAI-compatible stub server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.openai_stub import OpenAIStub


@pytest.fixture
def openai_stub() -> Iterator[OpenAIStub]:
    """A started `OpenAIStub` on 127.0.0.1 (stopped after the test)."""
    with OpenAIStub() as stub:
        yield stub
