"""File names as safe text, and file listings that stay inside their folder (disk I/O).

POSIX file names are bytes; Python keeps bytes that are not UTF-8 as lone surrogates
(`os.fsdecode`), which PostgreSQL and terminals refuse. `path_text` writes such bytes as `\\xNN`
escapes: a stable, unique, readable origin, while the item keeps its real `Path` for reading.
`regular_files` lists a tree without following symbolic links (to files or folders), so a link
cannot pull files from outside the configured folder into the index.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path


def path_text(path: str | os.PathLike[str]) -> str:
    """`path` as valid UTF-8 text: undecodable bytes of the name become `\\xNN` escapes."""
    text = os.fspath(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def regular_files(root: Path, *, keep: Callable[[str], bool] = lambda name: True) -> Iterator[Path]:
    """Regular files below `root` whose name passes `keep`, sorted by path; links (to files or
    folders), sockets and pipes are skipped, unreadable folders too."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in filenames:
            if not keep(name):
                continue
            path = Path(dirpath) / name
            try:
                if path.is_symlink() or not path.is_file():
                    continue
            except OSError:
                continue
            found.append(path)
    yield from sorted(found)
