"""Fixtures for the MCP tests: the sample household indexed once per module, served apps."""

from tests.mcp.household import household, make_runtime, serve_app  # noqa: F401
