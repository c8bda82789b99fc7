"""The one exception tree of homerag, each error with a stable code and an HTTP status.

    HomeragError (500)
    ├── ConfigError (500)               bad or missing settings
    ├── DatabaseError (503)             cannot reach / start / migrate the database
    │   └── DatabaseBusyError (503)     every pooled connection in use (Retry-After)
    ├── NotFoundError (404)
    ├── InvalidInputError (400)         bad query parameters, bad CLI arguments
    ├── BusyError (409)                 another process holds the source's lock
    ├── OverloadedError (503)           too much at once; try again after `retry_after` s
    │   └── LLMBusyError (503)          every language-model slot taken and the queue full
    ├── UpstreamError (502)
    │   ├── EmbedderUnavailableError (503)
    │   ├── LLMUnavailableError (503)
    │   └── LLMTimeoutError (504)
    └── IngestError (422)               one item failed; the run goes on
        ├── UnsupportedFormatError
        ├── EmptyDocumentError
        ├── EncryptedDocumentError
        ├── CorruptDocumentError
        ├── DecodeError
        ├── TooLargeError
        │   └── ExpansionLimitError     unpacks past a limit of ingest/limits.py (zip bomb, ...)
        ├── NestingLimitError           nested deeper than HOMERAG_MAX_NESTING (MIME parts)
        └── DuplicateItemError          same message already indexed (mail Message-ID dedup)

Messages are one plain sentence naming the offending file, field or value. Edges translate them
once: the CLI prints `error: <message>` and exits 1; the API answers a JSON problem detail.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    internal = "internal"
    config = "config"
    database = "database"
    not_found = "not_found"
    invalid_input = "invalid_input"
    busy = "busy"
    upstream = "upstream"
    embedder_unavailable = "embedder_unavailable"
    llm_unavailable = "llm_unavailable"
    llm_timeout = "llm_timeout"
    ingest_failed = "ingest_failed"
    unsupported_format = "unsupported_format"
    empty = "empty"
    encrypted = "encrypted"
    corrupt = "corrupt"
    undecodable = "undecodable"
    too_large = "too_large"
    unreadable = "unreadable"
    disk_full = "disk_full"  # nothing more can be stored until there is room: the run stops
    duplicate = "duplicate"
    # Load shedding (503 + Retry-After): the request may succeed unchanged a little later.
    overloaded = "overloaded"
    llm_busy = "llm_busy"
    database_busy = "database_busy"
    # Bounds on expansion (ingest/limits.py): each breach names the limit and its setting.
    unpack_limit = "unpack_limit"  # unpacked size or compression ratio of an archive or message
    too_many_parts = "too_many_parts"  # members of a zip, parts or attachments of a message
    too_deep = "too_deep"  # MIME parts or attached messages nested past the limit


class HomeragError(Exception):
    """Base class: `code` for machines, `str(exc)` (one sentence) for people."""

    code: ErrorCode = ErrorCode.internal
    status: int = 500
    # A transient failure (an upstream down) is retried on the next sync even if the item did
    # not change; a permanent one (a corrupt file) is retried only when the item changes.
    transient: bool = False

    def __init__(self, message: str, *, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class ConfigError(HomeragError):
    code = ErrorCode.config


class DatabaseError(HomeragError):
    code = ErrorCode.database
    status = 503
    transient = True


class DatabaseBusyError(DatabaseError):
    """Every pooled connection stayed in use past the pool's wait (load, not an outage)."""

    code = ErrorCode.database_busy

    def __init__(self, message: str, *, retry_after: int = 2) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotFoundError(HomeragError):
    code = ErrorCode.not_found
    status = 404


class InvalidInputError(HomeragError):
    code = ErrorCode.invalid_input
    status = 400


class BusyError(HomeragError):
    code = ErrorCode.busy
    status = 409
    transient = True


class OverloadedError(HomeragError):
    """Too much at once: refused early (HTTP 503 with `Retry-After: retry_after`)."""

    code = ErrorCode.overloaded
    status = 503
    transient = True

    def __init__(self, message: str, *, retry_after: int = 5,
                 code: ErrorCode | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class LLMBusyError(OverloadedError):
    """The language model's slots are all taken and its queue is full (or the wait ran out).

    Not an UpstreamError: an answer must not quietly fall back to retrieval-only because other
    people are asking; the caller is told to come back."""

    code = ErrorCode.llm_busy


class UpstreamError(HomeragError):
    code = ErrorCode.upstream
    status = 502
    transient = True


class EmbedderUnavailableError(UpstreamError):
    code = ErrorCode.embedder_unavailable
    status = 503


class LLMUnavailableError(UpstreamError):
    code = ErrorCode.llm_unavailable
    status = 503


class LLMTimeoutError(UpstreamError):
    code = ErrorCode.llm_timeout
    status = 504


class IngestError(HomeragError):
    code = ErrorCode.ingest_failed
    status = 422


class UnsupportedFormatError(IngestError):
    code = ErrorCode.unsupported_format


class EmptyDocumentError(IngestError):
    code = ErrorCode.empty


class EncryptedDocumentError(IngestError):
    code = ErrorCode.encrypted


class CorruptDocumentError(IngestError):
    code = ErrorCode.corrupt


class DecodeError(IngestError):
    code = ErrorCode.undecodable


class TooLargeError(IngestError):
    code = ErrorCode.too_large


class DuplicateItemError(IngestError):
    code = ErrorCode.duplicate


class ExpansionLimitError(TooLargeError):
    """The item would unpack past a limit (size, ratio, parts); the message names the setting."""

    code = ErrorCode.unpack_limit


class NestingLimitError(IngestError):
    code = ErrorCode.too_deep
