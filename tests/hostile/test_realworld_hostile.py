"""The odd and broken real files in /work/shared/realworld/ (emails/, bad_inputs/, statements/)
through the real pipeline: each is indexed or one line naming it, never a crash or a traceback.

The folder is not in a fresh clone (see its README for the sources and licences): these tests
skip there; the generated files of the other tests in this folder always run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest.sources.folder import FolderSource
from ingest.sources.maildir import MaildirSource
from ingest.sources.mbox import MboxSource
from tests.hostile.support import HEAP_LIMIT, Runner, assert_quiet, bounded_memory

REALWORLD = Path("/work/shared/realworld")
pytestmark = pytest.mark.skipif(not (REALWORLD / "emails").is_dir(),
                                reason="no /work/shared/realworld on this machine")


@pytest.fixture
def runner(clean_db) -> Runner:
    return Runner(clean_db)


def _check(report, capfd, caplog) -> None:
    assert report.status == "completed", report.error
    for problem in report.problems:
        assert problem.code != "internal", problem.message  # a parser crash
        assert problem.message and "\n" not in problem.message
        assert problem.origin in problem.message
    assert_quiet(capfd, caplog)


def test_realworld_bad_and_odd_files(runner, tmp_path, capfd, caplog):
    root = tmp_path / "realworld"
    root.mkdir()
    for folder in ("emails", "bad_inputs", "statements"):
        for path in sorted((REALWORLD / folder).glob("*")):
            if path.is_file() and path.suffix != ".mbox":
                shutil.copy(path, root / path.name)
    (root / "zz-good.txt").write_text("After the real-world files: the gutter was cleaned.")
    with bounded_memory() as memory:
        report = runner.run(FolderSource("realworld", root))
    _check(report, capfd, caplog)
    total = len(list(root.iterdir()))
    assert report.counts["indexed"] + report.counts["failed"] + report.counts["skipped"] == total
    assert report.counts["indexed"] >= total - 6  # mostly readable; the rest one line each
    assert str(root / "zz-good.txt") in runner.documents()
    # February 30 is a date banks really write: indexed, with the clamp flagged.
    feb30 = runner.documents().get(str(root / "upstream_mt940_february_30.sta"))
    if (REALWORLD / "bad_inputs" / "upstream_mt940_february_30.sta").exists():
        assert feb30 is not None and feb30.kind == "statement"
    assert memory.heap_peak < 4 * HEAP_LIMIT, memory


def test_realworld_mail_stores(runner, capfd, caplog):
    mbox = REALWORLD / "emails" / "derived_six_messages.mbox"
    if mbox.exists():
        report = runner.run(MboxSource("mbox", mbox))
        _check(report, capfd, caplog)
        assert report.counts["indexed"] + report.counts["skipped"] == 6
    maildir = REALWORLD / "emails" / "maildir_sample"
    if maildir.is_dir():
        report = runner.run(MaildirSource("maildir", maildir))
        _check(report, capfd, caplog)
        assert report.counts["indexed"] + report.counts["skipped"] == 4
