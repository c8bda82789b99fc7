"""The CLI's log lines on stderr: a failure is one line, so psycopg's notes about errors it
ignored while raising the real one stay out of it (unless -v)."""

from __future__ import annotations

import logging

import pytest

from app.cli import configure_logging


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _emit_psycopg_warnings() -> None:
    log = logging.getLogger("psycopg")
    log.warning("error ignored terminating %r: %s", "<psycopg.Pipeline [BAD]>",
                "the connection is lost")
    log.warning("some other driver warning")


def test_psycopg_ignored_error_notes_are_not_printed(restore_logging, capsys):
    configure_logging(verbose=0, quiet=False, command="ingest")
    _emit_psycopg_warnings()
    err = capsys.readouterr().err
    assert "error ignored" not in err
    assert "some other driver warning" in err


def test_verbose_runs_keep_them(restore_logging, capsys):
    configure_logging(verbose=1, quiet=False, command="ingest")
    _emit_psycopg_warnings()
    assert "error ignored terminating" in capsys.readouterr().err
