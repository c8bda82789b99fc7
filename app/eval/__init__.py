"""Retrieval quality: synthetic corpus with known answers, metrics, and the eval runner."""
