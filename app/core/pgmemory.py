"""The embedded PostgreSQL's buffer cache, sized from the machine's memory.

PostgreSQL's own default, 128 MB, is made to fit beside anything. A search reads index and
table pages at random (the dense graph, the postings, the chunks a filter tests); beyond the
cache each read is a copy from the kernel's page cache. At 10^6 chunks on the 2-core bench
machine (24 GB), a filtered search went from p50/p95 65/78 ms with 128 MB to 37/47 ms with
6 GB, which is what `auto` gives there (bench/README.md, "Search at scale").

`auto` is a quarter of the memory this process may use (the cgroup's limit in a container,
else the machine's), 128 MB to 8 GB, PostgreSQL's documented starting point for a server of its
own. The value goes into `homerag.conf` in the data directory, included from postgresql.conf:
read before postgresql.auto.conf, so an `ALTER SYSTEM SET shared_buffers` still wins.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from app.core.errors import ConfigError

AUTO_SHARE = 0.25
FLOOR_MB = 128
AUTO_CAP_MB = 8192
CONF_NAME = "homerag.conf"
INCLUDE_LINE = f"include_if_exists = '{CONF_NAME}'  # homerag: memory sized to the machine"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(kb|mb|gb|tb)?\s*$", re.IGNORECASE)
_UNIT_MB = {"kb": 1 / 1024, "mb": 1, "gb": 1024, "tb": 1024 * 1024}


def memory_limit_mb(meminfo: Path = Path("/proc/meminfo"),
                    cgroup: Path = Path("/sys/fs/cgroup")) -> int | None:
    """MB this process may use: the smaller of the machine's memory and its cgroup's limit
    (v2 memory.max, v1 memory.limit_in_bytes); None when neither can be read."""
    found: list[int] = []
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                found.append(int(line.split()[1]) // 1024)
                break
    except (OSError, ValueError, IndexError):
        pass
    for name in ("memory.max", "memory/memory.limit_in_bytes"):
        try:
            raw = (cgroup / name).read_text().strip()
        except OSError:
            continue
        if raw.isdigit() and int(raw) < 1 << 60:  # v1 writes ~2^63 for "no limit"
            found.append(int(raw) // (1024 * 1024))
    return min(found) if found else None


def shared_buffers_mb(setting: str, *, memory_mb: int | None = None) -> int | None:
    """The buffer cache for HOMERAG_PG_SHARED_BUFFERS: `auto`, a size (`512MB`, `4GB`; a bare
    number is MB), or `off` (None: PostgreSQL's configuration is left as it is)."""
    value = (setting or "auto").strip().lower()
    if value == "off":
        return None
    if value == "auto":
        total = memory_mb if memory_mb is not None else memory_limit_mb()
        if total is None:
            return None
        return int(min(AUTO_CAP_MB, max(FLOOR_MB, total * AUTO_SHARE)))
    m = _SIZE.match(value)
    if not m:
        raise ConfigError(f"HOMERAG_PG_SHARED_BUFFERS: {setting!r} is not 'auto', 'off' or a "
                          "size such as 512MB or 4GB")
    mb = int(float(m.group(1)) * _UNIT_MB[(m.group(2) or "mb").lower()])
    if mb < FLOOR_MB:
        raise ConfigError(f"HOMERAG_PG_SHARED_BUFFERS: {setting!r} is below {FLOOR_MB}MB")
    return mb


def write_conf(pgdata: Path, mb: int | None) -> None:
    """homerag.conf with the buffer cache (none: an empty file), and its include once in
    postgresql.conf. Files keep the data directory's owner (the server's system user when
    homerag runs as root). Takes effect when the server next starts."""
    main = pgdata / "postgresql.conf"
    if not main.exists():
        return  # not initialised: nothing reads it yet
    owner = main.stat()
    body = "# Written by homerag at each start of the embedded server (HOMERAG_PG_SHARED_BUFFERS).\n"
    if mb is not None:
        body += f"shared_buffers = '{mb}MB'\n"
    conf = pgdata / CONF_NAME
    if not conf.exists() or conf.read_text() != body:
        tmp = conf.with_name(f".{CONF_NAME}.{os.getpid()}")
        tmp.write_text(body)
        tmp.chmod(0o600)
        _same_owner(tmp, owner)
        os.replace(tmp, conf)  # another process starting the same server reads a whole file
    text = main.read_text()
    if INCLUDE_LINE not in text:
        with main.open("a") as fh:
            fh.write(("" if text.endswith("\n") else "\n") + INCLUDE_LINE + "\n")


def _same_owner(path: Path, like: os.stat_result) -> None:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.chown(path, like.st_uid, like.st_gid)
