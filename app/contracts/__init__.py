"""Contracts: key-term extraction (LLM or rules), validated values with citations, deadlines."""
