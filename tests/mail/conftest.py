"""Fixtures of the mail tests."""

from __future__ import annotations

import pytest

from tests.mail.mailgen import build_message


@pytest.fixture
def make_message():
    return build_message
