"""Use cases, one function each (ask, search, sync, report, contracts, status, eval, ...).

Every entry point (CLI, HTTP API and pages, scheduler, MCP) calls these, so they behave the same
by construction. This is the only layer that reads Settings and wires parsers, hooks, the
embedder and chat clients (`runtime.Runtime`).
"""
