"""The embedded server's buffer cache: sized from the memory homerag may use, written where
PostgreSQL reads it at start, and an ALTER SYSTEM of the user's still wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import ConfigError
from app.core.pgmemory import INCLUDE_LINE, memory_limit_mb, shared_buffers_mb, write_conf


def test_auto_is_a_quarter_of_memory_within_bounds():
    assert shared_buffers_mb("auto", memory_mb=24_000) == 6_000
    assert shared_buffers_mb("auto", memory_mb=256_000) == 8192  # the owner's rig: capped
    assert shared_buffers_mb("auto", memory_mb=300) == 128  # never below PostgreSQL's default
    assert shared_buffers_mb("off") is None


@pytest.mark.parametrize(("value", "mb"), [("4GB", 4096), ("512mb", 512), (" 1.5 GB", 1536),
                                           ("2048", 2048)])
def test_explicit_sizes(value, mb):
    assert shared_buffers_mb(value) == mb


@pytest.mark.parametrize("value", ["lots", "-1GB", "64MB", "4 GiB"])
def test_bad_sizes_are_one_line_errors_naming_the_setting(value):
    with pytest.raises(ConfigError, match="HOMERAG_PG_SHARED_BUFFERS"):
        shared_buffers_mb(value)


def test_a_containers_limit_is_lower_than_the_machines(tmp_path: Path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       65536000 kB\nMemFree: 1 kB\n")
    cgroup = tmp_path / "cg"
    cgroup.mkdir()
    assert memory_limit_mb(meminfo, cgroup) == 64_000
    (cgroup / "memory.max").write_text("max\n")  # v2, unlimited
    assert memory_limit_mb(meminfo, cgroup) == 64_000
    (cgroup / "memory.max").write_text(f"{8 * 1024 ** 3}\n")
    assert memory_limit_mb(meminfo, cgroup) == 8192
    assert shared_buffers_mb("auto", memory_mb=memory_limit_mb(meminfo, cgroup)) == 2048


def test_the_conf_is_included_once_and_rewritten(tmp_path: Path):
    (tmp_path / "postgresql.conf").write_text("max_connections = 100")
    write_conf(tmp_path, 2048)
    write_conf(tmp_path, 3000)
    main = (tmp_path / "postgresql.conf").read_text()
    assert main.count(INCLUDE_LINE) == 1 and main.startswith("max_connections = 100\n")
    assert "shared_buffers = '3000MB'" in (tmp_path / "homerag.conf").read_text()
    write_conf(tmp_path, None)
    assert "shared_buffers" not in (tmp_path / "homerag.conf").read_text()
