"""The core: settings, database, errors, ORM models, shared types and the seams' Protocols.

Imports nothing else of homerag (checked by the import contracts in `.importlinter`).
"""
