"""What a full disk looks like, in one line: "the disk holding <dir> is full".

Failures surface in many shapes (an OSError with ENOSPC, PostgreSQL's SQLSTATE 53100, pg_ctl's
exit status with the reason only in the server log); `disk_full` recognises them all so every
edge can say the same sentence instead of a generic error.
"""

from __future__ import annotations

import errno
from contextlib import suppress
from pathlib import Path

NO_SPACE = "No space left on device"


def disk_full(path: Path, exc: BaseException | None = None, *,
              log_file: Path | None = None, log_from: int = 0, output: str = "") -> str | None:
    """"the disk holding <dir> is full" when `exc` (or its causes, or what `log_file` gained
    after offset `log_from`, or a command's `output`) says so (ENOSPC, "No space left on
    device", SQLSTATE 53100); else None. <dir>: `path` or its nearest existing parent."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__ or getattr(exc, "orig", None)
    said = any(getattr(e, "errno", None) == errno.ENOSPC
               or getattr(e, "sqlstate", None) == "53100"
               or NO_SPACE in str(e)
               or NO_SPACE in str(getattr(e, "stderr", "") or "")
               for e in seen) or NO_SPACE in output
    if not said and log_file is not None:
        with suppress(OSError), open(log_file, "rb") as f:
            f.seek(max(log_from, f.seek(0, 2) - 65536))
            said = NO_SPACE.encode() in f.read()
    if not said:
        return None
    where = path
    while not where.exists() and where != where.parent:
        where = where.parent
    # No free-space figure: what failed has often been removed again (initdb cleans up).
    return f"the disk holding {where} is full"
