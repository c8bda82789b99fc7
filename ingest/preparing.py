"""Preparing one item for storage: detect, parse, clean and chunk it and its attachments (pure
but for the parsers' own reading and the originals' copy on disk).

This is what a parse worker (ingest/workers.py) does with each job, and what `Pipeline(workers=0)`
does in its own process. Every outcome is a value: a `Prepared` document tree, or a
`ParseFailure` with a one-line reason naming the item (and, for a crash, a traceback for the debug
log), so nothing a parser does can escape as an exception into the pool or the pipeline.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from app.core.errors import ErrorCode, HomeragError, IngestError
from app.core.protocols import Parser
from app.core.types import ParsedDocument, ParseInput, RawItem, sha256_hex

log = logging.getLogger(__name__)

MAX_CHILD_DEPTH = 3  # attachments of attachments of attachments, no deeper


# -- what is parsed, and what comes back ---------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ParseSettings:
    """Everything a worker needs besides the item; fixed for a run, inherited at fork."""

    parsers: tuple[Parser, ...]
    chunker: Callable[..., Any]
    chunk_tokens: int = 512
    chunk_overlap: int = 64
    originals_dir: Path | None = None


@dataclass
class Prepared:
    """A parsed, chunked item (and its parsed attachments) waiting for embeddings and storage."""

    item: RawItem
    sha256: str
    size: int
    media_type: str
    parser: str  # "name/version", stored with the document
    parsed: ParsedDocument
    content: str
    chunks: list[Any]
    started: float = 0.0  # perf_counter() in the main process when the item was taken up
    children: list[Prepared] = field(default_factory=list)
    child_failures: list[tuple[str, str, str]] = field(default_factory=list)  # origin, code, msg
    embeddings: list[Any] = field(default_factory=list)
    blob_path: str | None = None

    def all_docs(self) -> list[Prepared]:
        out = [self]
        for child in self.children:
            out.extend(child.all_docs())
        return out

    def chunk_total(self) -> int:
        return sum(len(d.chunks) for d in self.all_docs())


@dataclass(frozen=True, slots=True)
class ParseFailure:
    """Why an item could not be prepared: one line naming it; `detail` (a traceback) for debug."""

    code: str
    message: str
    transient: bool = False
    detail: str | None = None
    fatal: bool = False  # the worker that produced it should not go on (its heap ran out)


KeepOriginal = Callable[[str, bytes], str]  # (sha256, bytes) -> blob path; may write later


def prepare(item: RawItem, data: bytes, sha: str, settings: ParseSettings,
            depth: int = 0, *, keep: KeepOriginal | None = None) -> Prepared:
    """Detect, parse, clean and chunk one item, then its attachments (bounded depth).

    Raises the parser's IngestError for the item itself; an attachment's failure is recorded in
    `child_failures` and the item goes on without it.
    """
    from ingest.mediatypes import detect_media_type
    from ingest.parsers import pick_parser

    media_type = detect_media_type(item.name, data[:4096], item.media_type)
    inp = ParseInput(item=item, data=data, media_type=media_type, sha256=sha)
    parser = pick_parser(inp, settings.parsers)
    parsed = clean(parser.parse(inp))
    if "message" in item.hints and "message" not in parsed.metadata:
        parsed = replace(parsed, metadata={**parsed.metadata, "message": item.hints["message"]})
    chunked = settings.chunker(parsed, max_tokens=settings.chunk_tokens,
                               overlap=settings.chunk_overlap)
    blob = None
    if settings.originals_dir is not None:
        if keep is None:
            from ingest.originals import store_original

            blob = store_original(settings.originals_dir, sha, data)
        else:
            blob = keep(sha, data)
    children = parsed.children
    # The attachments' bytes were read; their parsed results travel back instead.
    prepared = Prepared(item=item, sha256=sha, size=len(data), media_type=media_type,
                        parser=f"{parser.name}/{parser.version}",
                        parsed=replace(parsed, children=()) if children else parsed,
                        content=chunked.content, chunks=list(chunked.chunks), blob_path=blob)
    if depth >= MAX_CHILD_DEPTH:
        return prepared
    for child in children:
        try:
            child_data = child.read_bytes()
            prepared.children.append(prepare(child, child_data, sha256_hex(child_data), settings,
                                             depth + 1, keep=keep))
        except IngestError as exc:
            prepared.child_failures.append((child.origin, str(exc.code), str(exc)))
        except Exception as exc:  # a parser bug in an attachment: the message goes on
            log.debug("parser crashed on %s", child.origin, exc_info=True)
            prepared.child_failures.append((child.origin, ErrorCode.internal.value,
                                            crash_message(child.origin, exc)))
    return prepared


def clean(parsed: ParsedDocument) -> ParsedDocument:
    """PostgreSQL text cannot hold NUL; some PDFs and mails contain it."""
    if not any("\x00" in b.text for b in parsed.blocks):
        return parsed
    blocks = [replace(b, text=b.text.replace("\x00", "")) if "\x00" in b.text else b
              for b in parsed.blocks]
    return replace(parsed, blocks=blocks)


def first_line(exc: object) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def original_not_kept(origin: str, originals_dir: Path | None, exc: OSError) -> ParseFailure:
    """The copy of the original could not be written: a full disk stops the run (every next
    file would fail the same way), anything else fails this item and is retried next time."""
    from app.core.disk import disk_full

    full = disk_full(originals_dir, exc) if originals_dir is not None else None
    if full is not None:
        return ParseFailure(ErrorCode.disk_full.value, full, transient=True)
    return ParseFailure(ErrorCode.unreadable.value,
                        f"{origin}: could not keep a copy of the original "
                        f"({exc.strerror or exc})", transient=True)


def crash_message(origin: str, exc: BaseException) -> str:
    return f"{origin}: parser crashed ({type(exc).__name__}: {first_line(exc)[:200]})"


def _item_data(item: RawItem) -> bytes:
    try:
        return item.read_bytes()
    except OSError as exc:
        raise IngestError(f"{item.origin}: cannot read ({exc.strerror or exc})",
                          code=ErrorCode.unreadable) from exc


def run_job(item: RawItem, sha: str | None, settings: ParseSettings,
            memory_mb: int | None, *, keep: KeepOriginal | None = None) -> Prepared | ParseFailure:
    """One job, every outcome as a value (this is what a worker does with each item).

    `keep` stores the copies of the originals (default: written here and now)."""
    try:
        data = _item_data(item)
        # The main process hashed the bytes it read; a file rewritten since is parsed as it is
        # now, under its new hash.
        if sha is None or item.data is None:
            sha = sha256_hex(data)
        return prepare(item, data, sha, settings, keep=keep)
    except HomeragError as exc:
        message = str(exc) if item.origin in str(exc) else f"{item.origin}: {exc}"
        return ParseFailure(str(exc.code), message, transient=exc.transient)
    except MemoryError:
        return memory_failure(item.origin, memory_mb)
    except OSError as exc:  # keeping the copy of the original (the only write here)
        return original_not_kept(item.origin, settings.originals_dir, exc)
    except RecursionError:
        return ParseFailure(ErrorCode.corrupt.value,
                            f"{item.origin}: nested too deeply to parse")
    except Exception as exc:
        return ParseFailure(ErrorCode.internal.value, crash_message(item.origin, exc),
                            detail=traceback.format_exc())


MB = 1024 * 1024


def memory_failure(origin: str, memory_mb: int | None) -> ParseFailure:
    limit = f"{memory_mb} MB" if memory_mb else "the memory available"
    return ParseFailure(ErrorCode.too_large.value,
                        f"{origin}: parsing needed more than {limit} "
                        "(limit HOMERAG_PARSE_MEMORY_MB)", fatal=True)


def timeout_failure(origin: str, seconds: float) -> ParseFailure:
    return ParseFailure(ErrorCode.too_large.value,
                        f"{origin}: parsing took longer than {seconds:g} s "
                        "(limit HOMERAG_PARSE_TIMEOUT_S)")
